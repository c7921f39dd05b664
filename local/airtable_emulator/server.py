"""HTTP front end: auth, rate limiting, request log and JSON responses around `api.dispatch`."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.http_server import LocalHTTPServer

from .api import Request, base_id_of, dispatch, is_mutation
from .demo import seed_demo_base
from .errors import ApiError, invalid_request
from .faults import STATUS_BODIES, FaultError, Faults
from .ratelimit import RateLimiter
from .store import Store

DEFAULT_TOKENS = {"patEMULATOR": "usrEMULATOR000001"}
UNAUTHORIZED = ApiError(401, "AUTHENTICATION_REQUIRED", "Authentication required")
RATE_LIMITED = ApiError(429, "RATE_LIMIT_REACHED", "Rate limit exceeded. Please try again later")

RequestLogEntry = tuple[float, str, str, str | None, int]
FAULTS_PATH = "/_faults"
RESET = 0  # the logged status of a request whose connection was reset (no answer)


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
        # Tokens whose requests neither count against a base's limit nor meet it: a test's own
        # seeding and checking, which must not take the slots of the code under test (Airtable
        # has no such thing; see `inspector`).
        self.unlimited_tokens: set[str] = set()
        self.store = Store(persist_path)
        self.limiter = RateLimiter()
        # Faults tests inject (local/airtable_emulator/faults.py); none unless asked for.
        self.faults = Faults()
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

    def inspector(self, user_id: str) -> str:
        """A token acting as `user_id` whose requests the rate limit ignores (for tests)."""
        token = f"patINSPECTOR{len(self.unlimited_tokens):05d}.{user_id}"
        self.tokens[token] = user_id
        self.unlimited_tokens.add(token)
        return token

    @property
    def url(self) -> str:
        """Base URL to pass as pyairtable's `endpoint_url`."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> AirtableEmulator:
        """Load persisted data, then start serving on a background thread; returns self."""
        self._ensure_loaded()
        handler = type("BoundHandler", (EmulatorHandler,), {"emulator": self})
        self._server = _Server((self.host, self.port), handler)
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
            self._server.close_connections()
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
            if base_id is not None and token not in self.unlimited_tokens and \
                    not self.limiter.admit(base_id, self.rate_limit, self.lockout_seconds):
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


class _Server(LocalHTTPServer):
    """Closes kept-alive connections when stopped: a stopped Airtable answers no client,
    however long its connection has been open."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        with self._connections_lock:
            self._connections.add(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut every open connection down (its handler thread then ends)."""
        with self._connections_lock:
            sockets, self._connections = list(self._connections), set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


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
        path = urlsplit(self.path).path
        if path == FAULTS_PATH:
            self._send(*self._control(raw_body))
            return
        segments = [unquote(part) for part in path.split("/")[1:]]
        base_id = base_id_of(segments)
        decision = self.emulator.faults.decide(
            base_id, is_mutation(Request(self.command, segments)), self.command)
        if decision.kind == "status":
            status, body = decision.fault.status, STATUS_BODIES[decision.fault.status]
        elif decision.kind == "reset_before":
            self._log(received, path, base_id, RESET)
            self._reset()
            return
        else:
            status, body = self.emulator.respond(
                self.command, self.path, self.headers.get("Authorization", ""), raw_body)
        if decision.kind == "reset_after":  # applied, but the client never hears of it
            self._log(received, path, base_id, RESET)
            self._reset()
            return
        # Log before answering so a client that has its response always finds it in the log.
        self._log(received, path, base_id, status)
        if decision.delay:
            time.sleep(decision.delay)
        self._send(status, body)

    def _log(self, received: float, path: str, base_id: str | None, status: int) -> None:
        authorization = self.headers.get("Authorization", "")
        self.emulator.record_request(
            (received, self.command, path, base_id, status),
            self.emulator.tokens.get(authorization.removeprefix("Bearer ")))

    def _reset(self) -> None:
        """Drop the connection with a TCP reset (linger 0), sending no response."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _control(self, raw_body: bytes) -> tuple[int, Any]:
        """The local fault-injection endpoint: GET lists, POST adds, DELETE clears."""
        faults = self.emulator.faults
        if self.command == "GET":
            return 200, {"faults": [f.to_json() for f in faults.active()]}
        if self.command == "DELETE":
            faults.clear()
            return 200, {"faults": []}
        if self.command == "POST":
            try:
                return 200, faults.from_json(_parse_body(raw_body)).to_json()
            except (FaultError, ApiError) as e:
                return 422, {"error": {"type": "INVALID_FAULT", "message": str(e)}}
        return 405, {"error": {"type": "METHOD_NOT_ALLOWED", "message": self.command}}

    def _send(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet; the emulator keeps its own request log."""
