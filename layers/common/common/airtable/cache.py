"""Read cache in DynamoDB, shared by every Lambda instance, invalidated by base generation.

Each base has a generation counter; a cached entry remembers the generation it was read at and
counts only while the base is still at that generation. A write through this API bumps the
counter, so one small update invalidates every page, record and schema cached for the base.
Entry and counter are fetched in one BatchGetItem.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from common.airtable.errors import Unanswered
from common.core.aws import client
from common.core.errors import AppError
from common.core.observability import logger
from common.core.settings import get_settings

Value = TypeVar("Value")
Other = TypeVar("Other")


@dataclass
class Cached(Generic[Value]):
    """A value and whether it came from the cache."""

    value: Value
    hit: bool

    def map(self, convert: Callable[[Value], Other]) -> Cached[Other]:
        """The same answer converted (a cached dict as its response model), hit kept."""
        return Cached(convert(self.value), self.hit)


def _table() -> str:
    return get_settings().cache_table_name


def _gen_key(base_id: str) -> str:
    return f"gen#{base_id}"


def entry_key(scope: str, base_id: str, kind: str, params: Any) -> str:
    """A cache key for a read of `kind` with `params` by `scope` (a connection) on a base."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
    return f"c#{scope}#{base_id}#{kind}#{digest[:32]}"


def get_or_load(key: str, base_id: str, ttl: int, load: Callable[[], Any],
                fresh: bool = False) -> Cached[Any]:
    """The cached value for `key`, or `load()`'s result stored for `ttl` seconds (always when
    `fresh`)."""
    ddb = client("dynamodb")
    table = _table()
    keys = [{"pk": {"S": key}}, {"pk": {"S": _gen_key(base_id)}}]
    try:
        items = ddb.batch_get_item(RequestItems={table: {"Keys": keys, "ConsistentRead": True}})
    except (ClientError, BotoCoreError):
        # The cache only saves Airtable calls: when it is down, read through without it.
        logger.warning("cache unavailable", exc_info=True)
        return Cached(load(), hit=False)
    found = {i["pk"]["S"]: i for i in items.get("Responses", {}).get(table, [])}
    generation = found.get(_gen_key(base_id), {}).get("gen", {}).get("N", "0")
    entry = found.get(key)
    if not fresh and entry and entry["gen"]["N"] == generation \
            and int(entry["expires_at"]["N"]) > time.time():
        return Cached(json.loads(entry["body"]["S"]), hit=True)
    value = load()
    body = json.dumps(value, default=str)
    if len(body) < 350_000:  # DynamoDB items stop at 400 KB; larger pages are simply not cached
        try:
            ddb.put_item(TableName=table, Item={
                "pk": {"S": key}, "gen": {"N": generation}, "body": {"S": body},
                "expires_at": {"N": str(int(time.time()) + ttl)}})
        except (ClientError, BotoCoreError):
            logger.warning("cache write failed", exc_info=True)
    return Cached(value, hit=False)


class Write:
    """What a write has changed so far, for `invalidating`."""

    def __init__(self, tracked: bool) -> None:
        self.tracked = tracked
        self.changed = False

    def wrote(self) -> None:
        """One of the write's Airtable requests succeeded: the base has changed."""
        self.changed = True


@contextmanager
def invalidating(base_id: str, tracked: bool = False) -> Iterator[Write]:
    """Run a write; afterwards the base's cached reads are stale if it changed anything.

    A write that succeeds changed the base. A failed one did if it reported a successful
    request (`tracked` writes call `Write.wrote`) or if Airtable's answer was lost (the request
    may have been applied); a refused request (404, 422, 429 ...) changed nothing, so it does
    not cost the base its cache. Untracked writes invalidate whatever happened.
    """
    write = Write(tracked)
    try:
        yield write
    except BaseException as e:
        if not (write.tracked and not write.changed and _refused(e)):
            invalidate_base(base_id)
        raise
    invalidate_base(base_id)


def _refused(error: BaseException) -> bool:
    """Whether the request failed with nothing written (Airtable or this service refused it)."""

    return isinstance(error, AppError) and not isinstance(error, Unanswered)


def invalidate_base(base_id: str) -> None:
    """Every cached read of this base is stale from now on."""
    try:
        client("dynamodb").update_item(
            TableName=_table(), Key={"pk": {"S": _gen_key(base_id)}},
            UpdateExpression="ADD gen :one", ExpressionAttributeValues={":one": {"N": "1"}})
    except (ClientError, BotoCoreError):  # the Airtable write happened; report, don't fail
        logger.exception("cache invalidation failed", extra={"base_id": base_id})
