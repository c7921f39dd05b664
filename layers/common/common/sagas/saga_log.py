"""A saga's log read as facts: what was applied, what is in flight, what is left to undo.

Pure: built from the entries `log.entries` read (or any list of them), no database, so every
question a task or the API asks of a log is unit-tested on hand-made entries.

A transaction's chunk is written in three commits: `CHUNK_STARTED` (the records' values
before the write), the write itself, then `CHUNK_APPLIED` or `CHUNK_FAILED`, each carrying the
attempt's number. An attempt with a start and no outcome may or may not have written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from common.airtable.records import BATCH
from common.core.models import SagaLogEntry


class Kind(StrEnum):
    """What an entry records (stored as its string in `saga_log.kind`)."""

    SAGA_STARTED = "saga.started"
    SAGA_FINISHED = "saga.finished"
    STEP_STARTED = "step.started"
    STEP_SUCCEEDED = "step.succeeded"
    STEP_FAILED = "step.failed"
    CHUNK_STARTED = "chunk.started"
    CHUNK_APPLIED = "chunk.applied"
    CHUNK_FAILED = "chunk.failed"
    CANCEL_REQUESTED = "cancel.requested"
    UNDO_REQUESTED = "undo.requested"
    COMPENSATION_STARTED = "compensation.started"
    UNDO_CHUNK_DONE = "undo.chunk.done"
    UNDO_STEP_DONE = "undo.step.done"
    UNDO_FAILED = "undo.failed"


def chunk_count(op: dict[str, Any]) -> int:
    """How many writes of at most 10 records (a chunk each) the operation takes."""
    return -(-len(op["records"]) // BATCH)


def chunk_rows(op: dict[str, Any], chunk: int) -> list[dict[str, Any]]:
    """The rows of one chunk of the operation."""
    return op["records"][chunk * BATCH:(chunk + 1) * BATCH]


_KINDS = {"create": ("created",), "update": ("updated",), "delete": ("deleted",),
          "upsert": ("created", "updated")}


def step_output(op: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    """An operation's output: the records its chunks created, updated or deleted."""
    out: dict[str, Any] = {"action": op["action"], "table": op["table"]}
    for kind in _KINDS[op["action"]]:
        out[kind] = [rid for r in results for rid in r.get(kind, [])]
    return out


class SagaLog:
    """The entries of one saga, oldest first; `ops` are a transaction's operations (if any)."""

    def __init__(self, entries: Sequence[SagaLogEntry],
                 ops: Sequence[dict[str, Any]] = ()) -> None:
        self.entries = list(entries)
        self.ops = list(ops)

    # ------------------------------------------------------------ looking things up
    def has(self, key: str) -> bool:
        """Whether `key` is logged."""
        return any(e.key == key for e in self.entries)

    def of(self, kind: Kind, step: int | None = None,
           chunk: int | None = None) -> list[SagaLogEntry]:
        """Entries of `kind` (of one step, and one chunk of it, when given)."""
        return [e for e in self.entries if e.kind == kind
                and (step is None or e.step == step) and (chunk is None or e.chunk == chunk)]

    def count(self, kind: Kind, step: int | None = None, chunk: int | None = None) -> int:
        """How many entries of `kind` there are (of one step or chunk)."""
        return len(self.of(kind, step, chunk))

    def output_of(self, key: str) -> dict[str, Any]:
        """The `output` logged with the entry `key` (a step's result)."""
        return next((e.data["output"] for e in self.entries if e.key == key), {})

    # ------------------------------------------------------------ applying a transaction
    def next_chunk(self) -> tuple[int, int] | None:
        """The first (operation, chunk) not applied yet, or None when all are."""
        applied = {(e.step, e.chunk) for e in self.of(Kind.CHUNK_APPLIED)}
        for i, op in enumerate(self.ops):
            for j in range(chunk_count(op)):
                if (i, j) not in applied:
                    return i, j
        return None

    def attempts(self, i: int, j: int) -> list[SagaLogEntry]:
        """Every start of chunk (i, j), oldest first (the first holds the true values before)."""
        return self.of(Kind.CHUNK_STARTED, i, j)

    def open_attempt(self, i: int, j: int) -> SagaLogEntry | None:
        """The last start of chunk (i, j) with no outcome logged, if any."""
        started = self.attempts(i, j)
        if not started:
            return None
        last = started[-1]
        ended = any(e.kind in (Kind.CHUNK_FAILED, Kind.CHUNK_APPLIED)
                    and (e.step, e.chunk) == (i, j)
                    and e.data.get("attempt") == last.data["attempt"] for e in self.entries)
        return None if ended else last

    def in_flight(self, now: datetime, window: timedelta) -> SagaLogEntry | None:
        """A chunk started less than `window` before `now` with no outcome: its task may still
        be writing."""
        for e in self.of(Kind.CHUNK_STARTED):
            if self.open_attempt(e.step or 0, e.chunk or 0) is e and now - e.at < window:
                return e
        return None

    def applied_results(self, i: int) -> list[dict[str, Any]]:
        """What each applied chunk of operation `i` did, in order."""
        return [e.data for e in self.of(Kind.CHUNK_APPLIED, i)]

    def claimed(self, table: str) -> set[str]:
        """Records this saga's applied chunks created in `table` (never adopted twice)."""
        return {rid for e in self.of(Kind.CHUNK_APPLIED)
                if self.ops[e.step or 0]["table"] == table for rid in e.data.get("created", [])}

    def output(self) -> dict[str, Any]:
        """A succeeded transaction's output: each operation's records."""
        return {"operations": [step_output(op, self.applied_results(i))
                               for i, op in enumerate(self.ops)]}

    def written(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(table, record id) -> the values the saga left in each record it wrote and kept."""
        expected: dict[tuple[str, str], dict[str, Any]] = {}
        for e in self.of(Kind.CHUNK_APPLIED):
            table = self.ops[e.step or 0]["table"]
            for rid, fields in e.data.get("written", {}).items():
                expected[(table, rid)] = fields
            for rid in e.data.get("deleted", []):
                expected.pop((table, rid), None)
        return expected

    # ------------------------------------------------------------ compensating
    def pending_undo(self) -> list[tuple[int, int, dict[str, Any]]]:
        """Chunks applied (or possibly applied) and not yet undone, newest first, each with
        what it did (`created`, `updated`, `deleted`, `before`), or `unknown` when its
        outcome was never logged (for a create: `since` and `claimed` to find its records)."""
        undone = {(e.step, e.chunk) for e in self.of(Kind.UNDO_CHUNK_DONE)}
        todo: dict[tuple[int, int], dict[str, Any]] = {}
        for e in self.entries:
            key = (e.step or 0, e.chunk or 0)
            if key in undone:
                continue
            if e.kind == Kind.CHUNK_APPLIED:
                todo[key] = {**e.data, "before": self._before(*key)}
            elif e.kind == Kind.CHUNK_STARTED and self.open_attempt(*key) is e:
                todo[key] = {"before": e.data["before"], "unknown": True}
            elif e.kind == Kind.CHUNK_FAILED and e.data.get("transient") \
                    and self.ops[key[0]]["action"] == "create" and key not in todo:
                # A create that failed transiently may have been applied all the same (its
                # answer lost to a reset or a timeout): what it created is looked up, deleted.
                todo[key] = {"before": {}, "unknown": True}
        for (i, j), applied in todo.items():
            if applied.get("unknown") and self.ops[i]["action"] == "create":
                applied.update(since=self.attempts(i, j)[0].at,
                               claimed=self.claimed(self.ops[i]["table"]))
        return [(i, j, todo[(i, j)]) for i, j in sorted(todo, reverse=True)]

    def _before(self, i: int, j: int) -> dict[str, Any]:
        started = self.attempts(i, j)
        # The first attempt read the true previous values; later ones reused them.
        return started[0].data["before"] if started else {}

    def left_to_undo(self) -> list[dict[str, Any]]:
        """What compensation has not undone: applied chunks, and creates whose outcome is
        unknown, each with the records it touched."""
        left = []
        for i, j, applied in self.pending_undo():
            op = self.ops[i]
            item = {"step": i, "chunk": j, "action": op["action"], "table": op["table"],
                    "records": _touched(applied)}
            if applied.get("unknown") and op["action"] == "create":
                item["problem"] = ("the write's outcome is unknown: Airtable may have created "
                                   "these records; look for them by their values")
            left.append(item)
        return left

    def undo_failures(self, i: int, j: int) -> int:
        """How many times undoing chunk (i, j) failed."""
        return self.count(Kind.UNDO_FAILED, i, j)

    def compensation_started(self, execution: str) -> bool:
        """Whether `execution` logged the start of its compensation."""
        return self.has(f"compensation/{execution}")

    # ------------------------------------------------------------ the API's view
    def view(self, names: Sequence[str], status: str) -> dict[str, Any]:
        """The log's part of the API's saga object: its steps (named by `names`), and what a
        finished compensation left to undo and why it ran."""
        compensating = bool(self.of(Kind.COMPENSATION_STARTED))
        body: dict[str, Any] = {"steps": [
            _step(i, name, [e for e in self.entries if e.step == i], compensating, status)
            for i, name in enumerate(names)]}
        left = next((e.data.get("left_to_undo") for e in reversed(self.entries)
                     if e.kind == Kind.SAGA_FINISHED and e.data.get("left_to_undo")), None)
        if left:
            body["left_to_undo"] = left
        reasons = [e.data["reason"] for e in self.of(Kind.COMPENSATION_STARTED)]
        if reasons:
            body["compensation_reason"] = reasons[-1]
        return body


def _touched(applied: dict[str, Any]) -> list[str]:
    return [*applied.get("created", []), *applied.get("updated", []),
            *applied.get("deleted", []), *(applied.get("before", {}) if applied.get("unknown")
                                           else [])]


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 of a timestamp, or None."""
    return moment.isoformat() if moment else None


def _step(i: int, name: str, entries: list[SagaLogEntry], compensating: bool,
          saga_status: str) -> dict[str, Any]:
    kinds = {e.kind: e for e in entries}
    started, ok, failed = (kinds.get(Kind.STEP_STARTED), kinds.get(Kind.STEP_SUCCEEDED),
                           kinds.get(Kind.STEP_FAILED))
    status = ("succeeded" if ok else "failed" if failed else "running" if started
              else "pending")
    step: dict[str, Any] = {"index": i, "name": name, "status": status,
                            "started_at": iso(started.at if started else None),
                            "finished_at": iso((ok or failed).at if ok or failed else None)}
    if ok and "output" in ok.data:
        step["output"] = ok.data["output"]
    if failed:
        step["error"] = failed.data.get("error")
    chunks = [e for e in entries if e.kind == Kind.CHUNK_APPLIED]
    if chunks:
        step["chunks_applied"] = len(chunks)
    retries = [e.data.get("error") for e in entries
               if e.kind == Kind.CHUNK_FAILED and e.data.get("transient")]
    if retries:
        step["retried"] = retries
    if compensating:
        step["compensation"] = _compensation(entries, bool(chunks) or ok is not None,
                                             saga_status)
    return step


def _compensation(entries: list[SagaLogEntry], applied: bool,
                  saga_status: str) -> dict[str, Any]:
    failures = [{"attempt": e.data.get("attempt"), "error": e.data.get("error"),
                 "at": iso(e.at)} for e in entries if e.kind == Kind.UNDO_FAILED]
    done = [e for e in entries if e.kind == Kind.UNDO_CHUNK_DONE]
    undone = any(e.kind == Kind.UNDO_STEP_DONE for e in entries)
    # A write that never reported back may have happened: it needs compensating too.
    possibly = sum(e.kind == Kind.CHUNK_STARTED for e in entries) > sum(
        e.kind in (Kind.CHUNK_APPLIED, Kind.CHUNK_FAILED) for e in entries)
    if undone:
        status = "compensated"
    elif not applied and not possibly:
        status = "not_needed"
    elif saga_status == "failed":
        status = "failed"
    else:
        status = "running" if done or failures else "pending"
    result: dict[str, Any] = {"status": status}
    if done:
        result["finished_at"] = iso(done[-1].at)
        merged: dict[str, Any] = {}
        for e in done:
            for key, value in e.data.items():
                if isinstance(value, list):
                    merged.setdefault(key, []).extend(value)
                elif isinstance(value, dict):
                    merged.setdefault(key, {}).update(value)
        result["output"] = merged
    return result | ({"attempts": failures} if failures else {})
