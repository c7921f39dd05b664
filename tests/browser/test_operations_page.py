"""The Operations page: admins find it in the menu and see alarms, dead letters and health;
members have no menu entry, and the API refuses them."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.accounts import PASSWORD, sign_in, verified_admin

pytestmark = pytest.mark.e2e


def test_an_admin_opens_operations_from_the_menu(desktop, stack, database_url):
    sign_in(desktop, verified_admin(stack))
    page = desktop.page
    desktop.reset()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Operations").click()
    page.get_by_role("heading", name="Operations", exact=True).wait_for()
    expect(page.get_by_role("heading", name="Alarms")).to_be_visible()
    expect(page.get_by_role("cell", name="WebhookDeadLetterQueue-not-empty-inspect-then-redrive")
           ).to_be_visible()
    expect(page.get_by_role("heading", name="Dead letters")).to_be_visible()
    expect(page.get_by_role("cell", name="async invocations")).to_be_visible()
    expect(page.get_by_role("heading", name="Service health")).to_be_visible()
    # Each service's checks, from the admins' report, not the public one.
    auth = page.get_by_role("row").filter(has=page.get_by_role("cell", name="auth", exact=True))
    expect(auth.get_by_role("cell", name="database")).to_be_visible()
    if database_url.startswith("postgresql"):
        expect(page.get_by_text(re.compile(r"Database connections: \d+ of \d+"))).to_be_visible()
    expect(page.get_by_role("heading", name="Failed executions")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert desktop.problems() == []


def test_a_member_has_no_operations_entry_and_the_api_refuses_them(desktop, stack):
    email = f"member-{uuid.uuid4().hex[:10]}@example.com"
    registered = requests.post(f"{stack.url}/api/auth/register", timeout=60,
                               json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    sign_in(desktop, email)
    nav = desktop.page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Workflows")).to_be_visible()
    expect(nav.get_by_role("link", name="Operations")).to_have_count(0)
    # The dashboard no longer shows service health (it moved to Operations).
    expect(desktop.page.get_by_role("heading", name="Service health")).to_have_count(0)
    refused = requests.get(f"{stack.url}/api/platform/operations", timeout=60, headers={
        "Authorization": f"Bearer {registered.json()['access_token']}"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
