"""The shared limiter holds each token to Airtable's 50 requests/s (keyed by a hash), never takes
a slot past the caller's deadline, and a create that meets contention near the Lambda deadline
rolls back (or says exactly what it kept) instead of being killed halfway."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import text

from common.airtable import cache, records
from common.airtable.connections import Access
from common.airtable.limiter import RateLimiter, answered_by, token_key
from common.core import deadline
from common.core.errors import AppError, RateLimited
from local.airtable_emulator import AirtableEmulator
from tests.helpers import wait_for

TOKEN = "patHARDENING00000.secretpart"
_ENV = {"EVENT_BUS_NAME": "bus", "JWT_SECRET_ARN": "jwt", "CACHE_TABLE_NAME": "cache",
        "UPLOADS_BUCKET_NAME": "uploads",
        "DIAGNOSTICS_STATE_MACHINE_ARN": "sm", "TOKEN_KEY_ID": "key",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing"}


def _clear_caches() -> None:
    from common.airtable.client import shared_limiter
    from common.core.aws import client
    from common.core.db import engine
    from common.core.settings import get_settings

    for cached in (get_settings, engine, client, shared_limiter):
        cached.cache_clear()


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AirtableEmulator]:
    emulator = AirtableEmulator(tokens={TOKEN: "usrHARDENING00001"}, rate_limit=5).start()
    for name, value in {**_ENV, "DATABASE_URL": database_url,
                        "AIRTABLE_ENDPOINT_URL": emulator.url}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    _clear_caches()
    try:
        yield emulator
    finally:
        deadline.start(None)
        emulator.stop()
        _clear_caches()


def test_one_token_gets_at_most_50_slots_a_second_across_many_bases(env):
    limiter = RateLimiter(rate=5, max_wait=5)
    key = token_key(TOKEN)
    sent = []
    for n in range(60):  # 60 bases, one request each: only the token limit applies
        with limiter.slot(f"appTOKEN{n:09d}", key):
            sent.append(time.time())
    # The 51st request goes a full second after the first was answered.
    assert sent[50] - sent[0] >= 1.0
    from common.core.db import engine

    with engine().connect() as conn:
        keys = conn.execute(text("SELECT DISTINCT rate_key FROM airtable_rate_window")) \
            .scalars().all()
    assert key in keys and all(TOKEN not in k and "secretpart" not in k for k in keys)


def test_no_slot_is_taken_past_the_time_the_answer_is_due(env):
    limiter = RateLimiter(rate=5, max_wait=30)
    base = f"appDUE{time.time_ns() % 10**11:011d}"
    limiter.lock_out(base, seconds=5)
    with answered_by(time.time() + 3), pytest.raises(RateLimited):
        limiter.acquire(base, token_key(TOKEN))


class _Context:
    def __init__(self, seconds: float) -> None:
        self.ends = time.time() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.ends - time.time()) * 1000)


def test_a_create_meeting_contention_near_the_deadline_rolls_back(env):
    emulator = env
    base = emulator.create_base("Deadline", tables=[
        {"name": "Rows", "fields": [{"name": "Name", "type": "singleLineText"}]}])
    access = Access("test", lambda: TOKEN)
    outcome: dict[str, object] = {}

    def create() -> None:
        try:
            outcome["records"] = records.create(access, base, "Rows",
                                                [{"fields": {"Name": str(i)}} for i in range(100)],
                                                typecast=False)
        except AppError as e:
            outcome["error"] = e

    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName="cache", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST")
        deadline.start(_Context(seconds=8))  # as the handler wrapper does
        writer = threading.Thread(target=create)
        writer.start()
        # Once the first chunk is in (the first five go at once), another tenant takes the
        # base's next 5 seconds.
        wait_for(lambda: any(m == "POST" for _, m, *_ in emulator.requests_for(base)),
                 timeout=10, interval=0.01)
        from common.airtable.client import shared_limiter

        shared_limiter().lock_out(base, seconds=5)
        writer.join(timeout=30)
    error = outcome.get("error")
    assert isinstance(error, RateLimited), outcome
    left = [r["id"] for r in emulator_records(emulator, base)]
    kept = [d["field"] for d in error.details or [] if d["problem"] == "created and kept"]
    assert left == kept  # never neither: rolled back, or every kept record named
    assert left == [] and "Nothing was kept" in error.message, (error.message, error.details)


def emulator_records(emulator: AirtableEmulator, base: str) -> list[dict]:
    """What the emulator holds, read from its store: a request would count against the
    base's limit the test has just used up."""
    with emulator.store.lock:
        return [{"id": r.id} for r in emulator.store.table(base, "Rows").records.values()]


def test_a_refused_tracked_write_keeps_the_cache(env, monkeypatch):
    invalidated: list[str] = []
    monkeypatch.setattr(cache, "invalidate_base", invalidated.append)
    with pytest.raises(RateLimited), cache.invalidating("appAAAAAAAAAAAAAA", tracked=True):
        raise RateLimited("busy", retry_after=1)  # refused before anything was written
    with pytest.raises(RateLimited), cache.invalidating("appBBBBBBBBBBBBBB", tracked=True) as w:
        w.wrote()  # one request went through before the refusal
        raise RateLimited("busy", retry_after=1)
    with pytest.raises(RateLimited), cache.invalidating("appCCCCCCCCCCCCCC"):
        raise RateLimited("busy", retry_after=1)  # untracked: nothing known, invalidate
    assert invalidated == ["appBBBBBBBBBBBBBB", "appCCCCCCCCCCCCCC"]
