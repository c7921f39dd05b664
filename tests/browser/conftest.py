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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from local import chromium
from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# What a page shows when the API it needs answered that the route does not exist yet.
NOT_AVAILABLE = "not available on this deployment yet"


def _install_chromium() -> None:
    if not chromium.ensure_installed():
        pytest.fail(f"The browser tests drive Chromium. {chromium.MISSING}", pytrace=False)


def _build_ui() -> None:
    # `make test` has built it already; run alone, pytest builds it by the same rule.
    result = subprocess.run(["make", "--no-print-directory", "web"], cwd=ROOT,
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"building the web UI failed:\n{result.stdout}\n{result.stderr}",
                    pytrace=False)


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
    _build_ui()
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
    _install_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(chromium.CHROMIUM),
                                              args=chromium.ARGS)
        try:
            yield instance
        finally:
            instance.close()


@dataclass
class Watched:
    """A page and what went wrong while it was used."""

    page: Any
    base: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    error_responses: list[tuple[int, str]] = field(default_factory=list)

    def go(self, path: str) -> Any:
        """Open a path of the stack and wait until the network is idle."""
        response = self.page.goto(self.base + path, wait_until="networkidle")
        return response

    def problems(self, waits_out_rate_limits: bool = False) -> list[str]:
        """Console errors and failed requests, except a missing API route that the page
        reports to the user as not available (a service not deployed yet), and, where the test
        shows the page waited them out, 429s of the API."""
        shown_unavailable = NOT_AVAILABLE in self.page.content()
        allowed = [url for status, url in self.error_responses
                   if status == 404 and "/api/" in url and shown_unavailable]
        waited = [url for status, url in self.error_responses
                  if waits_out_rate_limits and status == 429 and "/api/" in url]
        # A request the page cancelled itself (it navigated away, a query was superseded)
        # reports ERR_ABORTED; it is not a failure of the server or the network.
        problems = [f"request failed: {r}" for r in self.failed_requests
                    if not r.endswith("net::ERR_ABORTED")]
        problems += [f"HTTP {status}: {url}" for status, url in self.error_responses
                     if url not in allowed + waited]
        problems += [f"console: {text}" for text in self.console_errors
                     if not (allowed and "status of 404" in text)
                     and not (waited and "status of 429" in text)]
        return problems

    def reset(self) -> None:
        """Forget what was seen so far."""
        self.console_errors.clear()
        self.failed_requests.clear()
        self.error_responses.clear()


def watch(context: Any, base: str) -> Watched:
    """A new page of `context` whose console errors and failed requests are collected."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    watched = Watched(page, base)
    page.on("console", lambda m: m.type == "error" and watched.console_errors.append(m.text))
    page.on("pageerror", lambda e: watched.console_errors.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: watched.failed_requests.append(
        f"{r.method} {r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and watched.error_responses.append(
        (r.status, r.url)))
    return watched


@pytest.fixture
def desktop(browser: Any, stack: DevStack) -> Iterator[Watched]:
    """A fresh browser profile (no stored session) at desktop size."""
    context = browser.new_context(viewport=DESKTOP)
    try:
        yield watch(context, stack.url)
    finally:
        context.close()
