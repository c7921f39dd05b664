"""A browser page at a stack's address, with what went wrong while it was used."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from local import chromium
from tests.helpers import ROOT

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# What a page shows when the API it needs answered that the route does not exist yet.
NOT_AVAILABLE = "not available on this deployment yet"


def build_ui() -> None:
    """Build the web UI a stack serves: `make test` has built it already; run alone, pytest
    builds it by the same rule."""
    result = subprocess.run(["make", "--no-print-directory", "web"], cwd=ROOT,
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"building the web UI failed:\n{result.stdout}\n{result.stderr}",
                    pytrace=False)


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """Debian's Chromium, headless, with no background traffic to the outside."""
    if not chromium.ensure_installed():
        pytest.fail(f"The browser tests drive Chromium. {chromium.MISSING}", pytrace=False)
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
