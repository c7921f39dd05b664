"""Secrets through the AWS Parameters and Secrets Lambda Extension's local HTTP endpoint: no
boto3 or botocore in the process (importing boto3 and making a Secrets Manager client is about
150 ms of a cold start); the extension fetches from Secrets Manager with the function's role.

The standard library only: the authorizer, which has neither boto3 nor pydantic, reads its
secrets through this module too.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from urllib.parse import quote

# As common.core.secrets: a rotated secret is seen within five minutes.
_MAX_AGE = 300.0
_cache: dict[str, tuple[float, str]] = {}


class SecretUnavailable(Exception):
    """The extension could not give the secret (not found, not allowed, or not running)."""


def present() -> bool:
    """Whether this function has the extension: the template sets its port variable where it
    adds the extension's layer (every function; the local runtime serves the same endpoint)."""
    return "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT" in os.environ


def secret_text(secret_id: str) -> str:
    """The secret's string value, cached in this environment for five minutes."""
    cached = _cache.get(secret_id)
    if cached and time.monotonic() - cached[0] < _MAX_AGE:
        return cached[1]
    value = _fetch(secret_id)
    _cache[secret_id] = (time.monotonic(), value)
    return value


def _fetch(secret_id: str) -> str:
    port = int(os.environ.get("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "2773"))
    connection = http.client.HTTPConnection("localhost", port, timeout=5)
    try:
        connection.request("GET", f"/secretsmanager/get?secretId={quote(secret_id, safe='')}",
                           headers={"X-Aws-Parameters-Secrets-Token":
                                    os.environ.get("AWS_SESSION_TOKEN", "")})
        response = connection.getresponse()
        body = response.read()
    except OSError as e:
        raise SecretUnavailable(f"the secrets extension did not answer: {e}") from e
    finally:
        connection.close()
    if response.status != 200:
        # The ARN and the extension's reason stay in the log, never in an answer.
        raise SecretUnavailable(f"the secrets extension answered {response.status}: "
                                f"{body[:300].decode('utf-8', 'replace')}")
    return str(json.loads(body)["SecretString"])
