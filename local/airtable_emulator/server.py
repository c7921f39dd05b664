"""HTTP front end: auth, rate limiting, request log and JSON responses around `api.dispatch`."""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .api import Request, base_id_of, dispatch, is_mutation
from .demo import seed_demo_base
from .errors import ApiError, invalid_request
from .ratelimit import RateLimiter
from .store import Store

DEFAULT_TOKENS = {"patEMULATOR": "usrEMULATOR000001"}
UNAUTHORIZED = ApiError(401, "AUTHENTICATION_REQUIRED", "Authentication required")
RATE_LIMITED = ApiError(429, "RATE_LIMIT_REACHED", "Rate limit exceeded. Please try again later")

RequestLogEntry = tuple[float, str, str, str | None, int]


class AirtableEmulator:
    """An in-process Airtable Web API server that unmodified pyairtable can talk to."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 tokens: dict[str, str] | None = None, rate_limit: int | None = 5,
                 lockout_seconds: float = 30.0,
                 persist_path: str | os.PathLike[str] | None = None) -> None:
        self.host = host
        self.port = port
        self.tokens = dict(DEFAULT_TOKENS if tokens is None else tokens)
        self.rate_limit = rate_limit
        self.lockout_seconds = lockout_seconds
        self.store = Store(persist_path)
        self.limiter = RateLimiter()
        self._log: list[RequestLogEntry] = []
        # The Airtable user (by token) behind each logged request, in the same order.
        self._callers: list[str | None] = []
        self._log_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._loaded = False

    def _ensure_loaded(self) -> None:
        """Load the persist file once, before the first start or direct write."""
        if not self._loaded:
            self._loaded = True
            self.store.load()

    @property
    def url(self) -> str:
        """Base URL to pass as pyairtable's `endpoint_url`."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> AirtableEmulator:
        """Load persisted data, then start serving on a background thread; returns self."""
        self._ensure_loaded()
        handler = type("BoundHandler", (EmulatorHandler,), {"emulator": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        # A short poll interval keeps stop() fast (shutdown waits for the next poll).
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="airtable-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> AirtableEmulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def create_base(self, name: str, tables: list[dict[str, Any]]) -> str:
        """Create a base directly (no HTTP, no rate limit) and return its id."""
        self._ensure_loaded()
        with self.store.lock:
            base = self.store.create_base(name, tables)
            self.store.save()
        return base.id

    def seed_demo(self) -> str:
        """Create (once) the "Demo CRM" base and return its id."""
        self._ensure_loaded()
        with self.store.lock:
            base_id = seed_demo_base(self.store)
            self.store.save()
        return base_id

    @property
    def requests(self) -> list[RequestLogEntry]:
        """Snapshot of (monotonic time, method, path, base id, status) for every request."""
        with self._log_lock:
            return list(self._log)

    def requests_for(self, base_id: str) -> list[RequestLogEntry]:
        """The logged requests addressed to one base."""
        return [entry for entry in self.requests if entry[3] == base_id]

    def requests_of(self, user_id: str) -> list[RequestLogEntry]:
        """The logged requests made with a token of this Airtable user."""
        with self._log_lock:
            return [e for e, caller in zip(self._log, self._callers, strict=True)
                    if caller == user_id]

    def reset_requests(self) -> None:
        """Clear the request log."""
        with self._log_lock:
            self._log.clear()
            self._callers.clear()

    def reset_rate_limits(self) -> None:
        """Forget rate-limit history and lift any lock-outs."""
        self.limiter.reset()

    def record_request(self, entry: RequestLogEntry, caller: str | None = None) -> None:
        """Append an entry to the request log (`caller`: the token's Airtable user)."""
        with self._log_lock:
            self._log.append(entry)
            self._callers.append(caller)

    def respond(self, method: str, raw_path: str, authorization: str,
                raw_body: bytes) -> tuple[int, dict[str, Any]]:
        """Turn one HTTP request into (status, JSON body); never raises ApiError."""
        split = urlsplit(raw_path)
        # Decode each segment only after splitting so `%2F` in a table name stays inside it.
        segments = [unquote(part) for part in split.path.split("/")[1:]]
        request = Request(method, segments, parse_qsl(split.query, keep_blank_values=True))
        try:
            token = authorization[7:] if authorization.startswith("Bearer ") else ""
            if token not in self.tokens:
                raise UNAUTHORIZED
            request.user_id = self.tokens[token]
            base_id = base_id_of(segments)
            if base_id is not None and not self.limiter.admit(
                    base_id, self.rate_limit, self.lockout_seconds):
                raise RATE_LIMITED
            request.body = _parse_body(raw_body)
            with self.store.lock:
                body = dispatch(self.store, request)
                if is_mutation(request):
                    self.store.save()
            return 200, body
        except ApiError as error:
            return error.status, error.body()


def _parse_body(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise invalid_request("The request body is not valid JSON") from None


class EmulatorHandler(BaseHTTPRequestHandler):
    """Thin HTTP adapter; a subclass bound to an AirtableEmulator is created in `start()`."""

    protocol_version = "HTTP/1.1"  # keep-alive, so pyairtable's session reuses connections
    # Buffer the response so headers and body leave in one segment (flushed per request), and
    # skip Nagle; otherwise delayed ACKs add ~40 ms to every request.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    emulator: AirtableEmulator

    def _handle(self) -> None:
        received = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        status, body = self.emulator.respond(
            self.command, self.path, self.headers.get("Authorization", ""), raw_body)
        path = urlsplit(self.path).path
        segments = [unquote(part) for part in path.split("/")[1:]]
        # Log before answering so a client that has its response always finds it in the log.
        authorization = self.headers.get("Authorization", "")
        self.emulator.record_request(
            (received, self.command, path, base_id_of(segments), status),
            self.emulator.tokens.get(authorization.removeprefix("Bearer ")))
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet; the emulator keeps its own request log."""
