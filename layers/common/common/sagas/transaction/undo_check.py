"""Before undoing a succeeded transaction: which records it wrote have changed since."""

from __future__ import annotations

from typing import Any

from common.airtable import records
from common.core.db import UnitOfWork
from common.core.models import Saga
from common.sagas import log
from common.sagas.transaction.run import Run


def changed_since(saga: Saga) -> list[dict[str, Any]]:
    """Records the saga wrote whose values differ now (or that are gone): undo would lose them."""
    with UnitOfWork() as uow:
        expected = log.read(uow, saga).written()
    run = Run(saga, translate=False)
    by_table: dict[str, list[str]] = {}
    for table, rid in expected:
        by_table.setdefault(table, []).append(rid)
    changed = []
    for table, ids in by_table.items():
        info = run.schema.table(table)
        if info is None:
            changed += [{"table": table, "record_id": rid, "problem": "table is gone"}
                        for rid in ids]
            continue
        current = records.read_by_ids(run.api_table(info), ids)
        for rid in ids:
            if rid not in current:
                changed.append({"table": table, "record_id": rid, "problem": "deleted"})
                continue
            was, now = info.writable(expected[(table, rid)]), info.writable(current[rid])
            fields = sorted(info.fields[f]["name"] for f in set(was) | set(now)
                            if was.get(f) != now.get(f))
            if fields:
                changed.append({"table": table, "record_id": rid, "fields": fields})
    return changed
