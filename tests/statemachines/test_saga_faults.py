"""airtable_transaction against an Airtable that loses answers: the emulator applies a write and
resets the connection, so the task sees an error although Airtable wrote. Nothing is written
twice, and compensation leaves no orphan."""

from __future__ import annotations

from collections import Counter


def _names(sagas, base_id: str, table: str = "Contacts") -> Counter:
    return Counter(f.get("Name") for f in sagas.records(base_id, table).values())


def test_a_create_whose_answer_was_lost_is_adopted_not_written_twice(sagas):
    base_id = sagas.new_base()
    before = _names(sagas, base_id)
    lost = sagas.emulator.faults.inject("reset_after", base_id=base_id, writes_only=True,
                                        count=1)
    rows = [{"fields": {"Name": f"Lost {n}", "Score": n}} for n in range(12)]
    saga = sagas.wait(sagas.start("airtable_transaction", {"base_id": base_id, "operations": [
        {"action": "create", "table": "Contacts", "records": rows}]}), timeout=90)
    assert lost.injected == 1
    assert saga["status"] == "succeeded", repr(saga)[:3000]
    assert _names(sagas, base_id) == before + Counter(f"Lost {n}" for n in range(12))
    created = saga["output"]["operations"][0]["created"]
    assert len(created) == len(set(created)) == 12
    assert set(created) <= set(sagas.records(base_id, "Contacts"))


def test_a_delete_whose_answer_was_lost_is_not_refused_on_retry(sagas):
    base_id = sagas.new_base()
    deals = list(sagas.records(base_id, "Deals"))
    lost = sagas.emulator.faults.inject("reset_after", base_id=base_id, writes_only=True,
                                        count=1)
    saga = sagas.wait(sagas.start("airtable_transaction", {"base_id": base_id, "operations": [
        {"action": "delete", "table": "Deals", "records": [{"id": d} for d in deals]}]}),
        timeout=90)
    assert lost.injected == 1
    assert saga["status"] == "succeeded"
    assert sagas.records(base_id, "Deals") == {}


def test_lost_answers_then_a_failure_compensate_to_exactly_the_tables_before(sagas):
    base_id = sagas.new_base()
    contacts, deals = sagas.records(base_id, "Contacts"), sagas.records(base_id, "Deals")
    ada = next(rid for rid, f in contacts.items() if f["Name"] == "Ada")
    lost = sagas.emulator.faults.inject("reset_after", base_id=base_id, writes_only=True,
                                        count=3)
    saga = sagas.wait(sagas.start("airtable_transaction", {"base_id": base_id, "operations": [
        {"action": "create", "table": "Contacts",
         "records": [{"fields": {"Name": f"New {n}"}} for n in range(15)]},
        {"action": "upsert", "table": "Contacts", "merge_on": ["Name"],
         "records": [{"fields": {"Name": "Ada", "Score": 1}},
                     {"fields": {"Name": "Upserted", "Score": 2}}]},
        {"action": "update", "table": "Contacts", "records": [{"id": ada, "fields": {"Score": 3}}]},
        {"action": "delete", "table": "Deals", "records": [{"id": "rec" + "X" * 14}]},
    ]}), timeout=120)
    assert lost.injected == 3
    assert saga["status"] == "compensated"
    assert sagas.records(base_id, "Contacts") == contacts
    assert sagas.records(base_id, "Deals") == deals


def test_a_deleted_record_recreated_by_compensation_with_its_answer_lost_exists_once(sagas):
    base_id = sagas.new_base()
    deals = sagas.records(base_id, "Deals")
    # The first delete is applied, the second is refused without a write, and the only create
    # is the compensation's re-creation: it loses its answer. (Injected only once the first
    # delete was seen applied, the fault came too late when compensation ran fast.)
    lost = sagas.emulator.faults.inject("reset_after", base_id=base_id, writes_only=True,
                                        method="POST", count=1)
    saga_id = sagas.start("airtable_transaction", {"base_id": base_id, "operations": [
        {"action": "delete", "table": "Deals", "records": [{"id": d} for d in deals]},
        {"action": "delete", "table": "Deals", "records": [{"id": "rec" + "Y" * 14}]}]})
    saga = sagas.wait(saga_id, timeout=90)
    assert lost.injected == 1
    assert saga["status"] == "compensated"
    assert sorted(sagas.records(base_id, "Deals").values(), key=str) == sorted(
        deals.values(), key=str)
