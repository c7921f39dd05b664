"""Every page of the UI opened once in Chromium: it renders its heading and no console error
or failed request happens (a service not deployed yet must be shown as such, in words).
With SCREENSHOTS_DIR set, each page is also photographed at desktop and phone widths."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
import requests

from tests.browser.watch import DESKTOP, PHONE, watch

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-Horse-Battery-9"
PUBLIC_PAGES = {
    "/login": "Sign in",
    "/register": "Create an account",
    "/forgot-password": "Reset your password",
    "/reset-password?token=sample": "Choose a new password",
    "/verify-email?token=sample": "Verify your email",
}


def _private_pages(stack, token: str) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    bases = requests.get(f"{stack.url}/api/airtable/bases", headers=headers, timeout=60).json()
    demo = next(b for b in bases["items"] if b["name"] == "Demo CRM")
    schema = requests.get(f"{stack.url}/api/airtable/bases/{demo['id']}/schema",
                          headers=headers, timeout=60).json()
    contacts = next(t for t in schema["tables"] if t["name"] == "Contacts")
    pages = {
        "/": "Dashboard",
        "/bases": "Bases",
        f"/bases/{demo['id']}": "Demo CRM",
        f"/bases/{demo['id']}/tables/{contacts['id']}": "Contacts",
        "/sagas": "Transactions",
        "/workflows": "Workflows",
        "/files": "Files",
        "/notifications": "Notifications",
        "/workspaces": "Workspaces",
        "/settings": "Settings",
        "/settings/security": "Settings",
        "/settings/sessions": "Settings",
        "/settings/api-keys": "Settings",
        "/settings/connections": "Settings",
        "/settings/webhooks": "Settings",
        "/invitations/accept?token=sample": "Join a workspace",
        "/no/such/page": "Page not found",
    }
    workspaces = requests.get(f"{stack.url}/api/workspaces", headers=headers, timeout=60)
    if workspaces.status_code == 200:
        personal = workspaces.json()["items"][0]
        pages[f"/workspaces/{personal['id']}"] = personal["name"]
    return pages


def _visit(watched, path: str, heading: str, shots: Path | None, tag: str) -> list[str]:
    watched.reset()
    response = watched.go(path)
    assert response.status == 200, path
    watched.page.get_by_role("heading", name=heading, exact=True).first.wait_for()
    watched.page.wait_for_load_state("networkidle")
    if watched.page.get_by_role("status").filter(has_text="Loading").count():
        watched.page.get_by_role("status").filter(has_text="Loading").first.wait_for(
            state="detached")
    if shots:
        name = re.sub(r"[^a-z0-9]+", "-", path.split("?")[0].lower()).strip("-") or "dashboard"
        watched.page.screenshot(path=str(shots / f"{name}-{tag}.png"), full_page=True)
    return [f"{path}: {problem}" for problem in watched.problems()]


def test_every_page_renders_without_console_errors_or_failed_requests(browser, stack):
    shots = Path(os.environ["SCREENSHOTS_DIR"]) if os.environ.get("SCREENSHOTS_DIR") else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    email = f"pages-{uuid.uuid4().hex[:10]}@example.com"
    registered = requests.post(f"{stack.url}/api/auth/register", timeout=60,
                               json={"email": email, "password": PASSWORD, "first_name": "Grace"})
    assert registered.status_code == 201, registered.text
    private = _private_pages(stack, registered.json()["access_token"])
    problems: list[str] = []
    sizes = {"desktop": DESKTOP, "phone": PHONE} if shots else {"desktop": DESKTOP}
    for tag, viewport in sizes.items():
        context = browser.new_context(viewport=viewport)
        try:
            watched = watch(context, stack.url)
            for path, heading in PUBLIC_PAGES.items():
                problems += _visit(watched, path, heading, shots, tag)
            watched.go("/login")
            watched.page.get_by_label("Email or username").fill(email)
            watched.page.get_by_label("Password").fill(PASSWORD)
            watched.page.get_by_role("button", name="Sign in").click()
            watched.page.get_by_role("heading", name="Dashboard").wait_for()
            for path, heading in private.items():
                problems += _visit(watched, path, heading, shots, tag)
        finally:
            context.close()
    assert problems == []
