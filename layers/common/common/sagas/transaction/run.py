"""What one task invocation of a transaction works with, and its retries within the task."""

from __future__ import annotations

import time
from typing import Any

from common.airtable import connections
from common.airtable.connections import Access
from common.airtable.fresh_schema import BaseSchema, TableInfo
from common.airtable.fresh_schema import read as read_schema
from common.airtable.records import BATCH, read_by_ids
from common.core.db import UnitOfWork
from common.core.errors import AppError, NotFound
from common.core.models import Saga
from common.core.tasks import Rejected, classify
from common.sagas.errors import compensation_error

# A chunk that meets a 5xx or a lost answer is tried again in the same invocation, after these
# pauses, before the error goes to the state machine's Retry: Step Functions counts retries
# per execution, so without this a saga's odds of running out of them grew with its size.
CHUNK_RETRY_PAUSES = (0.5, 1.0)


def retry_here(failures: int, deadline: float) -> bool:
    """Whether the chunk that failed `failures` times in a row is tried again (after a pause)."""
    if failures > len(CHUNK_RETRY_PAUSES):
        return False
    pause = CHUNK_RETRY_PAUSES[failures - 1]
    if time.monotonic() + pause >= deadline:
        return False
    time.sleep(pause)
    return True


class Run:
    """The saga, its connection and the base's schema."""

    def __init__(self, saga: Saga, *, compensating: bool = False, translate: bool = True) -> None:
        self.saga = saga
        self.base_id: str = saga.input["base_id"]
        self.ops: list[dict[str, Any]] = saga.input["operations"]
        try:
            with UnitOfWork() as uow:
                self.access: Access = connections.for_base(
                    uow, saga.created_by or "", self.base_id, "editor")
            self.schema: BaseSchema = read_schema(self.access, self.base_id)
        except AppError as e:
            if not translate:  # a route answers with the domain error itself
                raise
            raise (compensation_error(e) if compensating else classify(e)) from e

    def table(self, op: dict[str, Any]) -> TableInfo:
        """The operation's table (an unknown one is refused as Airtable would refuse it)."""
        info = self.schema.table(op["table"])
        if info is None:
            raise Rejected(f"Airtable: table {op['table']!r} not found in the base.")
        return info

    def api_table(self, info: TableInfo) -> Any:
        return self.access.api.table(self.base_id, info.id)


def written(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Record id -> the fields a write left in it (logged for undo to compare)."""
    return {r["id"]: r.get("fields", {}) for r in records}


def delete_existing(target: Any, ids: list[str]) -> list[str]:
    """Delete the records; ones already gone count as deleted (a retry may find them so)."""
    for start in range(0, len(ids), BATCH):
        group = ids[start:start + BATCH]
        try:
            target.batch_delete(group)
        except NotFound:  # one of them is gone already: delete the ones still there
            still = read_by_ids(target, group)
            if still:
                target.batch_delete(list(still))
    return ids
