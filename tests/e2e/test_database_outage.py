"""A database that goes away is a 503 with Retry-After (never a 500), and the service comes
back with it. The stack (`make dev`'s command) reaches PostgreSQL through a proxy the test cuts."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from tests.e2e.authutil import PASSWORD, unique_email
from tests.helpers import ROOT, wait_for

pytestmark = pytest.mark.e2e


class TcpProxy:
    """Forwards connections to the database; `cut()` drops them all and refuses new ones."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(self.target)
            with self.lock:
                self.open += [client, server]
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(a, selectors.EVENT_READ, b)
        selector.register(b, selectors.EVENT_READ, a)
        try:
            while True:
                for key, _ in selector.select():
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            a.close()
            b.close()

    def cut(self) -> None:
        self.up = False
        with self.lock:
            for sock in self.open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.open.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_database_outage_is_503_with_retry_after_and_the_service_recovers(database_url,
                                                                          tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs a database server to cut off")
    parts = urlsplit(database_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    netloc = parts.netloc.rsplit("@", 1)
    via_proxy = urlunsplit(parts._replace(
        netloc=(f"{netloc[0]}@" if len(netloc) == 2 else "") + f"127.0.0.1:{proxy.port}"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "dev.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "local.runtime", "dev"], cwd=ROOT,
                               env={**os.environ, "PORT": str(port), "DATABASE_URL": via_proxy},
                               stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        def up() -> bool:
            try:
                return requests.get(f"{url}/api/auth/health", timeout=30).status_code == 200
            except requests.RequestException:  # not listening yet, or still starting
                return False

        wait_for(up, timeout=120, interval=0.5)
        email = unique_email("outage")
        assert requests.post(f"{url}/api/auth/register", timeout=30,
                             json={"email": email, "password": PASSWORD}).status_code == 201
        login = {"email": email, "password": PASSWORD}

        proxy.cut()
        down = requests.post(f"{url}/api/auth/login", json=login, timeout=30)
        assert down.status_code == 503, down.text
        assert int(down.headers["Retry-After"]) > 0
        assert down.json()["error"]["code"] == "service_unavailable"
        health = requests.get(f"{url}/api/users/health", timeout=30)
        assert health.status_code == 503
        assert health.json()["checks"]["database"]["status"] == "error"
        for body in (down.text, health.text):
            assert str(proxy.port) not in body and "postgres" not in body.lower()

        proxy.restore()
        wait_for(lambda: requests.post(f"{url}/api/auth/login", json=login,
                                       timeout=30).status_code == 200, timeout=30)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        proxy.close()
        log.close()
