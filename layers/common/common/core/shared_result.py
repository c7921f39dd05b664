"""A result computed by one caller at a time across every instance and kept in the cache table:
the others get the kept one instead of computing it again (a public route that fans out, or an
upstream check that costs requests, cannot be multiplied by calling it often)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common.core.aws import client
from common.core.observability import logger
from common.core.settings import get_settings

# How long a refresher may hold the right to refresh before another caller may take it over.
_LEASE_SECONDS = 30.0
_POLL_SECONDS = 0.1


class SharedResult:
    """`get()` answers a result at most `max_age` seconds old; the first caller after
    `refresh_after` seconds refreshes it (holding a lease in the table), the others meanwhile
    get the kept result. While the table cannot be reached, each process keeps its own."""

    def __init__(self, key: str, compute: Callable[[], dict[str, Any]], max_age: float,
                 refresh_after: float | None = None, reuse_for: float = 0.0) -> None:
        self.key = key
        self.compute = compute
        self.max_age = max_age
        self.refresh_after = max_age if refresh_after is None else refresh_after
        # How long this process answers what it last read without reading the table again
        # (only a result young enough that it stays within refresh_after meanwhile).
        self.reuse_for = min(reuse_for, self.refresh_after)
        self._local: tuple[float, dict[str, Any]] | None = None
        self._read: tuple[float, tuple[float, dict[str, Any]]] | None = None

    def get(self) -> dict[str, Any]:
        """The kept result, or a fresh one if this caller is the one to refresh it."""
        now = time.time()
        if self._read and now - self._read[0] <= self.reuse_for:
            return self._read[1][1]
        try:
            kept = self._shared()
        except (ClientError, BotoCoreError):
            logger.warning("shared results unavailable", extra={"key": self.key}, exc_info=True)
            if self._local is None or now - self._local[0] > self.max_age:
                self._local = (now, self.compute())
            return self._local[1]
        # Reused only while the result itself is young enough to need no refresh.
        if self.reuse_for and time.time() - kept[0] <= self.refresh_after - self.reuse_for:
            self._read = (time.time(), kept)
        return kept[1]

    def _shared(self) -> tuple[float, dict[str, Any]]:
        kept = self._kept()
        if kept is not None and time.time() - kept[0] <= self.refresh_after:
            return kept
        if self._take_lease():
            return self._refresh()
        if kept is not None and time.time() - kept[0] <= self.max_age:
            return kept
        # Nothing recent enough is kept and another caller is refreshing: wait for its result
        # (for as long as its lease), rather than computing the same thing beside it.
        until = time.time() + _LEASE_SECONDS
        while time.time() < until:
            time.sleep(_POLL_SECONDS)
            kept = self._kept()
            if kept is not None and time.time() - kept[0] <= self.max_age:
                return kept
            if self._take_lease():  # the refresher gave up or died
                return self._refresh()
        return kept if kept is not None else (time.time(), self.compute())

    def _refresh(self) -> tuple[float, dict[str, Any]]:
        try:
            result = self.compute()
        except BaseException:
            self._release()
            raise
        at = time.time()
        self._store(at, result)
        return at, result

    def _table(self) -> tuple[Any, str]:
        return client("dynamodb"), get_settings().cache_table_name

    def _item_key(self) -> dict[str, Any]:
        return {"pk": {"S": self.key}}

    def _kept(self) -> tuple[float, dict[str, Any]] | None:
        dynamodb, table = self._table()
        item = dynamodb.get_item(TableName=table, Key=self._item_key(),
                                 ConsistentRead=True).get("Item")
        if not item or "result" not in item:
            return None
        return float(item["computed_at"]["N"]), dict(json.loads(item["result"]["S"]))

    def _take_lease(self) -> bool:
        dynamodb, table = self._table()
        now = time.time()
        try:
            dynamodb.update_item(
                TableName=table, Key=self._item_key(),
                UpdateExpression="SET lease_until = :until, expires_at = :expires",
                # Nobody refreshing, and nobody refreshed since this caller looked.
                ConditionExpression="(attribute_not_exists(lease_until) OR lease_until < :now) "
                                    "AND (attribute_not_exists(computed_at) "
                                    "OR computed_at < :stale)",
                ExpressionAttributeValues={":until": {"N": repr(now + _LEASE_SECONDS)},
                                           ":now": {"N": repr(now)},
                                           ":stale": {"N": repr(now - self.refresh_after)},
                                           ":expires": {"N": str(int(now + 3600))}})
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _store(self, at: float, result: dict[str, Any]) -> None:
        """Keep the result and give the lease back (one write)."""
        dynamodb, table = self._table()
        try:
            dynamodb.put_item(TableName=table, Item={
                **self._item_key(), "computed_at": {"N": repr(at)},
                "result": {"S": json.dumps(result)}, "expires_at": {"N": str(int(at + 3600))}})
        except (ClientError, BotoCoreError):
            logger.warning("shared result not stored", extra={"key": self.key}, exc_info=True)

    def _release(self) -> None:
        dynamodb, table = self._table()
        try:
            dynamodb.update_item(TableName=table, Key=self._item_key(),
                                 UpdateExpression="REMOVE lease_until")
        except (ClientError, BotoCoreError):
            logger.warning("shared result lease not released", extra={"key": self.key})
