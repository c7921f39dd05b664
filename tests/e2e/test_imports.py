"""Imports as a person uses them (issue 26): values converted to each field's type, columns
matched by name, the dry run's preview, ignored columns, undo, and what the notifications say.

The emulator checks cell types as Airtable does (a string is refused for a number field
without `typecast`) and enforces 5 requests/s per base; each test gets a base of its own.
"""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from datetime import datetime

import pytest
from openpyxl import Workbook

from tests.e2e.authutil import bearer, register

MEMBERS = [{"name": "Name", "type": "singleLineText"},
           {"name": "Score", "type": "number", "options": {"precision": 0}},
           {"name": "Active", "type": "checkbox"},
           {"name": "Joined", "type": "date", "options": {"dateFormat": {"name": "iso"}}},
           {"name": "Status", "type": "singleSelect",
            "options": {"choices": [{"name": "Active"}, {"name": "Paused"}, {"name": "Left"}]}}]
STATUSES = ["active", "PAUSED", "Left"]
CHECKS = ["yes", "no", "1", "0", "TRUE", "false"]


@pytest.fixture(scope="module")
def bases(stack):
    """Fresh bases, made before the member's connection first lists what it reaches."""
    return [stack.airtable.create_base(f"Imports {uuid.uuid4().hex[:6]}", tables=[
        {"name": "Members", "fields": MEMBERS},
        {"name": "Teams", "fields": [{"name": "Name", "type": "singleLineText"}]}])
            for _ in range(10)]


@pytest.fixture(scope="module")
def member(api, bases):
    return bearer(register(api)["access_token"])


@pytest.fixture
def base_id(bases):
    return bases.pop()


def _member_row(i: int) -> dict[str, str]:
    """Row i as a spreadsheet holds it: every cell a string, dates day-first."""
    return {"Name": f"Member {i:04}", "Score": f"{i * 3:,}", "Active": CHECKS[i % 6],
            "Joined": f"{i % 28 + 1:02}/{i % 12 + 1:02}/2024", "Status": STATUSES[i % 3],
            "Notes": f"note {i}"}


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _uploaded(api, headers, name: str, data: bytes) -> str:
    response = api.post("/api/files/upload", files={"file": (name, data, "text/csv")},
                        headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _import(api, headers, file_id: str, base_id: str, **options) -> str:
    response = api.post(f"/api/files/{file_id}/import",
                        json={"base_id": base_id, "table": "Members", **options}, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()["import_id"]


def _until(api, headers, import_id: str, done, timeout: float = 180.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = api.get(f"/api/files/imports/{import_id}", headers=headers).json()
        if done(status):
            return status
        time.sleep(0.5)
    raise AssertionError(f"import {import_id}: {status}")


def _finished(api, headers, import_id: str, timeout: float = 180.0) -> dict:
    return _until(api, headers, import_id, lambda s: s["status"] != "running", timeout)


def _records(stack, base_id: str) -> dict[str, dict]:
    """The table's records by Name, fields by name, as the emulator holds them."""
    table = stack.airtable.store.table(base_id, "Members")
    names = {f.id: f.name for f in table.fields}
    rows = [{names[k]: v for k, v in r.cells.items() if v is not None}
            for r in table.records.values()]
    return {r["Name"]: r for r in rows}


def _writes(stack, base_id: str) -> list:
    return [r for r in stack.airtable.requests_for(base_id) if r[1] in ("POST", "PATCH")
            and "/meta/" not in r[2]]


# ------------------------------------------------------------------ converted values
@pytest.mark.timeout(600)
def test_2000_csv_rows_are_written_with_their_field_types_and_only_the_bad_ones_rejected(
        api, stack, member, base_id):
    rows = [_member_row(i) for i in range(1, 2001)]
    rows[6]["Score"] = "lots"           # row 7
    rows[776]["Active"] = "maybe"       # row 777
    rows[1998]["Joined"] = "31/02/2024"  # row 1999: no such day
    file_id = _uploaded(api, member, "members.csv", _csv(rows))
    status = _finished(api, member, _import(api, member, file_id, base_id), timeout=540)

    assert status["status"] == "succeeded", status.get("error")
    assert (status["rows_total"], status["created"], status["failed_count"]) == (2000, 1997, 3)
    assert status["failed"] == [
        {"row": 7, "error": 'Column "Score": "lots" is not a number '
                            '(field "Score" is a number field).'},
        {"row": 777, "error": 'Column "Active": "maybe" is not yes or no (true/false, yes/no, '
                              '1/0) (field "Active" is a checkbox field).'},
        {"row": 1999, "error": 'Column "Joined": "31/02/2024" is not a date (day/month/year) '
                               '(field "Joined" is a date field).'}]
    assert status["ignored_columns"] == ["Notes"]
    stored = _records(stack, base_id)
    assert len(stored) == 1997 and "Member 0007" not in stored
    assert stored["Member 0399"] == {"Name": "Member 0399", "Score": 1197,
                                     "Joined": "2024-04-08", "Status": "Active"}
    assert stored["Member 0400"]["Active"] is True and stored["Member 0401"]["Status"] == "Left"
    # One request per 10 rows at the rate limit: nothing refused, nothing sent row by row.
    writes = _writes(stack, base_id)
    assert len(writes) == 200
    assert {r[4] for r in writes} == {200}


# ------------------------------------------------------------------ mapping and dry run
def _partly_matching(count: int) -> list[dict[str, str]]:
    return [{"Full name": f"Person {i}", "score": str(i), "Active": "yes", "Notes": "x"}
            for i in range(1, count + 1)]


def test_the_dry_run_previews_the_rows_as_written_with_their_problems_and_writes_nothing(
        api, stack, member, base_id):
    rows = _partly_matching(30)
    rows[2]["score"] = "three"
    file_id = _uploaded(api, member, "people.csv", _csv(rows))
    response = api.post(f"/api/files/{file_id}/import", headers=member, json={
        "base_id": base_id, "table": "Members", "dry_run": True,
        "mapping": {"Full name": "Name", "Active": None}})
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["columns"] == [
        {"column": "Full name", "field": "Name", "field_type": "singleLineText",
         "sample": ["Person 1", "Person 2", "Person 3"]},
        {"column": "score", "field": "Score", "field_type": "number",
         "sample": ["1", "2", "three"]},
        {"column": "Active", "field": None, "field_type": None, "sample": ["yes", "yes", "yes"]},
        {"column": "Notes", "field": None, "field_type": None, "sample": ["x", "x", "x"]}]
    assert preview["ignored_columns"] == ["Active", "Notes"]
    assert (preview["rows_total"], preview["problems_total"]) == (30, 1)
    assert len(preview["preview"]) == 20
    assert preview["preview"][0] == {"row": 1, "fields": {"Name": "Person 1", "Score": 1},
                                     "problems": []}
    third = preview["preview"][2]
    assert [p["column"] for p in third["problems"]] == ["score"]
    assert '"three" is not a number' in third["problems"][0]["message"]
    assert _records(stack, base_id) == {}
    assert _writes(stack, base_id) == []


def test_a_mapping_to_a_field_the_table_lacks_is_refused_by_the_dry_run(api, member, base_id):
    file_id = _uploaded(api, member, "people.csv", _csv(_partly_matching(2)))
    response = api.post(f"/api/files/{file_id}/import", headers=member, json={
        "base_id": base_id, "table": "Members", "dry_run": True, "mapping": {"score": "Points"}})
    assert response.status_code == 422, response.text
    assert 'no field "Points"' in response.json()["error"]["message"]


def test_columns_map_by_name_or_by_hand_and_the_ignored_ones_are_reported(
        api, stack, member, base_id):
    file_id = _uploaded(api, member, "people.csv", _csv(_partly_matching(12)))
    status = _finished(api, member, _import(api, member, file_id, base_id,
                                            mapping={"Full name": "Name", "Active": None}))
    assert status["status"] == "succeeded", status.get("error")
    assert (status["created"], status["failed"], status["ignored_columns"]) == \
        (12, [], ["Active", "Notes"])
    assert _records(stack, base_id)["Person 3"] == {"Name": "Person 3", "Score": 3}


def test_an_xlsx_sheet_too_large_to_read_is_named_and_another_sheet_chosen(
        api, stack, member, base_id):
    book = Workbook()
    wide = book.active
    wide.title = "Wide"
    wide.append(["Name"])
    wide.cell(row=2, column=1001, value="far right")  # past the 1,000 columns read
    members = book.create_sheet("Members")
    members.append(["Name", "Score", "Joined"])
    for i in range(1, 4):
        members.append([f"Sheet member {i}", i, datetime(2024, 3, i)])
    out = io.BytesIO()
    book.save(out)
    response = api.post("/api/files/upload", headers=member, files={"file": (
        "members.xlsx", out.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    file_id = response.json()["id"]
    body = {"base_id": base_id, "table": "Members", "dry_run": True}
    refused = api.post(f"/api/files/{file_id}/import", headers=member, json=body)
    assert refused.status_code == 422, refused.text
    assert "1001 columns" in refused.json()["error"]["message"]
    assert 'sheets are "Wide", "Members"' in refused.json()["error"]["message"]
    assert refused.json()["error"]["details"] == [
        {"field": "sheet", "problem": "too large", "choices": ["Wide", "Members"]}]
    chosen = api.post(f"/api/files/{file_id}/import", headers=member,
                      json={**body, "sheet": "Members"})
    assert chosen.status_code == 200, chosen.text
    assert (chosen.json()["sheets"], chosen.json()["rows_total"]) == (["Wide", "Members"], 3)
    status = _finished(api, member, _import(api, member, file_id, base_id, sheet="Members"))
    assert (status["status"], status["created"]) == ("succeeded", 3), status
    assert _records(stack, base_id)["Sheet member 2"] == {
        "Name": "Sheet member 2", "Score": 2, "Joined": "2024-03-02"}


def test_linked_records_are_found_by_their_primary_field_value(api, stack, base_id):
    person = bearer(register(api)["access_token"])
    teams = stack.airtable.store.base(base_id).table("Teams")
    made = api.post(f"/api/airtable/bases/{base_id}/tables/Teams/records", headers=person,
                    json={"records": [{"fields": {"Name": n}} for n in ("Red", "Blue")]})
    assert made.status_code == 201, made.text
    ids = {r["fields"]["Name"]: r["id"] for r in made.json()["records"]}
    field = api.post(f"/api/airtable/bases/{base_id}/tables/Members/fields", headers=person,
                     json={"name": "Team", "type": "multipleRecordLinks",
                           "options": {"linkedTableId": teams.id}})
    assert field.status_code in (200, 201), field.text
    rows = [{"Name": "Linked 1", "Team": "red", "Score": "1"},
            {"Name": "Linked 2", "Team": "Blue, RED", "Score": "2"},
            {"Name": "Linked 3", "Team": "Green", "Score": "3"},
            {"Name": "Linked 4", "Team": "", "Score": "4"}]
    file_id = _uploaded(api, person, "teams.csv", _csv(rows))
    status = _finished(api, person, _import(api, person, file_id, base_id))
    assert (status["created"], [f["row"] for f in status["failed"]]) == (3, [3]), status
    assert '"Green" is not the primary field value of a record of the linked table' in \
        status["failed"][0]["error"]
    stored = _records(stack, base_id)
    assert stored["Linked 1"]["Team"] == [ids["Red"]]
    assert stored["Linked 2"]["Team"] == [ids["Blue"], ids["Red"]]


# ------------------------------------------------------------------ undo
def _undo(api, headers, import_id: str, **body):
    return api.post(f"/api/files/imports/{import_id}/undo", json=body, headers=headers)


def test_undo_deletes_the_records_the_import_created(api, stack, member, base_id):
    file_id = _uploaded(api, member, "people.csv", _csv(_partly_matching(25)))
    import_id = _import(api, member, file_id, base_id)
    assert _finished(api, member, import_id)["created"] == 25
    response = _undo(api, member, import_id)
    assert response.status_code == 202, response.text
    status = _until(api, member, import_id, lambda s: s["status"] == "undone")
    assert status["undo"]["status"] == "succeeded"
    assert _records(stack, base_id) == {}
    assert _undo(api, member, import_id).status_code == 409  # only once


def test_undo_refuses_when_records_were_edited_since_unless_forced(api, stack, member, base_id):
    file_id = _uploaded(api, member, "people.csv", _csv(_partly_matching(12)))
    import_id = _import(api, member, file_id, base_id)
    assert _finished(api, member, import_id)["created"] == 12
    record = next(r for r in stack.airtable.store.table(base_id, "Members").records.values())
    edited = api.patch(f"/api/airtable/bases/{base_id}/tables/Members/records/{record.id}",
                       json={"fields": {"Score": 999}}, headers=member)
    assert edited.status_code == 200, edited.text
    refused = _undo(api, member, import_id)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["details"] == [
        {"table": "Members", "record_id": record.id, "fields": ["Score"]}]
    assert len(stack.airtable.store.table(base_id, "Members").records) == 12
    assert _undo(api, member, import_id, force=True).status_code == 202
    _until(api, member, import_id, lambda s: s["status"] == "undone")
    assert _records(stack, base_id) == {}


def test_undo_of_an_upsert_restores_the_records_it_updated(api, stack, member, base_id):
    first = _uploaded(api, member, "people.csv", _csv(_partly_matching(10)))
    _finished(api, member, _import(api, member, first, base_id, mapping={"Full name": "Name"}))
    before = _records(stack, base_id)
    changed = [{"Full name": f"Person {i}", "score": str(i * 100)} for i in (2, 4, 11)]
    second = _uploaded(api, member, "changes.csv", _csv(changed))
    import_id = _import(api, member, second, base_id, mapping={"Full name": "Name"},
                        merge_on=["Name"])
    status = _finished(api, member, import_id)
    assert (status["created"], status["updated"]) == (1, 2), status
    assert _records(stack, base_id)["Person 4"]["Score"] == 400
    assert _undo(api, member, import_id).status_code == 202
    _until(api, member, import_id, lambda s: s["status"] == "undone")
    assert _records(stack, base_id) == before


# ------------------------------------------------------------------ what people read
def _inbox(api, headers, wanted, timeout: float = 60.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = api.get("/api/notifications", headers=headers).json()["items"]
        if wanted(items):
            return items
        time.sleep(0.5)
    raise AssertionError(f"inbox: {[i['title'] for i in items]}")


def test_notifications_name_the_file_table_and_transaction_and_link_to_them(
        api, stack, base_id):
    person = bearer(register(api)["access_token"])
    rows = _partly_matching(6)
    rows[4]["score"] = "five"
    file_id = _uploaded(api, person, "people.csv", _csv(rows))
    import_id = _import(api, person, file_id, base_id, mapping={"Full name": "Name"})
    _finished(api, person, import_id)
    assert _undo(api, person, import_id).status_code == 202
    saga_id = _until(api, person, import_id, lambda s: s["status"] == "undone")["undo"]["saga_id"]
    items = _inbox(api, person, lambda items: {f"/files/imports/{import_id}",
                                               f"/sagas/{saga_id}"} <= {i["link"] for i in items})
    by_link = {i["link"]: i for i in items}
    assert by_link[f"/files/imports/{import_id}"]["title"] == \
        "people.csv -> Members: 5 created, 1 rejected"
    assert by_link[f"/sagas/{saga_id}"]["title"] == \
        "Transaction 'undo import of people.csv into Members' succeeded"
    saga = api.get(f"/api/sagas/{saga_id}", headers=person).json()
    assert saga["summary"] == "undo import of people.csv into Members"
    for item in items:
        assert "?" not in item["title"] and "saga" not in item["title"].lower(), item
        assert not re.search(r"\b[0-9a-f]{32}\b", item["title"]), item
