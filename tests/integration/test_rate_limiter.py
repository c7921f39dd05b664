"""The shared limiter keeps several processes inside Airtable's 5 requests/s per base."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from local.airtable_emulator import AirtableEmulator

TOKEN = "patLIMITER0000000.test"
# Settings every function needs; only the database and Airtable's URL matter here.
_ENV = {"EVENT_BUS_NAME": "bus", "JWT_SECRET_ARN": "jwt", "CACHE_TABLE_NAME": "cache",
        "UPLOADS_BUCKET_NAME": "uploads", "NOTIFICATIONS_QUEUE_URL": "queue",
        "DIAGNOSTICS_STATE_MACHINE_ARN": "sm", "TOKEN_KEY_ID": "key"}


def _hammer(env: dict[str, str], base_id: str, seconds: float, results) -> None:
    os.environ.update(env)
    from common.airtable.client import airtable_api

    api = airtable_api(TOKEN)
    table = api.table(base_id, "Items")
    deadline = time.time() + seconds
    sent = 0
    while time.time() < deadline:
        table.first()
        sent += 1
    results.put(sent)


def _max_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


@pytest.fixture
def limited_emulator():
    emulator = AirtableEmulator(tokens={TOKEN: "usrLIMITER0000001"}, rate_limit=5,
                                lockout_seconds=30).start()
    yield emulator
    emulator.stop()


def test_four_processes_share_five_requests_per_second_without_a_429(limited_emulator,
                                                                     database_url):
    base_id = limited_emulator.create_base(
        "Limiter", tables=[{"name": "Items", "fields": [{"name": "Name",
                                                         "type": "singleLineText"}]}])
    env = {**_ENV, "DATABASE_URL": database_url, "AIRTABLE_ENDPOINT_URL": limited_emulator.url}
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    seconds = 10.0
    workers = [ctx.Process(target=_hammer, args=(env, base_id, seconds, results))
               for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    sent = [results.get(timeout=5) for _ in workers]
    log = limited_emulator.requests_for(base_id)
    statuses = [status for *_, status in log]
    times = [t for t, *_ in log]
    assert statuses.count(429) == 0
    assert _max_in_any_second(times) <= 5
    throughput = len(log) / (max(times) - min(times))
    print(f"\nlimiter: {len(log)} requests from 4 processes {sent}, "
          f"{throughput:.2f} req/s = {throughput / 5:.0%} of 5 req/s")
    assert all(n > 0 for n in sent)
    assert throughput >= 0.9 * 5


def test_a_429_locks_the_base_out_for_every_caller(limited_emulator, database_url,
                                                   monkeypatch):
    for key, value in {**_ENV, "DATABASE_URL": database_url,
                       "AIRTABLE_ENDPOINT_URL": limited_emulator.url}.items():
        monkeypatch.setenv(key, value)
    from common.airtable.limiter import RateLimiter
    from common.db import engine
    from common.errors import RateLimited
    from common.settings import get_settings

    get_settings.cache_clear()
    engine.cache_clear()

    limiter = RateLimiter(rate=5, max_wait=1.0)
    base = f"appLOCKOUT{time.time_ns() % 10**7:07d}"
    limiter.acquire(base)
    limiter.lock_out(base, seconds=30)
    with pytest.raises(RateLimited) as caught:
        limiter.acquire(base)
    assert 29 <= caught.value.retry_after <= 31
