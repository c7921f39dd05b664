"""`make dev`'s command as a user runs it: becomes healthy, serves health, stops clean on Ctrl-C.

How fast it becomes healthy is a `make bench` figure, not asserted here."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest
import requests

from tests.helpers import ROOT, wait_for

pytestmark = pytest.mark.own_stack


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_dev_stack_becomes_healthy_and_ctrl_c_leaves_no_process(database_url):
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": database_url}
    process = subprocess.Popen([sys.executable, "-m", "local.runtime", "dev"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        def healthy():
            try:
                response = requests.get(f"http://127.0.0.1:{port}/api/health", timeout=10)
            except (requests.ConnectionError, requests.Timeout):
                return None
            return response.status_code == 200 and response.json()["status"] == "healthy"

        # A bound so a broken stack fails instead of hanging, not a speed requirement.
        wait_for(healthy, timeout=150, interval=0.25)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, output
    assert "ready in" in output and f"http://127.0.0.1:{port}/api/health" in output
    assert "GET /api/health 200" in output
    wait_for(lambda: not _group_alive(process.pid), timeout=10)
