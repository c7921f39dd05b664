"""A transaction composed in the form, no JSON: typed inputs per field, a record chosen by
searching its name, problems as sentences, and a failure on the last operation compensated."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.accounts import demo_base_id, new_member

pytestmark = pytest.mark.e2e


def _contacts_named(stack, headers, base_id: str, name: str) -> list[dict]:
    found = requests.get(f"{stack.url}/api/airtable/bases/{base_id}/tables/Contacts/records",
                         headers=headers, timeout=60,
                         params={"filter": f'{{"Name": "{name}"}}'})
    assert found.status_code == 200, found.text
    return found.json()["records"]


def test_a_form_transaction_failing_on_its_last_operation_is_compensated(desktop, stack):
    page = desktop.page
    account = new_member(desktop, stack, "form")
    base_id = demo_base_id(stack, account)
    tag = uuid.uuid4().hex[:6]
    victim = requests.post(f"{stack.url}/api/airtable/bases/{base_id}/tables/Contacts/records",
                           headers=account.headers, timeout=60,
                           json={"records": [{"fields": {"Name": f"Victim {tag}"}}]})
    assert victim.status_code == 201, victim.text
    victim_id = victim.json()["records"][0]["id"]

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Transactions").click()
    # The platform's own sagas (onboarding, integration) are not offered.
    expect(page.get_by_label("Type").locator("option")).to_have_text(["airtable transaction"])
    page.get_by_label("Base", exact=True).select_option(label="Demo CRM")
    page.get_by_label("Operation 1 table").select_option("Contacts")
    record = page.get_by_role("group", name="Operation 1, record 1")
    record.get_by_label("Name", exact=True).fill(f"Form {tag}")
    expect(record.get_by_label("Status").locator("option")).to_have_text(
        ["(not set)", "Lead", "Customer", "Churned"])
    record.get_by_label("Status").select_option("Lead")
    record.get_by_label("Score").fill("1x")
    expect(record.get_by_text("“1x” is not a number.")).to_be_visible()
    record.get_by_label("Score").fill("12")
    expect(record.get_by_text("is not a number.")).to_have_count(0)

    page.get_by_role("button", name="Add operation").click()
    page.get_by_label("Operation 2 action").select_option("delete")
    page.get_by_label("Operation 2 table").select_option("Contacts")
    second = page.get_by_role("group", name="Operation 2, record 1")
    second.get_by_label("Record to delete (search Name)").fill(f"victim {tag}")
    second.get_by_role("button", name=f"Choose Victim {tag}").click()
    expect(second).to_contain_text(f"Deletes Victim {tag}")
    expect(page.get_by_role("textbox", name=re.compile("JSON"))).to_have_count(0)  # no JSON box

    page.get_by_role("button", name="Preview (dry run)").click()
    expect(page.get_by_role("status").filter(has_text="The transaction is valid")).to_be_visible()

    # Someone deletes the chosen record meanwhile: the last operation can no longer succeed.
    gone = requests.delete(
        f"{stack.url}/api/airtable/bases/{base_id}/tables/Contacts/records/{victim_id}",
        headers=account.headers, timeout=60)
    assert gone.status_code == 200, gone.text
    page.get_by_role("button", name="Preview (dry run)").click()
    expect(page.get_by_role("status").filter(has_text="would fail")).to_contain_text(
        f"Operation 2 (delete Contacts), record 1 'Victim {tag}': the record {victim_id} "
        "no longer exists in Contacts.")

    page.get_by_role("button", name="Run transaction").click()
    page.wait_for_url(re.compile(r"/sagas/[^/]+$"))
    header = page.locator(".page-header")
    expect(header).to_contain_text("Transaction 'create 1 Contact, delete 1 Contact'")
    expect(header.get_by_text("compensated", exact=True)).to_be_visible(timeout=90_000)
    steps = page.locator(".timeline-step")
    created = steps.filter(has_text="create Contacts")
    expect(created.get_by_text("Compensation:")).to_be_visible()
    failed = steps.filter(has_text="delete Contacts")
    expect(failed.get_by_text("failed", exact=True)).to_be_visible()
    # The record the first step wrote is linked to the grid, and is gone again.
    link = created.get_by_role("link", name=re.compile(r"^Created record rec\w+ in Contacts$"))
    expect(link).to_have_attribute("href", re.compile(rf"^/bases/{base_id}/tables/Contacts"))
    about = page.get_by_role("region", name="About")
    expect(about).to_contain_text("Run by")
    expect(about).to_contain_text("you")
    expect(about).to_contain_text("after a step failed")
    assert _contacts_named(stack, account.headers, base_id, f"Form {tag}") == []
    assert desktop.problems() == []
