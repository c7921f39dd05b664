"""The records grid as a person uses it: typed cells edited by keyboard (a select offers only
its choices, a typo in a number is refused in the cell), one PATCH per edit, a filtered view
kept in the URL, and staged changes across two tables committed as one transaction, undone,
or refused by the dry run with the problem on the cell."""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from local.runtime.stack import EMULATOR_TOKEN
from tests.browser.accounts import Account, demo_base_id, new_member
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e


class Emulator:
    """The stack's Airtable emulator, read directly (not through the API's cache)."""

    def __init__(self, stack) -> None:
        found = re.search(r"Airtable\s+(http://\S+) \(emulator", stack.log.read_text())
        assert found, "the stack's banner names no Airtable emulator"
        self.url = found.group(1)
        self.headers = {"Authorization": f"Bearer {EMULATOR_TOKEN}"}

    def request(self, method: str, path: str) -> requests.Response:
        """One call, waiting out the emulator's 5 requests/s per base as Airtable asks."""
        def answered() -> list[requests.Response]:
            response = requests.request(method, self.url + path, headers=self.headers, timeout=30)
            return [] if response.status_code == 429 else [response]  # a 4xx Response is falsy

        return wait_for(answered, timeout=90, interval=5)[0]

    def records(self, base: str, table: str) -> list[dict[str, Any]]:
        """Every record of a table."""
        response = self.request("GET", f"/v0/{base}/{table}")
        assert response.status_code == 200, response.text
        return response.json()["records"]

    def by_name(self, base: str, table: str) -> dict[str, dict[str, Any]]:
        """Records' fields keyed by their Name."""
        return {r["fields"].get("Name"): r["fields"] for r in self.records(base, table)}

    def choices(self, base: str, table: str, field: str) -> list[str]:
        """The choice names of a select field, as the base's schema has them."""
        response = self.request("GET", f"/v0/meta/bases/{base}/tables")
        assert response.status_code == 200, response.text
        spec = next(t for t in response.json()["tables"] if t["id"] == table)
        return [c["name"] for c in next(f for f in spec["fields"]
                                         if f["name"] == field)["options"]["choices"]]

    def delete(self, base: str, table: str, record_id: str) -> None:
        """Delete a record behind the web UI's back."""
        response = self.request("DELETE", f"/v0/{base}/{table}/{record_id}")
        assert response.status_code == 200, response.text


PEOPLE_FIELDS = [
    {"name": "Name", "type": "singleLineText"},
    {"name": "Status", "type": "singleSelect", "options": {"choices": [
        {"name": "Lead", "color": "blueLight2"}, {"name": "Customer", "color": "greenLight2"}]}},
    {"name": "Score", "type": "number", "options": {"precision": 0}},
]
DEALS_FIELDS = [
    {"name": "Name", "type": "singleLineText"},
    {"name": "Amount", "type": "currency", "options": {"precision": 2, "symbol": "$"}},
]


def _table(stack, account: Account, base: str, prefix: str, fields: list[dict],
           rows: list[dict]) -> str:
    """A fresh table of the demo base with `rows`, made through the API; returns its id."""
    url = f"{stack.url}/api/airtable/bases/{base}/tables"

    def post(path: str, body: dict) -> requests.Response:
        # A new member's onboarding syncs the shared demo base: wait out its rate limit.
        def answered() -> list[requests.Response]:
            response = requests.post(url + path, headers=account.headers, timeout=60, json=body)
            return [] if response.status_code == 429 else [response]

        return wait_for(answered, timeout=120, interval=5)[0]

    made = post("", {"name": f"{prefix} {uuid.uuid4().hex[:6]}", "fields": fields})
    assert made.status_code == 201, made.text
    table = made.json()["id"]
    created = post(f"/{table}/records", {"records": [{"fields": row} for row in rows]})
    assert created.status_code == 201, created.text
    return table


def _people(stack, account, base) -> str:
    return _table(stack, account, base, "People", PEOPLE_FIELDS, [
        {"Name": "Ada", "Status": "Lead", "Score": 10},
        {"Name": "Grace", "Status": "Customer", "Score": 20},
        {"Name": "Alan", "Status": "Lead", "Score": 30},
        {"Name": "Linus", "Status": "Customer", "Score": 40},
    ])


def _cell(page, row_name: str, column: int):
    """The cell of a row (found by its primary value) in a column (1 is the primary field)."""
    value = page.locator("td.primary .cell-value", has_text=re.compile(f"^{row_name}$"))
    return page.get_by_role("row").filter(has=value).locator("td").nth(column)


def _member_with_people(desktop, stack, tag: str) -> tuple[Account, str, str]:
    """A new member signed in, with a fresh People table in the demo base: (account, base,
    table)."""
    account = new_member(desktop, stack, tag)
    base = demo_base_id(stack, account)
    return account, base, _people(stack, account, base)


def _open(watched, base: str, table: str) -> Any:
    watched.go(f"/bases/{base}/tables/{table}")
    grid = watched.page.get_by_role("grid")
    expect(grid).to_be_visible()
    return grid


def test_a_select_is_edited_by_keyboard_from_its_choices_and_a_number_typo_is_refused(
        desktop, stack):
    page, emulator = desktop.page, Emulator(stack)
    _, base, table = _member_with_people(desktop, stack, "grid")
    grid = _open(desktop, base, table)
    patches: list[Any] = []
    page.on("request", lambda r: r.method == "PATCH" and "/records" in r.url and patches.append(r))

    # Keyboard only: the grid is one Tab stop; the active cell is Ada's Name.
    grid.locator("[tabindex='0']").focus()
    expect(_cell(page, "Ada", 1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowRight")
    expect(_cell(page, "Ada", 2)).to_be_focused()
    page.keyboard.press("Enter")
    combobox = page.get_by_role("combobox", name="Status: type to find a choice")
    combobox.press_sequentially("Leed")
    expect(page.get_by_role("alert")).to_contain_text("No choice of Status matches “Leed”")
    page.keyboard.press("Enter")  # nothing to choose: nothing is written
    expect(combobox).to_be_visible()
    combobox.fill("Cust")
    page.keyboard.press("Enter")
    expect(_cell(page, "Ada", 2)).to_have_text("Customer")

    # A typo in a number is refused in the cell: no request leaves the page.
    page.keyboard.press("ArrowRight")
    expect(_cell(page, "Ada", 3)).to_be_focused()
    page.keyboard.type("4O")
    page.keyboard.press("Enter")
    expect(_cell(page, "Ada", 3).get_by_role("alert")).to_have_text("“4O” is not a number.")
    page.keyboard.press("Escape")
    expect(_cell(page, "Ada", 3)).to_have_text("10")
    # A valid number is written, once.
    page.keyboard.type("42")
    page.keyboard.press("Enter")
    expect(_cell(page, "Ada", 3)).to_have_text("42")
    # The cells show what the API answered, so the emulator has it already (read once at the
    # end: reads here spend the base's 5 requests/s that the page needs).
    assert emulator.by_name(base, table)["Ada"] == {"Name": "Ada", "Status": "Customer",
                                                     "Score": 42}
    assert emulator.choices(base, table, "Status") == ["Lead", "Customer"]
    page.wait_for_load_state("networkidle")
    bodies = [json.loads(r.post_data) for r in patches]
    assert bodies == [{"fields": {"Status": "Customer"}}, {"fields": {"Score": 42}}]
    assert desktop.problems() == []


def test_a_filter_with_two_conditions_survives_a_reload(desktop, stack):
    page = desktop.page
    account = new_member(desktop, stack, "grid-filter")
    base = demo_base_id(stack, account)
    table = _people(stack, account, base)
    grid = _open(desktop, base, table)
    expect(page.get_by_text("4 records", exact=True)).to_be_visible()

    page.get_by_role("button", name="Add condition").click()
    page.get_by_label("Condition 1 field").select_option("Status")
    page.get_by_label("Condition 1 value").select_option("Lead")
    page.get_by_role("button", name="Add condition").click()
    page.get_by_label("Condition 2 field").select_option("Score")
    page.get_by_label("Condition 2 operator").select_option(label=">")
    page.get_by_label("Condition 2 value").fill("15")
    page.get_by_role("button", name="Apply filters").click()
    expect(grid.get_by_role("rowheader")).to_have_text(["Alan"])
    expect(page.get_by_text("1 record", exact=True)).to_be_visible()
    assert "where=" in page.url

    page.reload(wait_until="networkidle")
    expect(page.get_by_role("grid").get_by_role("rowheader")).to_have_text(["Alan"])
    expect(page.get_by_label("Condition 2 value")).to_have_value("15")
    expect(page.get_by_label("Condition 1 value")).to_have_value("Lead")
    assert desktop.problems() == []


def _photograph(page, name: str) -> None:
    """With SCREENSHOTS_DIR set (the README's pictures), the page at desktop and phone widths."""
    if not os.environ.get("SCREENSHOTS_DIR"):
        return
    shots = Path(os.environ["SCREENSHOTS_DIR"])
    shots.mkdir(parents=True, exist_ok=True)
    desktop = page.viewport_size
    page.screenshot(path=str(shots / f"{name}-desktop.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(shots / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(desktop)


def _stage_edit(page, row: str, column: int, text: str) -> None:
    """Edit a cell by keyboard: select it, type, Enter."""
    _cell(page, row, column).click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def test_staged_changes_across_two_tables_commit_together_and_undo(desktop, stack):
    page, emulator = desktop.page, Emulator(stack)
    account, base, people = _member_with_people(desktop, stack, "grid-stage")
    deals = _table(stack, account, base, "Deals", DEALS_FIELDS,
                   [{"Name": "Pilot", "Amount": 100.0}, {"Name": "Renewal", "Amount": 250.5}])
    before_people, before_deals = emulator.by_name(base, people), emulator.by_name(base, deals)
    _open(desktop, base, people)
    _photograph(page, "records-grid")
    page.get_by_role("button", name="Stage changes").click()

    _cell(page, "Ada", 2).click()
    page.keyboard.press("Enter")
    page.get_by_role("combobox", name="Status: type to find a choice").fill("Customer")
    page.keyboard.press("Enter")
    _stage_edit(page, "Grace", 3, "77")
    page.get_by_role("button", name="Delete Linus").click()
    expect(_cell(page, "Ada", 2)).to_have_class(re.compile("cell-changed"))
    expect(page.get_by_role("row").filter(has_text="Linus")).to_have_class(re.compile("row-deleted"))

    # The shared demo base has a Deals table of its own, and other tests' tables.
    page.get_by_role("navigation", name="Tables of this base").locator(
        f"a[href$='/tables/{deals}']").click()
    expect(page.get_by_role("grid", name=re.compile("^Deals"))).to_be_visible()
    _stage_edit(page, "Pilot", 2, "120.25")
    page.get_by_role("button", name="Add record").click()
    new_row = page.get_by_role("row").filter(
        has=page.get_by_role("button", name="Open new record"))
    new_row.locator("td").nth(1).click()
    page.keyboard.type("Expansion")
    page.keyboard.press("Enter")
    expect(page.get_by_role("row").filter(has_text="Expansion")).to_have_class(re.compile("row-new"))
    assert emulator.by_name(base, people) == before_people  # nothing written while staged

    page.get_by_role("button", name="Review").click()
    changes = page.get_by_role("list", name="Staged changes").get_by_role("listitem")
    expect(changes).to_have_count(5)
    _photograph(page, "staged-review")
    for sentence in (r"^People \w+: update Ada: Status Lead -> Customer$",
                     r"^People \w+: update Grace: Score 20 -> 77$",
                     r"^People \w+: delete Linus$",
                     r"^Deals \w+: update Pilot: Amount \$100\.00 -> \$120\.25$",
                     r"^Deals \w+: create Expansion$"):
        expect(changes.filter(has_text=re.compile(sentence))).to_have_count(1)
    page.get_by_role("button", name="Commit 5 changes").click()
    toast = page.locator(".toast")
    expect(toast).to_contain_text("Committed 5 changes.", timeout=90_000)

    after_people, after_deals = emulator.by_name(base, people), emulator.by_name(base, deals)
    assert after_people["Ada"]["Status"] == "Customer"
    assert after_people["Grace"]["Score"] == 77
    assert "Linus" not in after_people
    assert after_deals["Pilot"]["Amount"] == 120.25
    assert "Expansion" in after_deals

    toast.get_by_role("button", name="Undo").click()
    expect(toast).to_contain_text("Undone: the 5 changes are reverted.", timeout=90_000)
    assert emulator.by_name(base, people) == before_people
    assert emulator.by_name(base, deals) == before_deals
    # This test's own reads of the emulator spend the base's 5 requests/s behind the platform's
    # back, so Airtable may answer 429 once: the review waits it out (Retry-After) and commits.
    assert desktop.problems(waits_out_rate_limits=True) == []


def test_a_staged_commit_whose_dry_run_fails_shows_the_problem_on_the_cell_and_writes_nothing(
        desktop, stack):
    page, emulator = desktop.page, Emulator(stack)
    _, base, people = _member_with_people(desktop, stack, "grid-dry")
    _open(desktop, base, people)
    page.get_by_role("button", name="Stage changes").click()
    _stage_edit(page, "Ada", 3, "11")
    _stage_edit(page, "Grace", 3, "21")
    gone = next(r["id"] for r in emulator.records(base, people) if r["fields"]["Name"] == "Grace")
    emulator.delete(base, people, gone)  # someone else deletes Grace meanwhile
    before = emulator.by_name(base, people)

    page.get_by_role("button", name="Review").click()
    page.get_by_role("button", name="Commit 2 changes").click()
    problems = page.get_by_role("alert").filter(has_text="Problems found by the dry run")
    expect(problems).to_be_visible(timeout=60_000)
    expect(_cell(page, "Grace", 3)).to_contain_text("This record no longer exists in Airtable")
    expect(_cell(page, "Grace", 3)).to_have_class(re.compile("cell-problem"))
    expect(_cell(page, "Ada", 3)).not_to_have_class(re.compile("cell-problem"))
    assert emulator.by_name(base, people) == before
    # The failed dry run is no error of the page: the problem is shown where it is. The test's
    # own reads of the emulator may cost the dry run a 429, which the review waits out.
    assert desktop.problems(waits_out_rate_limits=True) == []
