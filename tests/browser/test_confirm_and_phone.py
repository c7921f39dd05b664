"""Destroying asks first (a dialog naming what is lost; Cancel and Escape keep everything), and
on a phone (390x844) the lists are cards whose actions are on the screen."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.accounts import demo_base_id, new_member
from tests.browser.watch import PHONE, Watched, watch
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def phone(browser: Any, stack) -> Iterator[Watched]:
    """A fresh browser profile at a phone's size."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        yield watch(context, stack.url)
    finally:
        context.close()


def _workflow(stack, headers, name: str) -> str:
    created = requests.post(f"{stack.url}/api/workflows", headers=headers, timeout=60, json={
        "name": name, "trigger": {"type": "manual"},
        "steps": [{"id": "notify", "type": "notify", "config": {"title": "Hi", "body": "Hi"}}]})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def test_a_workflow_is_deleted_only_after_confirming(desktop, stack):
    page = desktop.page
    account = new_member(desktop, stack, "confirm")
    name = f"Nightly sync {uuid.uuid4().hex[:6]}"
    workflow_id = _workflow(stack, account.headers, name)
    desktop.go(f"/workflows/{workflow_id}")
    delete = page.locator(".page-header").get_by_role("button", name="Delete")
    dialog = page.get_by_role("alertdialog")

    delete.click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text(f"Delete workflow '{name}'?")
    expect(dialog).to_contain_text("Its runs and triggers stop. This cannot be undone.")
    cancel = dialog.get_by_role("button", name="Cancel")
    expect(cancel).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Delete workflow")).to_be_focused()
    page.keyboard.press("Tab")  # focus stays inside the dialog
    expect(cancel).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(delete).to_be_focused()  # back where the person was

    delete.click()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    kept = requests.get(f"{stack.url}/api/workflows/{workflow_id}", headers=account.headers,
                        timeout=60)
    assert kept.status_code == 200, kept.text

    delete.click()
    dialog.get_by_role("button", name="Delete workflow").click()
    page.wait_for_url(re.compile(r"/workflows$"))
    expect(page.get_by_role("link", name=name)).to_have_count(0)
    gone = requests.get(f"{stack.url}/api/workflows/{workflow_id}", headers=account.headers,
                        timeout=60)
    assert gone.status_code == 404, gone.text
    assert desktop.problems() == []


def _on_screen(locator, scroll: bool = True) -> None:
    """The element (scrolled to, unless `scroll` is false) lies wholly inside the phone's
    viewport."""
    if scroll:
        locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box is not None, "not rendered"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box


def _succeeded_transaction(stack, headers, base_id: str, name: str) -> str:
    started = requests.post(f"{stack.url}/api/sagas", headers=headers, timeout=60, json={
        "type": "airtable_transaction", "input": {"base_id": base_id, "operations": [
            {"action": "create", "table": "Contacts", "records": [{"fields": {"Name": name}}]}]}})
    assert started.status_code == 202, started.text
    saga_id = started.json()["saga_id"]

    def done() -> bool:
        saga = requests.get(f"{stack.url}/api/sagas/{saga_id}", headers=headers, timeout=60)
        return saga.json()["status"] == "succeeded"

    wait_for(done, timeout=90, interval=0.5)
    return saga_id


def test_on_a_phone_transactions_and_files_are_cards_with_their_actions_on_screen(phone, stack):
    page = phone.page
    account = new_member(phone, stack, "phone")
    base_id = demo_base_id(stack, account)
    _succeeded_transaction(stack, account.headers, base_id, f"Pocket {uuid.uuid4().hex[:6]}")
    uploaded = requests.post(f"{stack.url}/api/files/upload", headers=account.headers,
                             timeout=60, files={"file": ("pocket.csv", b"Name\nAda\n", "text/csv")})
    assert uploaded.status_code == 201, uploaded.text

    phone.go("/sagas")
    card = page.locator("tr").filter(has_text="create 1 Contact")
    expect(card.get_by_role("link", name="create 1 Contact", exact=True)).to_be_visible()
    _on_screen(card.get_by_role("link", name="create 1 Contact", exact=True))
    _on_screen(card.get_by_text("succeeded", exact=True))
    _on_screen(card.get_by_role("link", name="Details of create 1 Contact"))
    _on_screen(card.get_by_role("button", name="Undo create 1 Contact"))

    phone.go("/files")
    card = page.locator("tr").filter(has_text="pocket.csv")
    for action in ("Download pocket.csv", "Import pocket.csv into a table", "Delete pocket.csv"):
        _on_screen(card.get_by_role("button", name=action))
    card.get_by_role("button", name="Delete pocket.csv").click()
    dialog = page.get_by_role("alertdialog")
    _on_screen(dialog.get_by_role("button", name="Delete file"))
    dialog.get_by_role("button", name="Cancel").click()

    # The settings tab strip scrolls sideways to the open section's tab.
    phone.go("/settings/webhooks")
    _on_screen(page.get_by_role("navigation", name="Settings sections").get_by_role(
        "link", name="Webhooks"), scroll=False)
    assert phone.problems() == []
