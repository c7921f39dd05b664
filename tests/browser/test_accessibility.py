"""axe-core over every page of the web UI, as an admin (Operations included) and signed out:
no serious or critical violation (missing labels, contrast below AA, broken ARIA...)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.accounts import PASSWORD, Account, demo_base_id, sign_in, verified_admin
from tests.browser.watch import DESKTOP, Watched, watch
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ` +
      v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | "));
}"""


@pytest.fixture
def audited(browser: Any, stack) -> Iterator[Watched]:
    """A desktop page that lets the test inject axe-core's script (the UI's CSP allows only
    its own scripts; bypassing it changes nothing axe checks)."""
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True)
    try:
        yield watch(context, stack.url)
    finally:
        context.close()


def _violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE)


def _settled(watched: Any, path: str, heading: str) -> None:
    """Open `path` and wait for its heading and for its data to load."""
    watched.go(path)
    page = watched.page
    page.get_by_role("heading", name=heading, exact=True).first.wait_for()
    loading = page.get_by_role("status").filter(has_text=re.compile("Loading|Restoring"))
    if loading.count():
        loading.first.wait_for(state="detached")


def _admin(audited, stack) -> Account:
    email = verified_admin(stack)
    login = requests.post(f"{stack.url}/api/auth/login", timeout=60,
                          json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    sign_in(audited, email)
    return Account(email, {"Authorization": f"Bearer {login.json()['access_token']}"})


def _fixtures(stack, account: Account) -> dict[str, str]:
    """One of each thing a page shows: a transaction, a workflow, an import, a workspace."""
    url, headers = stack.url, account.headers
    base_id = demo_base_id(stack, account)
    saga = requests.post(f"{url}/api/sagas", headers=headers, timeout=60, json={
        "type": "airtable_transaction", "input": {"base_id": base_id, "operations": [
            {"action": "create", "table": "Contacts",
             "records": [{"fields": {"Name": f"Axe {time.time_ns()}"}}]}]}})
    assert saga.status_code == 202, saga.text
    workflow = requests.post(f"{url}/api/workflows", headers=headers, timeout=60, json={
        "name": "Axe check", "trigger": {"type": "manual"},
        "steps": [{"id": "notify", "type": "notify", "config": {"title": "Hi", "body": "Hi"}}]})
    assert workflow.status_code == 201, workflow.text
    upload = requests.post(f"{url}/api/files/upload", headers=headers, timeout=60,
                           files={"file": ("axe.csv", b"Name\nAxe import\n", "text/csv")})
    assert upload.status_code == 201, upload.text
    file_id = upload.json()["id"]
    wait_for(lambda: requests.get(f"{url}/api/files/{file_id}", headers=headers,
                                  timeout=60).json()["status"] == "ready", timeout=60)
    started = requests.post(f"{url}/api/files/{file_id}/import", headers=headers, timeout=60,
                            json={"base_id": base_id, "table": "Contacts"})
    assert started.status_code == 202, started.text
    workspace = requests.get(f"{url}/api/workspaces", headers=headers, timeout=60).json()
    return {"base": base_id, "saga": saga.json()["saga_id"], "workflow": workflow.json()["id"],
            "import": started.json()["import_id"],
            "workspace": workspace["items"][0]["id"],
            "workspace_name": workspace["items"][0]["name"]}


def test_no_page_has_a_serious_or_critical_accessibility_violation(audited, stack):
    page = audited.page
    found: dict[str, list[str]] = {}
    for path, heading in {"/login": "Sign in", "/register": "Create an account",
                          "/forgot-password": "Reset your password"}.items():
        _settled(audited, path, heading)
        found[path] = _violations(page)

    account = _admin(audited, stack)
    made = _fixtures(stack, account)
    pages = {
        "/": "Dashboard", "/bases": "Bases", f"/bases/{made['base']}": "Demo CRM",
        "/sagas": "Transactions", f"/sagas/{made['saga']}": None,
        "/workflows": "Workflows", f"/workflows/{made['workflow']}": "Axe check",
        "/files": "Files", f"/files/imports/{made['import']}": None,
        "/notifications": "Notifications", "/workspaces": "Workspaces",
        f"/workspaces/{made['workspace']}": made["workspace_name"],
        "/settings": "Settings", "/settings/security": "Settings",
        "/settings/sessions": "Settings", "/settings/api-keys": "Settings",
        "/settings/ai-agent": "Settings", "/settings/connections": "Settings",
        "/settings/webhooks": "Settings", "/operations": "Operations",
    }
    for path, heading in pages.items():
        if heading is None:
            audited.go(path)
            page.locator("h1").first.wait_for()
        else:
            _settled(audited, path, heading)
        found[path] = _violations(page)

    # What appears on demand: the composer's typed inputs and record picker, a confirm dialog.
    audited.go("/sagas")
    page.get_by_label("Base", exact=True).select_option(label="Demo CRM")
    page.get_by_label("Operation 1 table").select_option("Contacts")
    page.get_by_role("group", name="Operation 1, record 1").get_by_label("Status").wait_for()
    found["/sagas (create form)"] = _violations(page)
    page.get_by_label("Operation 1 action").select_option("update")
    page.get_by_label("Record to update (search Name)").wait_for()
    found["/sagas (record picker)"] = _violations(page)
    audited.go(f"/workflows/{made['workflow']}")
    page.locator(".page-header").get_by_role("button", name="Delete").click()
    page.get_by_role("alertdialog").wait_for()
    found["/workflows/{id} (confirm dialog)"] = _violations(page)
    page.get_by_role("alertdialog").get_by_role("button", name="Cancel").click()

    assert {path: v for path, v in found.items() if v} == {}


def test_the_records_grid_has_no_serious_or_critical_violation(audited, stack):
    account = _admin(audited, stack)
    base_id = demo_base_id(stack, account)
    audited.go(f"/bases/{base_id}/tables/Contacts")
    audited.page.get_by_role("heading", name="Contacts", exact=True).wait_for()
    audited.page.get_by_text("Ada Lovelace").first.wait_for()
    assert _violations(audited.page) == []
