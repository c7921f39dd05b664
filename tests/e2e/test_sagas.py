"""Sagas over real HTTP against the local stack, checked at the Airtable emulator itself."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from tests.e2e.authutil import bearer, register

CONTACTS = [{"name": "Name", "type": "singleLineText"}, {"name": "Email", "type": "email"},
            {"name": "Score", "type": "number", "options": {"precision": 0}}]
DEALS = [{"name": "Deal", "type": "singleLineText"},
         {"name": "Amount", "type": "currency", "options": {"precision": 2, "symbol": "$"}}]
TERMINAL = {"succeeded", "compensated", "failed", "cancelled", "undone"}

pytestmark = pytest.mark.e2e


# ---------------------------------------------------------------- helpers
def _base(stack) -> str:
    """A new base with two rows in Contacts and in Deals (written to the emulator directly)."""
    from local.airtable_emulator.records import create_records

    emulator = stack.airtable
    base_id = emulator.create_base(f"Sagas {uuid.uuid4().hex[:6]}",
                                   [{"name": "Contacts", "fields": CONTACTS},
                                    {"name": "Deals", "fields": DEALS}])
    with emulator.store.lock:
        create_records(emulator.store.table(base_id, "Contacts"), {"records": [
            {"fields": {"Name": "Ada", "Email": "ada@example.com", "Score": 90}},
            {"fields": {"Name": "Grace", "Email": "grace@example.com", "Score": 80}}]})
        create_records(emulator.store.table(base_id, "Deals"), {"records": [
            {"fields": {"Deal": "Engines", "Amount": 100}},
            {"fields": {"Deal": "Compilers", "Amount": 250.5}}]})
    return base_id


def _rows(stack, base_id: str, table: str) -> dict[str, dict[str, Any]]:
    """What the emulator holds, read from its store (no request, no rate-limit slot)."""
    emulator = stack.airtable
    with emulator.store.lock:
        t = emulator.store.table(base_id, table)
        return {r.id: {f.name: r.cells[f.id] for f in t.fields if f.id in r.cells}
                for r in t.records.values()}


def _both(stack, base_id: str) -> dict[str, dict[str, dict[str, Any]]]:
    return {t: _rows(stack, base_id, t) for t in ("Contacts", "Deals")}


def _member(api, stack) -> dict[str, str]:
    """A new user (after the base exists, so their connection's first listing shows it)."""
    return bearer(register(api)["access_token"])


def _start(api, headers, base_id: str, operations: list[dict], **extra) -> Any:
    return api.post("/api/sagas", headers=headers, json={
        "type": "airtable_transaction", "input": {"base_id": base_id, "operations": operations},
        **extra})


def _finished(api, headers, saga_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        saga = api.get(f"/api/sagas/{saga_id}", headers=headers)
        assert saga.status_code == 200, saga.text
        if saga.json()["status"] in TERMINAL:
            return saga.json()
        time.sleep(0.2)
    raise AssertionError(f"saga {saga_id} did not finish in {timeout}s")


def _run(api, headers, base_id: str, operations: list[dict]) -> dict[str, Any]:
    started = _start(api, headers, base_id, operations)
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "running"
    return _finished(api, headers, started.json()["saga_id"])


def _first(stack, base_id: str, table: str) -> str:
    return next(iter(_rows(stack, base_id, table)))


# ---------------------------------------------------------------- behaviour
def test_a_failing_last_operation_leaves_both_tables_exactly_as_before(api, stack):
    base_id = _base(stack)
    headers = _member(api, stack)
    before = _both(stack, base_id)
    saga = _run(api, headers, base_id, [
        {"action": "create", "table": "Contacts",
         "records": [{"fields": {"Name": "Linus", "Score": 60}}]},
        {"action": "update", "table": "Deals",
         "records": [{"id": _first(stack, base_id, "Deals"), "fields": {"Amount": 1}}]},
        {"action": "create", "table": "Deals", "records": [{"fields": {"Colour": "red"}}]}])
    assert saga["status"] == "compensated"
    assert _both(stack, base_id) == before  # ids and values
    first, second, last = saga["steps"]
    assert [first["status"], second["status"], last["status"]] == [
        "succeeded", "succeeded", "failed"]
    assert "Colour" in last["error"]
    assert first["compensation"]["status"] == "compensated"
    assert first["compensation"]["output"]["deleted"] == first["output"]["created"]
    assert second["compensation"]["status"] == "compensated"
    assert second["compensation"]["output"]["restored"] == second["output"]["updated"]
    assert last["compensation"]["status"] == "not_needed"
    inbox = _wait_for_notification(api, headers, "saga.compensated")
    assert inbox["data"]["saga_id"] == saga["id"]


def test_the_happy_path_keeps_every_change(api, stack):
    base_id = _base(stack)
    headers = _member(api, stack)
    deal = _first(stack, base_id, "Deals")
    doomed = _first(stack, base_id, "Contacts")
    saga = _run(api, headers, base_id, [
        {"action": "create", "table": "Contacts", "records": [{"fields": {"Name": "Linus"}}]},
        {"action": "update", "table": "Deals", "records": [{"id": deal,
                                                            "fields": {"Amount": 999}}]},
        {"action": "upsert", "table": "Contacts", "merge_on": ["Email"],
         "records": [{"fields": {"Email": "grace@example.com", "Score": 81}}]},
        {"action": "delete", "table": "Contacts", "records": [{"id": doomed}]}])
    assert saga["status"] == "succeeded"
    created = saga["output"]["operations"][0]["created"][0]
    contacts = _rows(stack, base_id, "Contacts")
    assert contacts[created] == {"Name": "Linus"}
    assert doomed not in contacts
    assert {c["Name"]: c.get("Score") for c in contacts.values()}["Grace"] == 81
    assert _rows(stack, base_id, "Deals")[deal]["Amount"] == 999
    assert saga["output"]["operations"][3] == {"action": "delete", "table": "Contacts",
                                               "deleted": [doomed]}


def test_25_records_are_created_in_chunks_and_compensated_whole(api, stack):
    base_id = _base(stack)
    headers = _member(api, stack)
    before = _both(stack, base_id)
    saga = _run(api, headers, base_id, [
        {"action": "create", "table": "Contacts",
         "records": [{"fields": {"Name": f"Bulk {n}"}} for n in range(25)]},
        {"action": "update", "table": "Contacts",
         "records": [{"id": "recAAAAAAAAAAAAAA", "fields": {"Name": "ghost"}}]}])
    assert saga["status"] == "compensated"
    assert saga["steps"][0]["chunks_applied"] == 3
    assert len(saga["steps"][0]["output"]["created"]) == 25
    assert sorted(saga["steps"][0]["compensation"]["output"]["deleted"]) == sorted(
        saga["steps"][0]["output"]["created"])
    assert _both(stack, base_id) == before


def test_undo_restores_the_tables_and_refuses_when_a_record_changed(api, stack):
    base_id = _base(stack)
    headers = _member(api, stack)
    before = _both(stack, base_id)
    operations = [
        {"action": "create", "table": "Contacts", "records": [{"fields": {"Name": "Tmp"}}]},
        {"action": "update", "table": "Deals", "records": [
            {"id": _first(stack, base_id, "Deals"), "fields": {"Amount": 5}}]}]
    clean = _run(api, headers, base_id, operations)
    assert clean["status"] == "succeeded"
    accepted = api.post(f"/api/sagas/{clean['id']}/undo", headers=headers, json={})
    assert accepted.status_code == 202, accepted.text
    assert _finished(api, headers, clean["id"])["status"] == "undone"
    assert _both(stack, base_id) == before

    edited = _run(api, headers, base_id, operations)
    created = edited["output"]["operations"][0]["created"][0]
    touched = api.patch(f"/api/airtable/bases/{base_id}/tables/Contacts/records/{created}",
                        headers=headers, json={"fields": {"Name": "Edited since"}})
    assert touched.status_code == 200, touched.text
    refused = api.post(f"/api/sagas/{edited['id']}/undo", headers=headers, json={})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["details"] == [
        {"table": "Contacts", "record_id": created, "fields": ["Name"]}]
    assert api.get(f"/api/sagas/{edited['id']}", headers=headers).json()["status"] == "succeeded"
    forced = api.post(f"/api/sagas/{edited['id']}/undo", headers=headers, json={"force": True})
    assert forced.status_code == 202, forced.text
    assert _finished(api, headers, edited["id"])["status"] == "undone"
    assert _both(stack, base_id) == before


def test_dry_run_reports_an_unknown_field_and_a_missing_record_without_writing(api, stack):
    base_id = _base(stack)
    headers = _member(api, stack)
    before = _both(stack, base_id)
    writes_before = _writes(stack, base_id)
    checked = _start(api, headers, base_id, [
        {"action": "create", "table": "Contacts", "records": [{"fields": {"Nmae": "typo"}}]},
        {"action": "update", "table": "Deals",
         "records": [{"id": "recMISSING0000000", "fields": {"Amount": 1}}]},
        {"action": "create", "table": "Deals", "records": [{"fields": {"Deal": "fine"}}]}],
        dry_run=True)
    assert checked.status_code == 200, checked.text
    report = checked.json()
    assert report["valid"] is False
    create, update, fine = report["operations"]
    assert create["problems"] == [{"record": 0, "field": "Nmae", "code": "unknown_field",
                                   "problem": "unknown field"}]
    assert update["problems"] == [{"record": 0, "id": "recMISSING0000000",
                                   "code": "no_such_record",
                                   "problem": "no such record in this table"}]
    assert fine["problems"] == []
    assert _both(stack, base_id) == before
    assert _writes(stack, base_id) == writes_before
    assert _transactions(api, headers) == []  # a dry run is not a saga


def test_an_idempotency_key_starts_one_saga(api, stack):
    base_id = _base(stack)
    headers = _member(api, stack)
    operations = [{"action": "create", "table": "Contacts",
                   "records": [{"fields": {"Name": "Once"}}]}]
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = _start(api, {**headers, **key}, base_id, operations)
    again = _start(api, {**headers, **key}, base_id, operations)
    assert first.status_code == again.status_code == 202
    assert first.json()["saga_id"] == again.json()["saga_id"]
    _finished(api, headers, first.json()["saga_id"])
    assert _transactions(api, headers) == [first.json()["saga_id"]]
    names = [r["Name"] for r in _rows(stack, base_id, "Contacts").values()]
    assert names.count("Once") == 1


def test_another_users_saga_is_not_found_and_bad_input_is_422(api, stack):
    base_id = _base(stack)
    headers = _member(api, stack)
    saga = _run(api, headers, base_id, [
        {"action": "create", "table": "Contacts", "records": [{"fields": {"Name": "Mine"}}]}])
    stranger = _member(api, stack)
    assert api.get(f"/api/sagas/{saga['id']}", headers=stranger).status_code == 404
    assert api.post(f"/api/sagas/{saga['id']}/undo", headers=stranger,
                    json={}).status_code == 404
    bad = _start(api, headers, base_id, [{"action": "delete", "table": "Contacts",
                                          "records": [{"fields": {"Name": "x"}}]}])
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"].startswith("input.operations")


def test_registration_welcomes_with_a_link_to_the_demo_base_and_writes_nothing_there(
        api, stack):
    tables_before = len(stack.airtable.store.base(stack.demo_base_id).tables)
    tokens = register(api, username=f"onb{uuid.uuid4().hex[:8]}")
    headers = bearer(tokens["access_token"])
    deadline = time.monotonic() + 60
    onboarding: list[dict] = []
    while time.monotonic() < deadline and not onboarding:
        onboarding = [s for s in api.get("/api/sagas", headers=headers).json()["items"]
                      if s["type"] == "user_onboarding"]
        time.sleep(0.2)
    saga = _finished(api, headers, onboarding[0]["id"])
    assert saga["status"] == "succeeded"
    assert saga["output"] == {"demo_base_id": stack.demo_base_id}
    welcome = _wait_for_notification(api, headers, "user.onboarded")
    assert (welcome["title"], welcome["link"]) == ("Your workspace is ready",
                                                   f"/bases/{stack.demo_base_id}")
    assert len(stack.airtable.store.base(stack.demo_base_id).tables) == tables_before
    me = api.get("/api/users/me", headers=headers).json()
    assert me["preferences"]["timezone"] == "UTC"


def test_the_list_pages_newest_first_without_inputs(api, stack):
    base_id = _base(stack)
    headers = _member(api, stack)
    saga = _run(api, headers, base_id, [
        {"action": "create", "table": "Contacts", "records": [{"fields": {"Name": "Paged"}}]}])
    deadline = time.monotonic() + 60
    while len(listed := api.get("/api/sagas", headers=headers).json()["items"]) < 2:
        assert time.monotonic() < deadline, "the onboarding saga never appeared"
        time.sleep(0.2)
    assert sorted(s["type"] for s in listed) == ["airtable_transaction", "user_onboarding"]
    assert all("input" not in s for s in listed)
    assert next(s for s in listed if s["id"] == saga["id"])["steps"] == saga["steps"]
    first = api.get("/api/sagas", headers=headers, params={"limit": 1})
    assert first.status_code == 200, first.text
    assert first.json()["items"] == listed[:1] and first.json()["next_cursor"]
    rest = api.get("/api/sagas", headers=headers,
                   params={"limit": 1, "cursor": first.json()["next_cursor"]})
    assert rest.status_code == 200, rest.text
    assert rest.json() == {"items": listed[1:], "next_cursor": None}


def test_saga_types_list_only_what_a_user_starts_with_its_input(api, stack):
    headers = _member(api, stack)
    types = api.get("/api/sagas/types", headers=headers)
    assert types.status_code == 200
    assert [t["type"] for t in types.json()["items"]] == ["airtable_transaction"]
    schema = types.json()["items"][0]["input_schema"]
    assert {"base_id", "operations"} <= set(schema["properties"])


def _wait_for_notification(api, headers, kind: str) -> dict[str, Any]:
    """The caller's newest inbox entry of this type (the event goes bus -> dispatcher)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [n for n in api.get("/api/notifications", headers=headers).json()["items"]
                 if n["type"] == kind]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no {kind} notification")


def _transactions(api, headers) -> list[str]:
    """The caller's airtable_transaction sagas (registration also starts an onboarding one)."""
    items = api.get("/api/sagas", headers=headers).json()["items"]
    return [s["id"] for s in items if s["type"] == "airtable_transaction"]


def _writes(stack, base_id: str) -> int:
    """Write requests the emulator served for the base (entries: time, method, path, ...)."""
    return sum(1 for _, method, path, *_ in stack.airtable.requests_for(base_id)
               if method in ("POST", "PATCH", "PUT", "DELETE") and "/listRecords" not in path)
