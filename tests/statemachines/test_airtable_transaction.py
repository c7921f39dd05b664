"""airtable_transaction in moto's interpreter: applied in order, or undone in reverse."""

from __future__ import annotations

from collections import Counter

from common.core.tasks import Throttled, Transient
from common.sagas.errors import CompensationFailed


def _two_tables(base_id: str, last: dict | None = None) -> dict:
    operations = [
        {"action": "create", "table": "Contacts",
         "records": [{"fields": {"Name": "Linus", "Score": 60}}]},
        {"action": "update", "table": "Deals", "records": []},
    ]
    return {"base_id": base_id, "operations": operations + ([last] if last else [])}


def _ops(sagas, base_id: str, *, last: dict | None = None) -> dict:
    deals = sagas.records(base_id, "Deals")
    first_deal = next(iter(deals))
    data = _two_tables(base_id, last)
    data["operations"][1]["records"] = [{"id": first_deal, "fields": {"Amount": 999.0}}]
    return data


def test_happy_path_applies_every_operation_in_four_transitions(sagas):
    base_id = sagas.new_base()
    data = _ops(sagas, base_id)
    deal_id = data["operations"][1]["records"][0]["id"]
    saga = sagas.wait(sagas.start("airtable_transaction", data))
    assert saga["status"] == "succeeded"
    assert [s["status"] for s in saga["steps"]] == ["succeeded", "succeeded"]
    created = saga["output"]["operations"][0]["created"]
    assert sagas.records(base_id, "Contacts")[created[0]] == {"Name": "Linus", "Score": 60}
    assert sagas.records(base_id, "Deals")[deal_id]["Amount"] == 999.0
    assert saga["output"]["operations"][1] == {"action": "update", "table": "Deals",
                                               "updated": [deal_id]}
    states = sagas.states(_arn(saga))
    assert states == ["Mode", "Apply", "Applied?", "Succeeded"]


def test_failing_last_operation_restores_both_tables_exactly(sagas):
    base_id = sagas.new_base()
    before = {t: sagas.records(base_id, t) for t in ("Contacts", "Deals")}
    data = _ops(sagas, base_id, last={"action": "create", "table": "Deals",
                                      "records": [{"fields": {"Nope": 1}}]})
    saga = sagas.wait(sagas.start("airtable_transaction", data))
    assert saga["status"] == "compensated"
    assert {t: sagas.records(base_id, t) for t in ("Contacts", "Deals")} == before
    steps = saga["steps"]
    assert [s["status"] for s in steps] == ["succeeded", "succeeded", "failed"]
    assert "Nope" in steps[2]["error"]
    assert [s["compensation"]["status"] for s in steps] == ["compensated", "compensated",
                                                           "not_needed"]
    assert steps[0]["compensation"]["output"]["deleted"] == steps[0]["output"]["created"]
    assert steps[1]["compensation"]["output"]["restored"] == steps[1]["output"]["updated"]
    assert "Nope" in saga["error"]["message"]
    assert sagas.states(_arn(saga)) == ["Mode", "Apply", "Compensate", "Compensated?",
                                        "RolledBack"]


def test_failure_at_the_first_step_compensates_nothing(sagas):
    base_id = sagas.new_base()
    before = sagas.records(base_id, "Contacts")
    data = {"base_id": base_id, "operations": [
        {"action": "update", "table": "Contacts",
         "records": [{"id": "recAAAAAAAAAAAAAA", "fields": {"Name": "x"}}]},
        {"action": "create", "table": "Contacts", "records": [{"fields": {"Name": "y"}}]}]}
    saga = sagas.wait(sagas.start("airtable_transaction", data))
    assert saga["status"] == "compensated"
    assert [s["status"] for s in saga["steps"]] == ["failed", "pending"]
    assert [s["compensation"]["status"] for s in saga["steps"]] == ["not_needed", "not_needed"]
    assert sagas.records(base_id, "Contacts") == before


def test_delete_is_undone_by_recreating_the_records_with_their_values(sagas):
    base_id = sagas.new_base()
    contacts = sagas.records(base_id, "Contacts")
    doomed = next(iter(contacts))
    data = {"base_id": base_id, "operations": [
        {"action": "delete", "table": "Contacts", "records": [{"id": doomed}]},
        {"action": "create", "table": "Deals", "records": [{"fields": {"Missing": 1}}]}]}
    saga = sagas.wait(sagas.start("airtable_transaction", data))
    assert saga["status"] == "compensated"
    recreated = saga["steps"][0]["compensation"]["output"]["recreated"]
    after = sagas.records(base_id, "Contacts")
    assert after[recreated[doomed]] == contacts[doomed]
    assert sorted(after.values(), key=str) == sorted(contacts.values(), key=str)


def test_upsert_is_undone_by_deleting_what_it_created_and_restoring_what_it_updated(sagas):
    base_id = sagas.new_base()
    before = sagas.records(base_id, "Contacts")
    data = {"base_id": base_id, "operations": [
        {"action": "upsert", "table": "Contacts", "merge_on": ["Email"], "records": [
            {"fields": {"Email": "ada@example.com", "Score": 1}},
            {"fields": {"Email": "new@example.com", "Name": "New"}}]},
        {"action": "delete", "table": "Deals", "records": [{"id": "recAAAAAAAAAAAAAA"}]}]}
    saga = sagas.wait(sagas.start("airtable_transaction", data))
    assert saga["status"] == "compensated"
    output = saga["steps"][0]["output"]
    assert len(output["created"]) == 1 and len(output["updated"]) == 1
    assert sagas.records(base_id, "Contacts") == before


def test_25_records_are_written_in_three_chunks_and_compensated_whole(sagas):
    base_id = sagas.new_base()
    before = sagas.records(base_id, "Contacts")
    data = {"base_id": base_id, "operations": [
        {"action": "create", "table": "Contacts",
         "records": [{"fields": {"Name": f"Bulk {n}"}} for n in range(25)]},
        {"action": "update", "table": "Contacts",
         "records": [{"id": "recAAAAAAAAAAAAAA", "fields": {"Name": "x"}}]}]}
    saga = sagas.wait(sagas.start("airtable_transaction", data))
    assert saga["status"] == "compensated"
    assert saga["steps"][0]["chunks_applied"] == 3
    assert len(saga["steps"][0]["compensation"]["output"]["deleted"]) == 25
    assert sagas.records(base_id, "Contacts") == before


def test_transient_errors_are_retried_then_the_saga_succeeds(sagas):
    base_id = sagas.new_base()
    sagas.faults["transaction.apply"] = [Transient("Airtable failed with 503."),
                                         Throttled("429")]
    saga = sagas.wait(sagas.start("airtable_transaction", _ops(sagas, base_id)), timeout=90)
    assert saga["status"] == "succeeded"
    assert sagas.calls.count("transaction.apply") == 3
    assert sagas.states(_arn(saga)) == ["Mode", "Apply", "Applied?", "Succeeded"]


def test_a_retried_chunk_after_a_transient_failure_is_not_written_twice(sagas):
    from common.airtable.errors import UpstreamError
    from common.sagas.transaction import apply

    base_id = sagas.new_base()
    before = len(sagas.records(base_id, "Contacts"))
    real_write, failed = apply._write, []

    def flaky(target, info, op, rows, previous):
        if op["action"] == "update" and not failed:
            failed.append(True)
            raise UpstreamError("Airtable failed with status 503.")
        return real_write(target, info, op, rows, previous)

    apply._write = flaky
    try:
        saga = sagas.wait(sagas.start("airtable_transaction", _ops(sagas, base_id)), timeout=90)
    finally:
        apply._write = real_write
    assert saga["status"] == "succeeded"
    assert saga["steps"][1]["retried"] == ["Airtable failed with status 503."]
    assert len(sagas.records(base_id, "Contacts")) == before + 1


def test_every_chunk_failing_twice_still_succeeds_in_one_task_run(sagas, monkeypatch):
    """Retries are spent per chunk: 12 failures in all, more than the state machine's budget."""
    from common.airtable.errors import UpstreamError
    from common.sagas.transaction import apply, run

    base_id = sagas.new_base()
    before = len(sagas.records(base_id, "Contacts"))
    failures = Counter()

    def flaky(write):  # a chunk's first write, then the retries' (which adopt what it made)
        def failing_twice(target, info, op, rows, known):
            key = rows[0]["fields"]["Name"]
            failures[key] += 1
            if failures[key] <= 2:
                raise UpstreamError("Airtable failed with status 502.")
            return write(target, info, op, rows, known)
        return failing_twice

    monkeypatch.setattr(run, "CHUNK_RETRY_PAUSES", (0.01, 0.01))
    monkeypatch.setattr(apply, "_write", flaky(apply._write))
    monkeypatch.setattr(apply, "_create_rest", flaky(apply._create_rest))
    data = {"base_id": base_id, "operations": [{"action": "create", "table": "Contacts",
            "records": [{"fields": {"Name": f"Row {n:02}"}} for n in range(60)]}]}
    saga = sagas.wait(sagas.start("airtable_transaction", data), timeout=90)
    assert saga["status"] == "succeeded"
    assert sum(failures.values()) == 6 * 3
    assert sagas.calls.count("transaction.apply") == 1
    names = sorted(r["Name"] for r in sagas.records(base_id, "Contacts").values()
                   if r.get("Name", "").startswith("Row "))
    assert names == [f"Row {n:02}" for n in range(60)] and \
        len(sagas.records(base_id, "Contacts")) == before + 60


def test_every_undo_failing_once_still_compensates_in_one_task_run(sagas, monkeypatch):
    from common.airtable.errors import UpstreamError
    from common.sagas.transaction import compensate, run

    base_id = sagas.new_base()
    before = sagas.records(base_id, "Contacts")
    real_undo, failures = compensate._undo, Counter()

    def flaky(target, info, op, rows, applied):
        key = rows[0]["fields"]["Name"]
        failures[key] += 1
        if failures[key] == 1:
            raise UpstreamError("Airtable failed with status 503.")
        return real_undo(target, info, op, rows, applied)

    monkeypatch.setattr(run, "CHUNK_RETRY_PAUSES", (0.01, 0.01))
    monkeypatch.setattr(compensate, "_undo", flaky)
    data = {"base_id": base_id, "operations": [
        {"action": "create", "table": "Contacts",
         "records": [{"fields": {"Name": f"Tmp {n:02}"}} for n in range(70)]},
        {"action": "create", "table": "Nowhere", "records": [{"fields": {"Name": "x"}}]}]}
    saga = sagas.wait(sagas.start("airtable_transaction", data), timeout=90)
    assert saga["status"] == "compensated"
    assert sum(failures.values()) == 7 * 2
    assert sagas.calls.count("transaction.compensate") == 1
    assert sagas.records(base_id, "Contacts") == before


def test_compensation_failing_twice_then_succeeding_ends_compensated(sagas):
    base_id = sagas.new_base()
    before = sagas.records(base_id, "Contacts")
    sagas.faults["transaction.compensate"] = [CompensationFailed("Airtable failed (503)"),
                                              CompensationFailed("Airtable failed (503)")]
    data = {"base_id": base_id, "operations": [
        {"action": "create", "table": "Contacts", "records": [{"fields": {"Name": "Tmp"}}]},
        {"action": "create", "table": "Nowhere", "records": [{"fields": {"Name": "x"}}]}]}
    saga = sagas.wait(sagas.start("airtable_transaction", data), timeout=90)
    assert saga["status"] == "compensated"
    assert sagas.calls.count("transaction.compensate") == 3
    assert sagas.records(base_id, "Contacts") == before


def test_compensation_that_keeps_failing_leaves_failed_with_what_is_left(sagas):
    base_id = sagas.new_base()
    sagas.faults["transaction.compensate"] = [CompensationFailed("still down")] * 7
    data = {"base_id": base_id, "operations": [
        {"action": "create", "table": "Contacts", "records": [{"fields": {"Name": "Stuck"}}]},
        {"action": "create", "table": "Nowhere", "records": [{"fields": {"Name": "x"}}]}]}
    saga = sagas.wait(sagas.start("airtable_transaction", data), timeout=90)
    assert saga["status"] == "failed"
    (left,) = saga["left_to_undo"]
    assert left["action"] == "create" and left["table"] == "Contacts"
    assert left["records"] == saga["steps"][0]["output"]["created"]
    assert "still down" in saga["error"]["cause"]
    assert sagas.states(_arn(saga))[-2:] == ["GiveUp", "CompensationFailed"]


def test_cancel_stops_the_execution_and_compensates_what_was_applied(sagas):
    from common.core.db import UnitOfWork
    from common.sagas import service

    base_id = sagas.new_base()
    before = sagas.records(base_id, "Contacts")
    # 300 records: the first invocation's 20 s budget cannot cover them, so the cancel lands
    # while the saga runs.
    data = {"base_id": base_id, "operations": [
        {"action": "create", "table": "Contacts",
         "records": [{"fields": {"Name": f"Row {n}"}} for n in range(300)]}]}
    saga_id = sagas.start("airtable_transaction", data)
    _wait_until(lambda: sagas.view(saga_id)["steps"][0].get("chunks_applied", 0) >= 2)
    service.cancel(saga_id, UnitOfWork(), sagas.member())
    saga = sagas.wait(saga_id, timeout=120)
    assert saga["status"] == "cancelled"
    assert saga["compensation_reason"] == "cancel"
    assert sagas.records(base_id, "Contacts") == before
    stopped = sagas.sfn.describe_execution(executionArn=_arn(saga))
    assert stopped["status"] in ("ABORTED", "FAILED")


def test_undo_reverts_a_succeeded_saga_and_refuses_when_records_changed(sagas):
    import pytest

    from common.core.db import UnitOfWork
    from common.core.errors import Conflict
    from common.sagas import service
    from common.sagas.commands import RevertSaga

    base_id = sagas.new_base()
    before = {t: sagas.records(base_id, t) for t in ("Contacts", "Deals")}
    saga_id = sagas.start("airtable_transaction", _ops(sagas, base_id))
    saga = sagas.wait(saga_id)
    assert saga["status"] == "succeeded"
    created = saga["output"]["operations"][0]["created"][0]
    from tests.statemachines.conftest import _api

    _api(sagas.emulator).table(base_id, "Contacts").update(created, {"Score": 61})
    with pytest.raises(Conflict) as refused:
        service.undo(RevertSaga(saga_id=saga_id, force=False), UnitOfWork(), sagas.member())
    assert refused.value.details == [{"table": "Contacts", "record_id": created,
                                      "fields": ["Score"]}]
    _api(sagas.emulator).table(base_id, "Contacts").update(created, {"Score": 60})
    service.undo(RevertSaga(saga_id=saga_id, force=False), UnitOfWork(), sagas.member())
    saga = sagas.wait(saga_id)
    assert saga["status"] == "undone"
    assert {t: sagas.records(base_id, t) for t in ("Contacts", "Deals")} == before
    assert sagas.states(saga["compensation_arn"] if "compensation_arn" in saga
                        else _compensation_arn(saga_id)) == [
        "Mode", "Compensate", "Compensated?", "Reverted"]


def _arn(saga: dict) -> str:
    from common.core.db import UnitOfWork
    from common.core.models import Saga

    with UnitOfWork() as uow:
        return uow.session.get(Saga, saga["id"]).execution_arn


def _compensation_arn(saga_id: str) -> str:
    from common.core.db import UnitOfWork
    from common.core.models import Saga

    with UnitOfWork() as uow:
        return uow.session.get(Saga, saga_id).compensation_arn


def _wait_until(predicate, timeout: float = 30) -> None:
    from tests.helpers import wait_for

    wait_for(predicate, timeout=timeout, interval=0.05)


def _crash_after_writing(action: str):
    """A task that dies after Airtable applied its write, before logging it (a timeout)."""
    from common.sagas.transaction import apply

    real = apply._write

    def write_then_die(target, info, op, rows, before):
        result = real(target, info, op, rows, before)
        if op["action"] == action:
            raise RuntimeError("Task timed out after 60.00 seconds")
        return result

    return write_then_die


def test_an_update_whose_task_died_after_writing_is_still_restored(sagas, monkeypatch):
    from datetime import timedelta

    from common.sagas.transaction import apply, compensate

    monkeypatch.setattr(compensate, "IN_FLIGHT", timedelta(0))
    monkeypatch.setattr(apply, "_write", _crash_after_writing("update"))
    base_id = sagas.new_base()
    before = sagas.records(base_id, "Deals")
    saga = sagas.wait(sagas.start("airtable_transaction", _ops(sagas, base_id)))
    assert saga["status"] == "compensated"
    assert "timed out" in saga["error"]["message"]
    assert saga["steps"][1]["compensation"]["status"] == "compensated"
    assert sagas.records(base_id, "Deals") == before


def test_a_create_whose_task_died_after_writing_is_found_by_its_values_and_undone(sagas,
                                                                                 monkeypatch):
    from datetime import timedelta

    from common.sagas.transaction import apply, compensate

    monkeypatch.setattr(compensate, "IN_FLIGHT", timedelta(0))
    monkeypatch.setattr(apply, "_write", _crash_after_writing("create"))
    base_id = sagas.new_base()
    before = sagas.records(base_id, "Contacts")
    data = {"base_id": base_id, "operations": [
        {"action": "create", "table": "Contacts", "records": [{"fields": {"Name": "Orphan"}}]}]}
    saga = sagas.wait(sagas.start("airtable_transaction", data))
    # Airtable has no idempotency keys: the records the lost write made are found by their
    # values among those created since the attempt started, and deleted.
    assert saga["status"] == "compensated"
    assert sagas.records(base_id, "Contacts") == before


def test_forced_undo_deletes_what_is_left_when_a_created_record_is_already_gone(sagas):
    from common.core.db import UnitOfWork
    from common.sagas import service
    from common.sagas.commands import RevertSaga
    from tests.statemachines.conftest import _api

    base_id = sagas.new_base()
    before = sagas.records(base_id, "Contacts")
    saga_id = sagas.start("airtable_transaction", {"base_id": base_id, "operations": [
        {"action": "create", "table": "Contacts",
         "records": [{"fields": {"Name": "One"}}, {"fields": {"Name": "Two"}}]}]})
    created = sagas.wait(saga_id)["output"]["operations"][0]["created"]
    _api(sagas.emulator).table(base_id, "Contacts").delete(created[0])
    service.undo(RevertSaga(saga_id=saga_id, force=True), UnitOfWork(), sagas.member())
    saga = sagas.wait(saga_id)
    assert saga["status"] == "undone"
    assert sagas.records(base_id, "Contacts") == before
