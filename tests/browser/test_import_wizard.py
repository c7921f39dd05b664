"""The import wizard as a person uses it: a CSV whose columns partly match the table (one
mapped by hand, one matched by its name, one skipped) is previewed with its bad row marked,
imported with exactly the expected fields, its result survives a reload, and Undo import
leaves the table as it was; a workbook whose first sheet is too large offers its sheets, and the
one chosen is imported."""

from __future__ import annotations

import io
import re
import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.accounts import new_member

pytestmark = pytest.mark.e2e


def _contacts(stack, headers: dict[str, str], tag: str) -> list[dict]:
    """The Demo CRM contacts whose name carries `tag`, fields by name."""
    bases = requests.get(f"{stack.url}/api/airtable/bases", headers=headers, timeout=60).json()
    demo = next(b["id"] for b in bases["items"] if b["name"] == "Demo CRM")
    found = requests.get(f"{stack.url}/api/airtable/bases/{demo}/tables/Contacts/records",
                         params={"formula": f"FIND('{tag}', {{Name}})"}, headers=headers,
                         timeout=60)
    assert found.status_code == 200, found.text
    return sorted((r["fields"] for r in found.json()["records"]), key=lambda f: f["Name"])


def test_a_partly_matching_csv_is_mapped_previewed_imported_and_undone(desktop, stack):
    page = desktop.page
    headers = new_member(desktop, stack, "imports").headers
    tag = uuid.uuid4().hex[:6]
    csv = (f"Full name,score,Email\nAda {tag},90,ada-{tag}@example.com\n"
           f"Bob {tag},80,bob-{tag}@example.com\nCarl {tag},lots,carl-{tag}@example.com\n")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Files").click()
    page.get_by_label("File (up to 100 MB)").set_input_files(
        {"name": f"people-{tag}.csv", "mimeType": "text/csv", "buffer": csv.encode()})
    page.get_by_role("button", name="Upload", exact=True).click()
    row = page.get_by_role("row").filter(has_text=f"people-{tag}.csv")
    expect(row.get_by_text("ready")).to_be_visible(timeout=60_000)
    row.get_by_role("button", name="Import").click()

    wizard = page.locator("section").filter(has=page.get_by_role(
        "heading", name=f"Import people-{tag}.csv"))
    wizard.get_by_label("Base", exact=True).select_option(label="Demo CRM")
    wizard.get_by_label("Table").select_option("Contacts")
    score = wizard.get_by_label("Field for column score")
    expect(score).to_have_value("Score")  # matched by its name
    wizard.get_by_label("Field for column Full name").select_option("Name")
    wizard.get_by_label("Field for column Email").select_option(label="Don't import")
    expect(wizard.get_by_text("Not imported: Email.")).to_be_visible()
    expect(wizard.get_by_text("3 rows; 1 will be rejected.")).to_be_visible()
    preview = wizard.get_by_role("table", name="Preview of the first rows")
    bad = preview.locator("tr.row-problem")
    expect(bad).to_have_count(1)
    expect(bad).to_contain_text('Column "score": "lots" is not a number')

    wizard.get_by_role("button", name="Start import").click()
    page.wait_for_url(re.compile(r"/files/imports/[^/]+$"))
    result = page.locator("section.card")
    expect(result.get_by_text("succeeded", exact=True)).to_be_visible(timeout=120_000)
    expect(result).to_contain_text("2 created · 0 updated · 1 rejected")
    expect(result).to_contain_text("Columns not imported: Email")
    rejected = result.get_by_role("table", name="Rejected rows")
    expect(rejected.get_by_role("row").filter(has_text=re.compile(r"^\s*3"))).to_contain_text(
        'Column "score": "lots" is not a number (field "Score" is a number field).')
    assert _contacts(stack, headers, tag) == [{"Name": f"Ada {tag}", "Score": 90},
                                              {"Name": f"Bob {tag}", "Score": 80}]

    page.reload(wait_until="networkidle")  # the result is the import's own page
    expect(result).to_contain_text("2 created · 0 updated · 1 rejected")
    result.get_by_role("button", name="Undo import").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Undo import").click()
    expect(result.get_by_text("undone", exact=True)).to_be_visible(timeout=120_000)
    assert _contacts(stack, headers, tag) == []
    assert desktop.problems() == []


def _workbook(tag: str) -> bytes:
    """A first sheet too wide to read (past the 1,000 columns read) and a sheet of 3 contacts."""
    from openpyxl import Workbook

    book = Workbook()
    wide = book.active
    wide.title = "Wide"
    wide.append(["Name"])
    wide.cell(row=2, column=1001, value="far right")
    members = book.create_sheet("Members")
    members.append(["Name", "Score"])
    for i in range(1, 4):
        members.append([f"Sheet {i} {tag}", i])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_whose_first_sheet_is_too_large_imports_the_sheet_chosen_instead(desktop, stack):
    page = desktop.page
    headers = new_member(desktop, stack, "imports").headers
    tag = uuid.uuid4().hex[:6]
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Files").click()
    page.get_by_label("File (up to 100 MB)").set_input_files({
        "name": f"members-{tag}.xlsx", "buffer": _workbook(tag),
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    page.get_by_role("button", name="Upload", exact=True).click()
    row = page.get_by_role("row").filter(has_text=f"members-{tag}.xlsx")
    expect(row.get_by_text("ready")).to_be_visible(timeout=60_000)
    row.get_by_role("button", name="Import").click()

    wizard = page.locator("section").filter(has=page.get_by_role(
        "heading", name=f"Import members-{tag}.xlsx"))
    wizard.get_by_label("Base", exact=True).select_option(label="Demo CRM")
    wizard.get_by_label("Table").select_option("Contacts")
    # The first sheet is refused with the reason; the sheets become a choice.
    expect(wizard.get_by_role("alert")).to_contain_text("1001 columns")
    sheet = wizard.get_by_label("Sheet", exact=True)
    expect(sheet.locator("option")).to_have_text(["Wide", "Members"])
    sheet.select_option("Members")
    expect(wizard.get_by_text("3 rows; all can be imported.")).to_be_visible()

    wizard.get_by_role("button", name="Start import").click()
    page.wait_for_url(re.compile(r"/files/imports/[^/]+$"))
    result = page.locator("section.card")
    expect(result.get_by_text("succeeded", exact=True)).to_be_visible(timeout=120_000)
    expect(result).to_contain_text("3 created · 0 updated · 0 rejected")
    assert _contacts(stack, headers, tag) == [{"Name": f"Sheet {i} {tag}", "Score": i}
                                              for i in range(1, 4)]
    # The refused first sheet (a 422 of the preview) was an answer to show, not a failure.
    assert [p for p in desktop.problems() if not (p.startswith("HTTP 422:") and
                                                  p.endswith("/import"))
            and "status of 422" not in p] == []
