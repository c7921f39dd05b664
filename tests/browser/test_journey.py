"""A person's first visit, in Chromium: register, verify the email from the message, find the
demo base and its records, create a table, add and edit a record in its grid, keep the session
across a reload, sign out."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.mailbox import token_from

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
    contacts = page.get_by_role("region", name="Contacts records")
    expect(contacts.get_by_role("button", name="Name: Grace Hopper. Edit")).to_be_visible()
    contacts.get_by_role("button", name="Name", exact=True).click()  # sort by Name
    expect(contacts.get_by_role("columnheader", name="Name")).to_have_attribute(
        "aria-sort", "ascending")
    expect(contacts.get_by_role("table")).to_have_attribute("aria-busy", "false")
    names = contacts.locator("tbody tr td:first-child").all_inner_texts()
    assert names == sorted(names) and len(names) > 1
    page.get_by_role("link", name="Demo CRM").click()

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
    grid = page.get_by_role("region", name=f"{table} records")
    expect(grid.get_by_text("This table has no records yet.")).to_be_visible()

    page.get_by_role("button", name="Add record").click()
    form = page.locator("form.new-record")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Company").fill("Difference Engines")
    form.get_by_label("Score").fill("42")
    form.get_by_role("button", name="Save record").click()
    form.wait_for(state="detached")

    row = grid.get_by_role("row").filter(has_text=name)
    row.get_by_role("button", name="Company: Difference Engines. Edit").click()
    cell = row.get_by_label(re.compile("^Company, press Enter"))
    cell.fill("Analytical Engines")
    cell.press("Enter")
    row.get_by_role("button", name="Company: Analytical Engines. Edit").wait_for()
    assert row.get_by_role("button", name="Score: 42. Edit").is_visible()

    # A reload keeps the session (the refresh token is kept, the access token is not) and
    # shows what the API stored.
    page.reload(wait_until="networkidle")
    page.get_by_role("heading", name=table).wait_for()
    row.get_by_role("button", name="Company: Analytical Engines. Edit").wait_for()
    _filter_by_name(page, grid, name)

    row.get_by_role("button", name=f"Delete {name}").click()
    row.get_by_role("button", name="Confirm delete").click()
    expect(grid.get_by_text("No records match this filter.")).to_be_visible()

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


def _filter_by_name(page, grid, name: str) -> None:
    bar = page.get_by_role("search", name="Filter records")
    bar.get_by_label("Filter field").select_option("Name")
    bar.get_by_label("equals").fill(name)
    bar.get_by_role("button", name="Apply filter").click()
    # The previous page stays on screen (aria-busy) until the filtered one arrives.
    expect(grid.get_by_role("table")).to_have_attribute("aria-busy", "false")
    expect(grid.locator("tbody tr")).to_have_count(1)
    expect(grid.locator("tbody tr")).to_contain_text(name)
