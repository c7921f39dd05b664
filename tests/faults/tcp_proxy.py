"""A TCP relay the tests can cut: the database "goes down" for the stack, and comes back.

`down()` resets every relayed connection and refuses new ones (what clients see when the
server process dies); `up()` relays again. `delay` holds back what clients send by a random
time of its choosing, as a congested network or a loaded machine delivers requests late.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable


class TcpProxy:
    """Relays 127.0.0.1:<port> to `target`; start with `start()`."""

    def __init__(self, target_host: str, target_port: int,
                 delay: Callable[[], float] | None = None) -> None:
        self.target = (target_host, target_port)
        self.delay = delay
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._up = True
        self._stopped = False

    def start(self) -> TcpProxy:
        """Accept and relay in the background."""
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()
        return self

    def down(self) -> None:
        """Reset every connection; new ones are closed at once."""
        self._up = False
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _reset(sock)

    def up(self) -> None:
        """Relay again."""
        self._up = True

    def stop(self) -> None:
        """Stop accepting and drop everything."""
        self._stopped = True
        self.down()
        self._server.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self._up:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            # Relayed as it comes, as the link it stands for: with Nagle's algorithm each
            # small write would wait ~40 ms for the other side's delayed ACK (a transaction of
            # ten statements took a second through the relay).
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink, delay in ((client, upstream, self.delay),
                                        (upstream, client, None)):
                threading.Thread(target=self._pipe, args=(source, sink, delay),
                                 daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket,
              delay: Callable[[], float] | None) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                if delay is not None:
                    time.sleep(delay())
                sink.sendall(chunk)
        for sock in (source, sink):
            with self._lock:
                self._open.discard(sock)
            _reset(sock)


def _reset(sock: socket.socket) -> None:
    # SO_LINGER 0: close with RST, as a dead server's host answers. shutdown(SHUT_RD) first
    # wakes a thread blocked reading the socket (it sends nothing): close() alone would leave
    # that socket open and connected, so the server would keep its transaction (and its locks)
    # open, idle, forever.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.close()
