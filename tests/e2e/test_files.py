"""Files over HTTP: uploads checked by content, imports into the emulator with progress, exports.

The emulator enforces Airtable's 5 requests/s per base; each test gets a base of its own.
"""

from __future__ import annotations

import csv
import io
import json
import time
import uuid

import pytest
import requests
from openpyxl import Workbook

from tests.e2e.authutil import bearer, register
from tests.e2e.fileutil import download
from tests.helpers import png_bytes

PEOPLE = [{"name": "Name", "type": "singleLineText"},
          {"name": "Email", "type": "singleLineText"},
          {"name": "Score", "type": "number", "options": {"precision": 0}}]


@pytest.fixture(scope="module")
def bases(stack):
    """Fresh bases, made before the member's connection first lists what it reaches."""
    return [stack.airtable.create_base(f"Files {uuid.uuid4().hex[:6]}",
                                       tables=[{"name": "People", "fields": PEOPLE}])
            for _ in range(12)]


@pytest.fixture(scope="module")
def member(api, bases):
    """Headers of a member (the deployment's connection serves their personal workspace)."""
    return bearer(register(api)["access_token"])


@pytest.fixture
def base_id(bases):
    return bases.pop()


def _people(count: int) -> list[dict[str, str]]:
    return [{"Name": f"Person {i:05}", "Email": f"p{i}@example.com", "Score": str(i % 100)}
            for i in range(1, count + 1)]


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _upload(api, headers, name: str, data: bytes, content_type: str = "text/csv"):
    return api.post("/api/files/upload", files={"file": (name, data, content_type)},
                    headers=headers)


def _uploaded(api, headers, name: str, data: bytes, content_type: str = "text/csv") -> str:
    response = _upload(api, headers, name, data, content_type)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _import(api, headers, file_id: str, base_id: str, **options) -> str:
    response = api.post(f"/api/files/{file_id}/import",
                        json={"base_id": base_id, "table": "People", **options}, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()["import_id"]


def _finished(api, headers, import_id: str, timeout: float = 180.0,
              seen: list[int] | None = None) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = api.get(f"/api/files/imports/{import_id}", headers=headers).json()
        if seen is not None:
            seen.append(status["rows_done"])
        if status["status"] != "running":
            return status
        time.sleep(0.5)
    raise AssertionError(f"import {import_id} still running after {timeout}s")


def _table_rows(stack, base_id: str) -> list[dict]:
    table = stack.airtable.store.table(base_id, "People")
    names = {f.id: f.name for f in table.fields}
    return [{names[k]: v for k, v in r.cells.items()} for r in table.records.values()]


def _statuses(stack, base_id: str) -> list[int]:
    return [status for *_, status in stack.airtable.requests_for(base_id)]


@pytest.fixture(scope="module")
def imported(api, stack, member, bases):
    """2,000 rows of CSV uploaded and imported into a fresh base, progress polled throughout."""
    base = bases.pop()
    rows = _people(2000)
    file_id = _uploaded(api, member, "people.csv", _csv(rows))
    seen: list[int] = []
    import_id = _import(api, member, file_id, base, typecast=True)
    status = _finished(api, member, import_id, timeout=540, seen=seen)
    return {"base_id": base, "rows": rows, "status": status, "seen": seen,
            "file_id": file_id}


# ------------------------------------------------------------------ imports
# 200 write requests at 5/s take 40 s on an idle machine; a loaded CI machine gets room.
@pytest.mark.timeout(600)
def test_a_2000_row_csv_imports_exactly_once_with_progress_visible(stack, imported):
    status = imported["status"]
    assert status["status"] == "succeeded", status.get("error")
    assert (status["rows_total"], status["rows_done"], status["created"]) == (2000, 2000, 2000)
    assert status["failed"] == []
    assert any(0 < done < 2000 for done in imported["seen"]), imported["seen"]
    assert imported["seen"] == sorted(imported["seen"])
    stored = _table_rows(stack, imported["base_id"])
    assert len(stored) == 2000
    assert sorted(r["Name"] for r in stored) == [r["Name"] for r in imported["rows"]]
    assert stored[0] == {"Name": "Person 00001", "Email": "p1@example.com", "Score": 1}
    writes = [r for r in stack.airtable.requests_for(imported["base_id"]) if r[1] == "POST"]
    assert len(writes) == 200  # 10 records per request
    assert 429 not in _statuses(stack, imported["base_id"])


def test_rejected_rows_are_reported_by_number_and_the_rest_imported(api, stack, member,
                                                                     base_id):
    rows = _people(50)
    for number in (5, 17, 42):
        rows[number - 1]["Score"] = "not a number"
    file_id = _uploaded(api, member, "scores.csv", _csv(rows))
    status = _finished(api, member, _import(api, member, file_id, base_id, typecast=True))
    assert status["status"] == "succeeded", status.get("error")
    assert [f["row"] for f in status["failed"]] == [5, 17, 42]
    assert all("not a number" in f["error"] for f in status["failed"]), status["failed"]
    assert (status["created"], status["rows_done"]) == (47, 50)
    names = {r["Name"] for r in _table_rows(stack, base_id)}
    assert len(names) == 47 and "Person 00005" not in names and "Person 00006" in names


def test_an_upsert_import_run_twice_changes_nothing_the_second_time(api, stack, member,
                                                                    base_id):
    file_id = _uploaded(api, member, "upsert.csv", _csv(_people(30)))
    first = _finished(api, member, _import(api, member, file_id, base_id, typecast=True,
                                           merge_on=["Name"]))
    assert (first["status"], first["created"], first["updated"]) == ("succeeded", 30, 0)
    before = _table_rows(stack, base_id)
    second = _finished(api, member, _import(api, member, file_id, base_id, typecast=True,
                                            merge_on=["Name"]))
    assert (second["status"], second["created"], second["updated"]) == ("succeeded", 0, 30)
    assert _table_rows(stack, base_id) == before


def test_an_xlsx_sheet_imports_with_a_column_mapping(api, stack, member, base_id):
    book = Workbook()
    book.active.title = "Ignored"
    sheet = book.create_sheet("People")
    sheet.append(["Full name", "Points", "Unused"])
    for i in range(1, 13):
        sheet.append([f"Sheet person {i}", i * 10, "x"])
    out = io.BytesIO()
    book.save(out)
    file_id = _uploaded(api, member, "people.xlsx", out.getvalue(),
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    status = _finished(api, member, _import(
        api, member, file_id, base_id, sheet="People",
        mapping={"Full name": "Name", "Points": "Score"}))
    assert status["status"] == "succeeded", status.get("error")
    assert (status["created"], status["failed"]) == (12, [])
    assert {"Name": "Sheet person 3", "Score": 30} in _table_rows(stack, base_id)


def test_a_json_array_imports_and_an_element_that_is_not_an_object_is_rejected(
        api, stack, member, base_id):
    items = [{"Name": f"Json {i}", "Score": i} for i in range(1, 11)] + ["oops"]
    file_id = _uploaded(api, member, "people.json", json.dumps(items).encode(),
                        "application/json")
    status = _finished(api, member, _import(api, member, file_id, base_id))
    assert status["status"] == "succeeded", status.get("error")
    assert status["created"] == 10
    assert status["failed"] == [{"row": 11, "error": "the element is not a JSON object"}]
    assert {"Name": "Json 4", "Score": 4} in _table_rows(stack, base_id)


def test_the_same_idempotency_key_imports_once(api, stack, member, base_id):
    file_id = _uploaded(api, member, "once.csv", _csv(_people(20)))
    headers = {**member, "Idempotency-Key": uuid.uuid4().hex}
    body = {"base_id": base_id, "table": "People", "typecast": True}
    first = api.post(f"/api/files/{file_id}/import", json=body, headers=headers)
    again = api.post(f"/api/files/{file_id}/import", json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["import_id"] == again.json()["import_id"]
    assert _finished(api, member, first.json()["import_id"])["created"] == 20
    assert len(_table_rows(stack, base_id)) == 20


def test_a_column_named_like_no_field_is_reported_as_ignored(api, stack, member, base_id):
    file_id = _uploaded(api, member, "unknown.csv", b"Name,Shoe size\nAda,38\n")
    status = _finished(api, member, _import(api, member, file_id, base_id))
    assert (status["status"], status["created"]) == ("succeeded", 1), status.get("error")
    assert status["ignored_columns"] == ["Shoe size"]
    assert _table_rows(stack, base_id) == [{"Name": "Ada"}]


def test_a_mapping_to_a_field_the_table_lacks_fails_the_import_with_a_reason(api, member,
                                                                            base_id):
    file_id = _uploaded(api, member, "unknown.csv", b"Name,Shoe size\nAda,38\n")
    status = _finished(api, member, _import(api, member, file_id, base_id,
                                            mapping={"Shoe size": "Shoe"}))
    assert status["status"] == "failed"
    assert 'no field "Shoe"' in status["error"]


# ------------------------------------------------------------------ export
@pytest.mark.timeout(600)
def test_the_export_of_the_table_downloads_a_csv_equal_to_the_data(api, stack, member,
                                                                   imported):
    response = api.post("/api/files/exports", json={
        "base_id": imported["base_id"], "table": "People", "format": "csv",
        "fields": ["Name", "Email", "Score"]}, headers=member)
    assert response.status_code == 202, response.text
    export_id = response.json()["export_id"]
    deadline = time.monotonic() + 120
    while (status := api.get(f"/api/files/exports/{export_id}",
                             headers=member).json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert (status["status"], status["rows"]) == ("succeeded", 2000), status
    exported = list(csv.DictReader(io.StringIO(download(api, member, status["file_id"]).decode())))
    key = lambda r: r["Name"]  # noqa: E731
    assert sorted(exported, key=key) == sorted(imported["rows"], key=key)
    file = api.get(f"/api/files/{status['file_id']}", headers=member).json()
    assert (file["format"], file["status"]) == ("csv", "ready")


# ------------------------------------------------------------------ uploads
def test_a_png_renamed_csv_is_refused(api, member):
    response = _upload(api, member, "photo.csv", png_bytes())
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"] == [
        {"field": "file", "problem": "content does not match type"}]


def test_other_types_and_oversized_files_are_refused(api, member):
    assert _upload(api, member, "photo.png", png_bytes(), "image/png").status_code == 422
    big = b"Name\n" + b"x" * (4 * 1024 * 1024)
    response = _upload(api, member, "big.csv", big)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
    response = api.post("/api/files/uploads", json={
        "filename": "huge.csv", "content_type": "text/csv", "size": 100 * 1024 * 1024 + 1},
        headers=member)
    assert response.status_code == 413


def test_a_presigned_upload_is_checked_registered_and_importable(api, stack, member, base_id):
    data = _csv(_people(25))
    started = api.post("/api/files/uploads", json={
        "filename": "presigned.csv", "content_type": "text/csv", "size": len(data)},
        headers=member)
    assert started.status_code == 201, started.text
    ticket = started.json()
    put = requests.put(ticket["upload_url"], data=data, headers=ticket["headers"], timeout=30)
    assert put.status_code == 200, put.text
    file = _wait_file(api, member, ticket["file_id"])
    assert (file["status"], file["size"], file["format"]) == ("ready", len(data), "csv")
    status = _finished(api, member, _import(api, member, ticket["file_id"], base_id,
                                            typecast=True))
    assert (status["status"], status["created"]) == ("succeeded", 25)


def test_a_presigned_upload_that_is_not_what_it_claims_ends_failed(api, member):
    png = png_bytes()
    ticket = api.post("/api/files/uploads", json={
        "filename": "sneaky.csv", "content_type": "text/csv", "size": len(png)},
        headers=member).json()
    requests.put(ticket["upload_url"], data=png, headers=ticket["headers"], timeout=30)
    file = _wait_file(api, member, ticket["file_id"])
    assert file["status"] == "failed"
    assert "not text" in file["error"]


def _wait_file(api, headers, file_id: str) -> dict:
    deadline = time.monotonic() + 30
    while (file := api.get(f"/api/files/{file_id}", headers=headers).json())["status"] == \
            "pending":
        assert time.monotonic() < deadline, file
        time.sleep(0.3)
    return file


def test_files_are_listed_downloaded_and_deleted_within_the_workspace(api, member):
    data = b"Name,Score\nAda,1\n"
    file_id = _uploaded(api, member, "small.csv", data)
    listed = api.get("/api/files", headers=member).json()
    assert file_id in [f["id"] for f in listed["items"]]
    assert download(api, member, file_id) == data
    stranger = bearer(register(api)["access_token"])
    assert api.get(f"/api/files/{file_id}", headers=stranger).status_code == 404
    assert api.delete(f"/api/files/{file_id}", headers=stranger).status_code == 404
    assert api.delete(f"/api/files/{file_id}", headers=member).status_code == 204
    assert api.get(f"/api/files/{file_id}", headers=member).status_code == 404


def test_viewers_read_and_download_but_do_not_change_files(api, member, database_url):
    from sqlalchemy import create_engine, text

    workspace_id = next(w["id"] for w in api.get("/api/workspaces", headers=member).json()[
        "items"] if w["personal"])
    data = b"Name\nAda\n"
    file_id = _uploaded(api, member, "shared.csv", data)
    viewer_token = register(api)
    viewer = bearer(viewer_token["access_token"])
    engine = create_engine(database_url)
    with engine.begin() as conn:  # as an accepted invitation with the viewer role leaves it
        conn.execute(text("INSERT INTO workspace_members (workspace_id, user_id, role, "
                          "created_at) VALUES (:ws, :user, 'viewer', CURRENT_TIMESTAMP)"),
                     {"ws": workspace_id, "user": viewer_token["user"]["id"]})
    engine.dispose()
    assert api.get(f"/api/files/{file_id}", headers=viewer).status_code == 200
    assert file_id in [f["id"] for f in api.get(f"/api/files?workspace_id={workspace_id}",
                                                headers=viewer).json()["items"]]
    assert download(api, viewer, file_id) == data
    assert api.delete(f"/api/files/{file_id}", headers=viewer).status_code == 403
    upload = api.post("/api/files/upload", files={"file": ("v.csv", data, "text/csv")},
                      data={"workspace_id": workspace_id}, headers=viewer)
    assert upload.status_code == 403
    refused = api.post(f"/api/files/{file_id}/import", headers=viewer,
                       json={"base_id": "app" + "A" * 14, "table": "People"})
    assert refused.status_code == 403
