"""airtable_integration in moto's interpreter: a base verified, read and snapshotted, or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from common.core.tasks import Rejected, Transient
from common.sagas.errors import CompensationFailed
from tests.statemachines.conftest import _api


def _snapshot_rows(table: str) -> dict[str, dict]:
    from common.core.db import UnitOfWork
    from common.sagas.integration import sql_table

    saga_id, table_id = table.removeprefix("snap_").split("_", 1)
    target = sql_table(saga_id + "x" * 20, table_id)
    with UnitOfWork() as uow:
        return {r.record_id: r.fields for r in uow.session.execute(select(target))}


def _tables_of(saga_id: str) -> list[str]:
    from common.core.db import UnitOfWork, engine

    with UnitOfWork():
        names = inspect(engine()).get_table_names()
    return [n for n in names if n.startswith(f"snap_{saga_id[:12]}_")]


def _registry(saga_id: str) -> list:
    from common.core.db import UnitOfWork
    from common.core.models import AirtableSnapshot

    with UnitOfWork() as uow:
        return list(uow.session.scalars(select(AirtableSnapshot.sql_table).where(
            AirtableSnapshot.saga_id == saga_id)))


def _big_base(sagas, rows: int = 250) -> str:
    base_id = sagas.new_base()
    _api(sagas.emulator).table(base_id, "Contacts").batch_create(
        [{"Name": f"Person {n}"} for n in range(rows)])
    return base_id


def test_integration_snapshots_every_table_page_by_page(sagas, monkeypatch):
    from common.sagas import tasks

    monkeypatch.setattr(tasks, "BUDGET_SECONDS", 0.0)  # one page per invocation
    base_id = _big_base(sagas)
    saga = sagas.wait(sagas.start("airtable_integration", {"base_id": base_id}))
    assert saga["status"] == "succeeded"
    tables = {t["name"]: t for t in saga["output"]["tables"]}
    assert tables["Contacts"]["records"] == 252 and tables["Deals"]["records"] == 2
    contacts = _snapshot_rows(tables["Contacts"]["sql_table"])
    assert contacts == sagas.records(base_id, "Contacts")
    assert _snapshot_rows(tables["Deals"]["sql_table"]) == sagas.records(base_id, "Deals")
    # Three pages of Contacts, one of Deals, and a last call that finds nothing left.
    assert sagas.calls.count("integration.step:2") == 5
    assert saga["steps"][2]["chunks_applied"] == 4


@pytest.mark.parametrize("step", [0, 1, 2, 3])
def test_a_failing_step_leaves_no_snapshot_behind(sagas, monkeypatch, step):
    from common.sagas import tasks

    monkeypatch.setattr(tasks, "BUDGET_SECONDS", 0.0)
    base_id = _big_base(sagas, rows=150)
    # The snapshot fails after its first page is stored; the others fail outright.
    sagas.faults[f"integration.step:{step}"] = [None, Rejected("boom")] if step == 2 \
        else [Rejected("boom")]
    saga_id = sagas.start("airtable_integration", {"base_id": base_id})
    saga = sagas.wait(saga_id)
    assert saga["status"] == "compensated"
    assert _tables_of(saga_id) == [] and _registry(saga_id) == []
    snapshot = saga["steps"][2]["compensation"]
    assert snapshot["status"] == ("compensated" if step >= 2 else "not_needed")


def test_an_unknown_table_fails_the_schema_step(sagas):
    base_id = sagas.new_base()
    saga = sagas.wait(sagas.start("airtable_integration",
                                  {"base_id": base_id, "tables": ["Contacts", "Nope"]}))
    assert saga["status"] == "compensated"
    assert "Nope" in saga["steps"][1]["error"]


def test_a_transient_failure_is_retried(sagas):
    base_id = sagas.new_base()
    sagas.faults["integration.step:0"] = [Transient("503")]
    saga = sagas.wait(sagas.start("airtable_integration", {"base_id": base_id}))
    assert saga["status"] == "succeeded"
    assert sagas.calls.count("integration.step:0") == 2


def test_cancel_drops_what_the_snapshot_made(sagas, monkeypatch):
    from common.core.db import UnitOfWork
    from common.sagas import service, tasks

    monkeypatch.setattr(tasks, "BUDGET_SECONDS", 0.0)
    base_id = _big_base(sagas, rows=900)
    saga_id = sagas.start("airtable_integration", {"base_id": base_id})
    from tests.helpers import wait_for

    wait_for(lambda: sagas.view(saga_id)["steps"][2].get("chunks_applied", 0) >= 1,
             interval=0.02)
    service.cancel(saga_id, UnitOfWork(), sagas.member())
    saga = sagas.wait(saga_id)
    assert saga["status"] == "cancelled"
    assert _tables_of(saga_id) == [] and _registry(saga_id) == []


def test_compensation_failing_twice_then_succeeding_ends_compensated(sagas):
    base_id = sagas.new_base()
    sagas.faults["integration.step:3"] = [Rejected("boom")]
    sagas.faults["integration.compensate"] = [CompensationFailed("db down"),
                                              CompensationFailed("db down")]
    saga_id = sagas.start("airtable_integration", {"base_id": base_id})
    saga = sagas.wait(saga_id)
    assert saga["status"] == "compensated"
    assert sagas.calls.count("integration.compensate") == 3
    assert _tables_of(saga_id) == []
