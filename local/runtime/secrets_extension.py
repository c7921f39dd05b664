"""The AWS Parameters and Secrets Lambda Extension, as the local runtime serves it: one HTTP
server for every function whose template attaches the extension's layer, answering
`GET /secretsmanager/get?secretId=...` from moto as the extension answers from Secrets Manager.

Each such function's environment carries a session token of its own; the server finds the
caller's role by it (the header `X-Aws-Parameters-Secrets-Token` must hold it, as on AWS) and
refuses a secret that role may not read, as the extension relays Secrets Manager's refusal.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# The layer's name in every region's ARN (the template maps the region to its ARN).
LAYER_NAME = ":layer:AWS-Parameters-and-Secrets-Lambda-Extension"


def is_extension_layer(arn: str) -> bool:
    """Whether a layer ARN is the AWS-published Parameters and Secrets extension."""
    return LAYER_NAME in str(arn)


class SecretsExtension:
    """The server; `session_token(function_name)` registers a caller, whose role `role_of`
    gives (None: its calls are not checked)."""

    def __init__(self, secretsmanager: Any, role_of: Callable[[str], Any]) -> None:
        self.secretsmanager = secretsmanager
        self.role_of = role_of
        self.callers: dict[str, str] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, name="secrets-extension",
                         daemon=True).start()

    def session_token(self, function_name: str) -> str:
        """The AWS_SESSION_TOKEN the function gets; its requests are checked against its role."""
        token = f"local-session-{function_name}"
        self.callers[token] = function_name
        return token

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, token: str | None, path: str) -> tuple[int, dict[str, Any] | str]:
        """The status and body the extension gives for a request."""
        if token not in self.callers:
            return 401, "missing or invalid X-Aws-Parameters-Secrets-Token header"
        url = urlsplit(path)
        secret_id = parse_qs(url.query).get("secretId", [""])[0]
        if url.path != "/secretsmanager/get" or not secret_id:
            return 400, "expected GET /secretsmanager/get?secretId=..."
        role = self.role_of(self.callers[token])
        if role is not None:
            refusal = role.refusal("secretsmanager", "GetSecretValue", {"SecretId": secret_id})
            if refusal:
                return 400, f"AccessDeniedException: {refusal}"
        try:
            found = self.secretsmanager.get_secret_value(SecretId=secret_id)
        except self.secretsmanager.exceptions.ResourceNotFoundException as e:
            return 400, f"ResourceNotFoundException: {e}"
        found.pop("ResponseMetadata", None)
        return 200, {k: v.isoformat() if hasattr(v, "isoformat") else v
                     for k, v in found.items()}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        extension = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = extension.answer(
                    self.headers.get("X-Aws-Parameters-Secrets-Token"), self.path)
                data = (json.dumps(body) if isinstance(body, dict) else body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if status == 200
                                 else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler
