"""A webhook receiver for tests: an http.server on 127.0.0.1 that records what it is sent."""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Received:
    """One request as the receiver saw it, with the status it answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    """Answers `failures` requests with 500 (forever when `always_fail`), then 200."""

    failures: int = 0
    always_fail: bool = False
    requests: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    failing = receiver.always_fail or receiver.failures > 0
                    if receiver.failures > 0:
                        receiver.failures -= 1
                    status = 500 if failing else 200
                    receiver.requests.append(Received(
                        self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                        status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]
        return self

    def url(self, host: str = "127.0.0.1", path: str = "/hook") -> str:
        """The receiver's URL through `host` (a name mapped in the stack's hosts file, say)."""
        return f"http://{host}:{self.port}{path}"

    def accepted(self) -> list[Received]:
        """The requests answered with 200."""
        with self._lock:
            return [r for r in self.requests if r.answered == 200]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
