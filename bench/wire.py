"""Database round trips counted on the wire: a TCP proxy in front of PostgreSQL that reads the
client's protocol messages and counts those the client then waits on, Sync and simple Query
(each is answered up to ReadyForQuery before the client goes on). Standard library only: it
runs inside a cold-start child (bench/cold_child.py) of the packaged interpreter."""

from __future__ import annotations

import socket
import struct
import threading

_SSL_REQUEST = 80877103
_WAITS = {b"S": "sync", b"Q": "query"}


class WireCounter:
    """Listens on 127.0.0.1; `round_trips` counts Syncs and Queries since `reset()`."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.round_trips = 0
        self.connections = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True, name="wire-accept").start()

    def reset(self) -> None:
        with self._lock:
            self.round_trips = 0
            self.connections = 0

    def _accept(self) -> None:
        while True:
            client, _ = self._server.accept()
            server = socket.create_connection(self.target)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._client_to_server, args=(client, server),
                             daemon=True).start()
            threading.Thread(target=_pump, args=(server, client), daemon=True).start()

    def _client_to_server(self, client: socket.socket, server: socket.socket) -> None:
        buffer, started = b"", False
        while data := _recv(client):
            server.sendall(data)
            buffer += data
            while True:
                if not started:  # untyped start-up messages: length, then a code
                    if len(buffer) < 8:
                        break
                    length, code = struct.unpack("!II", buffer[:8])
                    if len(buffer) < length:
                        break
                    buffer, started = buffer[length:], code != _SSL_REQUEST
                    continue
                if len(buffer) < 5:
                    break
                kind, length = buffer[:1], struct.unpack("!I", buffer[1:5])[0]
                if len(buffer) < 1 + length:
                    break
                buffer = buffer[1 + length:]
                if kind in _WAITS:
                    with self._lock:
                        self.round_trips += 1
        _close(client, server)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _pump(source: socket.socket, sink: socket.socket) -> None:
    while data := _recv(source):
        try:
            sink.sendall(data)
        except OSError:
            break
    _close(source, sink)


def _close(*socks: socket.socket) -> None:
    for sock in socks:
        sock.close()
