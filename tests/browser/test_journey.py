"""A person's first visit, in Chromium: register, verify the email from the message, find the
demo base and its records, create a table, add and edit a record in its grid, keep the session
across a reload, sign out."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.mailbox import token_from
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-Horse-Battery-9"


def test_register_verify_edit_records_reload_and_sign_out(desktop, stack):
    page = desktop.page
    email = f"journey-{uuid.uuid4().hex[:10]}@example.com"
    name = f"Ada Lovelace {uuid.uuid4().hex[:6]}"

    desktop.go("/")
    page.wait_for_url("**/login")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("First name (optional)").fill("Ada")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert page.get_by_text("Welcome, Ada.").is_visible()
    assert page.get_by_text("not verified yet").is_visible()

    desktop.go(f"/verify-email?token={token_from(stack.mail_dir, email, '/verify-email')}")
    page.get_by_role("button", name="Verify my email").click()
    page.get_by_text("Your email address is verified.").wait_for()

    page.get_by_role("link", name="Go to the dashboard").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Bases").click()
    page.get_by_role("link", name=re.compile("Demo CRM")).click()
    page.get_by_role("link", name=re.compile("Contacts")).click()
    contacts = page.get_by_role("grid", name="Contacts records")
    expect(contacts.get_by_role("rowheader", name="Grace Hopper")).to_be_visible()
    page.get_by_label("Add a sort field").select_option("Name")
    expect(page.get_by_label("Sort 1 direction")).to_have_value("asc")
    assert "sort=" in page.url
    wait_for(lambda: _sorted_names(contacts))
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Demo CRM").click()

    table = f"Leads {uuid.uuid4().hex[:6]}"
    page.get_by_role("button", name="New table").click()
    page.get_by_label("Table name").fill(table)
    page.get_by_role("button", name="Add field").click()
    page.get_by_label("Field 2 name").fill("Company")
    page.get_by_role("button", name="Add field").click()
    page.get_by_label("Field 3 name").fill("Score")
    page.get_by_label("Field 3 type").select_option("number")
    page.get_by_role("button", name="Create table").click()
    page.get_by_role("heading", name=table).wait_for()
    expect(page.get_by_text("This table has no records yet.")).to_be_visible()

    page.get_by_role("button", name="Add record").click()
    form = page.get_by_role("dialog", name=f"New {table} record")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Company").fill("Difference Engines")
    form.get_by_label("Score").fill("42")
    form.get_by_role("button", name="Save", exact=True).click()
    expect(form).to_be_hidden()

    grid = page.get_by_role("grid", name=f"{table} records")
    row = grid.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
    row.get_by_role("gridcell", name="Difference Engines").click()
    page.keyboard.type("Analytical Engines")
    page.keyboard.press("Enter")
    expect(row.get_by_role("gridcell", name="Analytical Engines")).to_be_visible()
    expect(row.get_by_role("gridcell", name="42", exact=True)).to_be_visible()

    # A reload keeps the session (the refresh token is kept, the access token is not) and
    # shows what the API stored.
    page.reload(wait_until="networkidle")
    page.get_by_role("heading", name=table).wait_for()
    expect(row.get_by_role("gridcell", name="Analytical Engines")).to_be_visible()
    page.get_by_role("button", name="Add condition").click()
    page.get_by_label("Condition 1 field").select_option("Name")
    page.get_by_label("Condition 1 value").fill(name)
    page.get_by_role("button", name="Apply filters").click()
    expect(grid.get_by_role("rowheader")).to_have_text([name])

    row.get_by_role("button", name=f"Delete {name}").click()
    expect(page.locator(".toast")).to_contain_text(f"Deleted {name}.", timeout=60_000)
    expect(page.get_by_text("No records match these filters.")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.includes('token'))") == []
    page.reload(wait_until="networkidle")
    page.get_by_role("heading", name="Sign in").wait_for()
    desktop.go("/bases")
    page.wait_for_url("**/login")

    page.get_by_label("Email or username").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/bases$"))
    page.get_by_role("heading", name="Bases").wait_for()
    assert desktop.problems() == []


def test_wrong_password_is_explained_in_words(desktop):
    page = desktop.page
    desktop.go("/login")
    page.get_by_label("Email or username").fill(f"nobody-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "password" in alert.inner_text().lower()
    assert page.url.endswith("/login")


def _sorted_names(grid) -> list[str]:
    """The grid's primary values once they are in ascending order (empty until then)."""
    names = grid.get_by_role("rowheader").all_inner_texts()
    return names if len(names) > 1 and names == sorted(names) else []
