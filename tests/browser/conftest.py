"""The web UI in Debian's Chromium (Playwright for Python, no browser download) against the
local stack, started once per session as `make dev` starts it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.watch import DESKTOP, Watched, build_ui, chromium_browser, watch
from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "admin@example.com"


@dataclass
class DevStack:
    """A `make dev` stack started for the browser tests."""

    url: str
    mail_dir: Path
    log: Path


@pytest.fixture(scope="session")
def stack(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """`python -m local.runtime dev` (what `make dev` runs) in a process of its own, so it
    never meets the e2e tests' in-process stack (moto's state is global to a process)."""
    build_ui()
    tmp = tmp_path_factory.mktemp("browser-stack")
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": database_url,
           "MAIL_DIR": str(tmp / "mail"), "PYTHONUNBUFFERED": "1",
           # A fresh emulator, not the developer's .local/airtable.json.
           "AIRTABLE_EMULATOR_FILE": str(tmp / "airtable.json"),
           # Every page load signs in again from 127.0.0.1; the per-IP auth limit is tested
           # elsewhere (tests/e2e/test_registration_modes.py).
           "AUTH_IP_LIMIT_PER_MINUTE": "100000",
           # The Operations page's admin (tests/browser/test_operations_page.py).
           "ADMIN_EMAILS": ADMIN_EMAIL}
    log_path = tmp / "dev.log"
    log = log_path.open("w")
    process = subprocess.Popen([sys.executable, "-m", "local.runtime", "dev"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert process.poll() is None, log_path.read_text()
        return "Press Ctrl-C" in log_path.read_text()

    try:
        wait_for(ready, timeout=180, interval=0.5)
        _warm(url)
        yield DevStack(url, tmp / "mail", log_path)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def _warm(url: str) -> None:
    """Start the workers a page's parallel requests need (the authorizer's above all), so a
    cold start on a loaded 2-core machine does not meet the authorizer's 10 s timeout."""
    def get(path: str) -> None:
        requests.get(url + path, headers={"Authorization": "Bearer warm-up"}, timeout=120)

    paths = ["/api/health", "/api/auth/me", "/api/users/me", "/api/airtable/connections",
             "/api/notifications", "/api/workspaces", "/api/sagas", "/api/workflows",
             "/api/files", "/api/platform/usage"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(get, paths * 2))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, with no background traffic to the outside."""
    with chromium_browser() as instance:
        yield instance


@pytest.fixture
def desktop(browser: Any, stack: DevStack) -> Iterator[Watched]:
    """A fresh browser profile (no stored session) at desktop size."""
    context = browser.new_context(viewport=DESKTOP)
    try:
        yield watch(context, stack.url)
    finally:
        context.close()
