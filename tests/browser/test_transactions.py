"""Transactions in the browser: one that fails is compensated step by step and the inbox says
so; one that succeeded is undone from its page."""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.accounts import new_member

pytestmark = pytest.mark.e2e


def _compose(page, operations: list[tuple[str, list[dict]]]) -> None:
    """Paste the operations as JSON (Advanced), into the base chosen in the form."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Transactions").click()
    # Exact: until the page has changed, "Base" also names the dashboard's "Your bases" card.
    page.get_by_role("heading", name="Transactions", exact=True).wait_for()
    page.get_by_label("Base", exact=True).select_option(label="Demo CRM")
    page.get_by_label("Advanced: edit the transaction as JSON").check()
    box = page.get_by_label("Transaction (JSON)")
    pasted = json.loads(box.input_value())
    pasted["operations"] = [{"action": action, "table": "Contacts", "records": records}
                            for action, records in operations]
    box.fill(json.dumps(pasted))


def test_a_failing_transaction_is_compensated_and_the_inbox_says_so(desktop, stack):
    page = desktop.page
    new_member(desktop, stack, "sagas")
    _compose(page, [("create", [{"fields": {"Name": f"Saga {uuid.uuid4().hex[:6]}"}}]),
                    ("update", [{"id": "recDOESNOTEXIST00", "fields": {"Name": "x"}}])])
    page.get_by_role("button", name="Preview (dry run)").click()
    expect(page.get_by_role("status").filter(has_text="would fail")).to_be_visible()

    page.get_by_role("button", name="Run transaction").click()
    page.wait_for_url(re.compile(r"/sagas/[^/]+$"))
    header = page.locator(".page-header")
    expect(header.get_by_text("compensated", exact=True)).to_be_visible(timeout=90_000)
    steps = page.locator(".timeline-step")
    expect(steps.filter(has_text="create Contacts").get_by_text("Compensation:")).to_be_visible()
    expect(steps.filter(has_text="update Contacts").get_by_text("failed")).to_be_visible()
    if os.environ.get("SCREENSHOTS_DIR"):
        page.screenshot(path=str(Path(os.environ["SCREENSHOTS_DIR"]) / "saga-compensated.png"),
                        full_page=True)

    detail = page.url
    page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(
        "Notifications")).click()
    notification = page.get_by_role("link", name="Transaction 'create 1 Contact, update 1 "
                                                  "Contact' failed on step 2 and was rolled back")
    expect(notification).to_be_visible(timeout=60_000)
    notification.click()
    page.wait_for_url(detail)  # the notification opens the transaction's own page
    expect(page.locator(".page-header").get_by_text("compensated", exact=True)).to_be_visible()
    assert desktop.problems() == []


def test_a_succeeded_transaction_is_undone_from_its_page(desktop, stack):
    page = desktop.page
    new_member(desktop, stack, "sagas")
    _compose(page, [("create", [{"fields": {"Name": f"Undo me {uuid.uuid4().hex[:6]}"}}])])
    page.get_by_role("button", name="Run transaction").click()
    page.wait_for_url(re.compile(r"/sagas/[^/]+$"))
    header = page.locator(".page-header")
    expect(header.get_by_text("succeeded", exact=True)).to_be_visible(timeout=90_000)
    header.get_by_role("button", name="Undo").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Undo transaction").click()
    expect(header.get_by_text("undone", exact=True)).to_be_visible(timeout=90_000)
    assert desktop.problems() == []
