"""Records of a table: listing (one Airtable page per call), reads, and batched writes."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from common.airtable import cache
from common.airtable.connections import Access
from common.airtable.errors import Unanswered
from common.airtable.limiter import ANSWER_MARGIN, WINDOW_SECONDS, answered_by
from common.core import deadline
from common.core.errors import AppError, NotFound, PayloadTooLarge, RateLimited
from common.core.settings import get_settings

if TYPE_CHECKING:  # a type only: the schema reader imports nothing from here
    from common.airtable.fresh_schema import TableInfo

RECORD_TTL = 60
BATCH = 10  # Airtable's maximum records per write
# Records one request may write: 50 Airtable requests, 10 s of a base's whole budget. Larger
# writes are imports and sagas, which run outside the 29 s of an HTTP request.
MAX_RECORDS = 500
# Time kept back before the Lambda deadline to answer (a response of up to 500 records takes
# milliseconds to send; the rest is margin).
_ANSWER_SECONDS = 0.5


def as_record(raw: dict[str, Any]) -> dict[str, Any]:
    """Airtable's record in this API's shape."""
    return {"id": raw["id"], "created_time": raw.get("createdTime"),
            "fields": raw.get("fields", {})}


def list_page(access: Access, base_id: str, table: str, options: dict[str, Any],
              offset: str | None) -> cache.Cached:
    """One page of records (`{records, offset}`), cached per connection and query."""
    key = cache.entry_key(access.scope, base_id, f"records:{table}", [options, offset])

    def load() -> dict[str, Any]:
        api = access.api
        urls = api.table(base_id, table).urls
        page = api.request("GET", urls.records, fallback=("POST", urls.records_post),
                           options=options, params={"offset": offset} if offset else None)
        return {"records": [as_record(r) for r in page.get("records", [])],
                "offset": page.get("offset")}

    return cache.get_or_load(key, base_id, RECORD_TTL, load)


def get(access: Access, base_id: str, table: str, record_id: str) -> cache.Cached:
    """One record, cached."""
    key = cache.entry_key(access.scope, base_id, f"record:{table}", record_id)
    return cache.get_or_load(key, base_id, RECORD_TTL,
                             lambda: as_record(access.api.table(base_id, table).get(record_id)))


def check_size(count: int) -> None:
    """At most MAX_RECORDS records per request; more -> 413 pointing at imports and sagas."""
    if count > MAX_RECORDS:
        raise PayloadTooLarge(
            f"At most {MAX_RECORDS} records per request ({count} given). Write more with an "
            "import (POST /api/files/{id}/import) or a saga (POST /api/sagas), which run in the "
            "background at Airtable's pace.",
            details=[{"field": "records", "problem": f"{count} records, at most {MAX_RECORDS}"}])


def _chunks(items: list[Any]) -> Iterator[tuple[int, list[Any]]]:
    for start in range(0, len(items), BATCH):
        yield start, items[start:start + BATCH]


class _Pace:
    """How long this write's requests take (at least the base's slot spacing), to know how
    long undoing them would take. Measured from the first answer: the wait for the
    reservation's turn comes before it and says nothing of the pace."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.requests = 0

    def done(self) -> None:
        self.requests += 1
        if self.first is None:
            self.first = time.monotonic()

    def seconds_per_request(self) -> float:
        rate = get_settings().airtable_rate_limit
        spacing = WINDOW_SECONDS / rate if rate else 0.0
        if self.first is None or self.requests < 2:
            return spacing
        return max(spacing, (time.monotonic() - self.first) / (self.requests - 1))


def _finish_by() -> float | None:
    """When a write's last request must be answered to leave time to answer the caller."""
    ends = deadline.at()
    return None if ends is None else ends - _ANSWER_SECONDS


def _reserved(access: Access, base_id: str, count: int, undo: bool
              ) -> AbstractContextManager[Any]:
    """The write's whole budget booked up front in the base's queue: its requests (and as many
    again for its undo); refused at once (429, nothing written) when they cannot be answered
    before the deadline."""
    requests = math.ceil(count / BATCH)
    return access.api.reserved(base_id, requests, requests if undo else 0, access.workspace_id,
                               _finish_by())


@contextmanager
def _in_time(undo_seconds: float = 0.0) -> Iterator[None]:
    """One Airtable request that must be answered early enough to leave time to answer (and to
    undo what was written, `undo_seconds`) before the Lambda deadline; otherwise RateLimited."""
    ends = deadline.at()
    if ends is None:
        yield
        return
    by = ends - _ANSWER_SECONDS - undo_seconds
    if by - time.time() < ANSWER_MARGIN:
        raise RateLimited("Airtable is too busy to finish this write in time; retry later.",
                          retry_after=5)
    with answered_by(by):
        yield


# Pauses before a chunk Airtable did not write (a 5xx, a reset) is sent again.
CREATE_RETRY_DELAYS = (0.2, 0.5, 1.0)
# A record a request created is created after the request was sent; the margin absorbs the
# difference between this clock and Airtable's.
CLOCK_SKEW = timedelta(seconds=10)


def find_created(target: Any, rows: list[dict[str, Any]], since: datetime,
                 exclude: set[str] = frozenset(), *,  # type: ignore[assignment]
                 use_field_ids: bool = False) -> list[dict[str, Any] | None]:
    """For each row's fields, a record created since `since` holding them, if Airtable has one.

    Airtable has no idempotency keys: a create whose answer was lost (a reset, a 5xx after the
    write, a killed task) is found by what it wrote, among records created since it was sent
    and not in `exclude` (records the caller already accounts for); None where none matches.
    """
    from pyairtable.formulas import CREATED_TIME, DATETIME_PARSE, IS_AFTER

    if since.tzinfo is None:  # SQLite hands back naive UTC
        since = since.replace(tzinfo=UTC)
    formula = IS_AFTER(CREATED_TIME(), DATETIME_PARSE((since - CLOCK_SKEW).isoformat()))
    candidates = [r for r in target.all(formula=str(formula), use_field_ids=use_field_ids)
                  if r["id"] not in exclude]
    found: list[dict[str, Any] | None] = []
    for fields in rows:
        match = next((r for r in candidates if _holds(r.get("fields", {}), fields)), None)
        if match is not None:
            candidates.remove(match)
        found.append(match)
    return found


def _holds(stored: dict[str, Any], sent: dict[str, Any]) -> bool:
    """Whether a stored record holds what was sent (typecast may have turned "3" into 3)."""
    def norm(value: Any) -> Any:
        if isinstance(value, bool) or value is None:
            return value
        try:
            return float(value)
        except (TypeError, ValueError):
            return json.dumps(value, sort_keys=True) if isinstance(value, list | dict) \
                else str(value)

    # Airtable leaves empty and unticked cells out of a record: they hold whatever is stored.
    return all(norm(stored.get(k)) == norm(v) for k, v in sent.items()
               if v not in (None, "", [], False))


def read_by_ids(target: Any, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Current fields (by field id) of the records that exist among `ids`."""
    from pyairtable.formulas import EQ, OR, RECORD_ID

    found: dict[str, dict[str, Any]] = {}
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), 50):
        group = ids[start:start + 50]
        formula = OR(*[EQ(RECORD_ID(), rid) for rid in group])
        for record in target.all(formula=str(formula), use_field_ids=True):
            found[record["id"]] = record.get("fields", {})
    return found


def read_matches(target: Any, info: TableInfo, merge_on: list[str],
                 rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Records an upsert of `rows` would update: those equal on every `merge_on` field
    (fields by id in the result)."""
    from pyairtable.formulas import AND, EQ, OR, Field

    names = [(info.field(m) or {"name": m})["name"] for m in merge_on]
    clauses = []
    for row in rows:
        fields = row.get("fields") or {}
        values = [fields.get(m, fields.get(info.field_id(m))) for m in merge_on]
        if any(v is None for v in values):
            continue
        parts = [EQ(Field(n), v) for n, v in zip(names, values, strict=True)]
        clauses.append(parts[0] if len(parts) == 1 else AND(*parts))
    if not clauses:
        return {}
    formula = clauses[0] if len(clauses) == 1 else OR(*clauses)
    return {r["id"]: r.get("fields", {})
            for r in target.all(formula=str(formula), use_field_ids=True)}


def create(access: Access, base_id: str, table: str, records: list[dict[str, Any]],
           typecast: bool) -> list[dict[str, Any]]:
    """Create up to MAX_RECORDS records, 10 per request, all or nothing.

    When a later chunk fails (say row 250 has a bad value, or the base's budget is taken by
    others and the Lambda deadline nears), the rows already created are deleted again, so a
    failed call leaves the table as it was (or says exactly which rows it could not delete).
    """
    check_size(len(records))
    target = access.api.table(base_id, table)
    created: list[dict[str, Any]] = []
    pace = _Pace()
    with _reserved(access, base_id, len(records), undo=True), \
            cache.invalidating(base_id, tracked=True) as write:
        for start, chunk in _chunks(records):
            try:
                # Time for this chunk and for deleting it and everything before it.
                undo = math.ceil((len(created) + len(chunk)) / BATCH)
                with _in_time(undo * pace.seconds_per_request()):
                    _create_chunk(target, [r["fields"] for r in chunk], typecast, created,
                                  write.wrote)
                pace.done()
                write.wrote()
            except AppError as e:
                e.details = [*(e.details or []), {"field": f"records[{start}:{start + len(chunk)}]",
                                                  "problem": e.message}]
                _undo_create(target, created, e)
                raise
    return [as_record(r) for r in created]


def _create_chunk(target: Any, rows: list[dict[str, Any]], typecast: bool,
                  created: list[dict[str, Any]], wrote: Callable[[], None]) -> None:
    """Create one chunk (appended to `created`), sent again after a 5xx or a lost connection
    only once Airtable shows it did not write it: records a lost answer made are kept, never
    made twice."""
    for delay in (*CREATE_RETRY_DELAYS, None):
        sent = datetime.now(UTC)
        try:
            created += target.batch_create(rows, typecast=typecast)
            return
        except Unanswered:
            wrote()  # it may have written: the cache must not keep the old listing
            found = find_created(target, rows, sent, {r["id"] for r in created})
            created += [r for r in found if r is not None]  # kept, or undone with the rest
            if None not in found:
                return
            if delay is None or any(r is not None for r in found):
                raise
        time.sleep(delay)


def _undo_create(target: Any, created: list[dict[str, Any]], error: AppError) -> None:
    if not created:
        return
    ids = [r["id"] for r in created]
    deleted: list[str] = []
    ends = deadline.at()
    try:
        # Stop short of the Lambda deadline too: a killed invocation could not say what it kept.
        with answered_by(None if ends is None else ends - _ANSWER_SECONDS / 2):
            for _, chunk in _chunks(ids):
                deleted += _delete_surely(target, chunk)
        error.message += f" Nothing was kept: the {len(ids)} records created before were deleted."
    except AppError:
        kept = [i for i in ids if i not in set(deleted)]
        error.message += f" {len(kept)} records created before could not be deleted: {kept}."
        error.details = [*(error.details or []),
                         *({"field": record_id, "problem": "created and kept"}
                           for record_id in kept)]


def _delete_surely(target: Any, ids: list[str]) -> list[str]:
    """Delete records; after a lost answer, delete again only those still there."""
    from pyairtable.formulas import EQ, OR, RECORD_ID

    left = list(ids)
    for delay in (0.2, 0.5, None):
        try:
            target.batch_delete(left)
            return ids
        except (Unanswered, NotFound):
            if delay is None:
                raise
        time.sleep(delay)
        formula = OR(*[EQ(RECORD_ID(), rid) for rid in left])
        still = {r["id"] for r in target.all(formula=str(formula))}
        left = [rid for rid in left if rid in still]
        if not left:
            return ids
    return ids


def _partial(error: AppError, verb: str, done: list[str]) -> None:
    """Say exactly which records a failed write changed before it stopped."""
    if not done:
        error.message += f" No record was {verb}."
        return
    error.message += f" The first {len(done)} records were {verb} before that: {done}."
    error.details = [*(error.details or []),
                     *({"field": record_id, "problem": verb} for record_id in done)]


def _chunked(access: Access, base_id: str, items: list[Any], verb: str,
             send: Callable[[list[Any]], list[str]]) -> list[str]:
    """Send `items` 10 per request (booked up front); on failure, report what the earlier
    requests did."""
    check_size(len(items))
    done: list[str] = []
    with _reserved(access, base_id, len(items), undo=False), \
            cache.invalidating(base_id, tracked=True) as write:
        for start, chunk in _chunks(items):
            try:
                with _in_time():
                    done += send(chunk)
                write.wrote()
            except AppError as e:
                e.details = [*(e.details or []), {"field": f"records[{start}:{start + len(chunk)}]",
                                                  "problem": e.message}]
                _partial(e, verb, done)
                raise
    return done


def update(access: Access, base_id: str, table: str, records: list[dict[str, Any]],
           typecast: bool, replace: bool = False) -> list[dict[str, Any]]:
    """Update (or replace) up to MAX_RECORDS records by id, 10 per request."""
    target = access.api.table(base_id, table)
    updated: list[dict[str, Any]] = []

    def send(chunk: list[dict[str, Any]]) -> list[str]:
        rows = target.batch_update([{"id": r["id"], "fields": r["fields"]} for r in chunk],
                                   replace=replace, typecast=typecast)
        updated.extend(rows)
        return [r["id"] for r in rows]

    _chunked(access, base_id, records, "updated", send)
    return [as_record(r) for r in updated]


def upsert(access: Access, base_id: str, table: str, records: list[dict[str, Any]],
           merge_on: list[str], typecast: bool) -> dict[str, Any]:
    """Create or update up to MAX_RECORDS records by the `merge_on` fields, 10 per request."""
    target = access.api.table(base_id, table)
    result: dict[str, list[Any]] = {"records": [], "created_ids": [], "updated_ids": []}

    def send(chunk: list[dict[str, Any]]) -> list[str]:
        answer = target.batch_upsert(chunk, key_fields=merge_on, typecast=typecast)
        result["records"] += answer["records"]
        result["created_ids"] += answer["createdRecords"]
        result["updated_ids"] += answer["updatedRecords"]
        return [r["id"] for r in answer["records"]]

    _chunked(access, base_id, records, "upserted", send)
    return {"records": [as_record(r) for r in result["records"]],
            "created_ids": result["created_ids"], "updated_ids": result["updated_ids"]}


def write_one(access: Access, base_id: str, table: str, record_id: str, fields: dict[str, Any],
              typecast: bool, replace: bool) -> dict[str, Any]:
    """PATCH (merge) or PUT (replace) one record."""
    # One request: if Airtable refuses it, nothing changed and the cache stays.
    with cache.invalidating(base_id, tracked=True):
        record = access.api.table(base_id, table).update(record_id, fields, replace=replace,
                                                         typecast=typecast)
    return as_record(record)


def delete(access: Access, base_id: str, table: str, record_ids: list[str]) -> list[str]:
    """Delete up to MAX_RECORDS records by id, 10 per request."""
    target = access.api.table(base_id, table)
    return _chunked(access, base_id, record_ids, "deleted",
                    lambda chunk: [d["id"] for d in target.batch_delete(chunk)])
