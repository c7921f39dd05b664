"""The shared limiter keeps several processes inside Airtable's 5 requests/s per base."""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from local.airtable_emulator import AirtableEmulator
from tests.faults.tcp_proxy import TcpProxy

TOKEN = "patLIMITER0000000.test"
# Settings every function needs; only the database and Airtable's URL matter here.
_ENV = {"EVENT_BUS_NAME": "bus", "JWT_SECRET_ARN": "jwt", "CACHE_TABLE_NAME": "cache",
        "UPLOADS_BUCKET_NAME": "uploads",
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


def _late_now_and_then() -> float:
    """A third of what clients send arrives up to 250 ms late (a loaded 2-core machine, a
    congested network): far more than any fixed margin between slots would absorb."""
    return random.uniform(0.05, 0.25) if random.random() < 0.33 else 0.0


@pytest.fixture(params=["direct", "late_delivery"])
def link(request, limited_emulator) -> Iterator[str]:
    """The emulator's URL as the clients reach it: directly, or through a relay that delivers
    requests late at random."""
    if request.param == "direct":
        yield limited_emulator.url
        return
    url = urlsplit(limited_emulator.url)
    relay = TcpProxy(url.hostname or "127.0.0.1", url.port or 80,
                     delay=_late_now_and_then).start()
    try:
        yield f"http://127.0.0.1:{relay.port}"
    finally:
        relay.stop()


def test_four_processes_share_five_requests_per_second_without_a_429(limited_emulator, link,
                                                                     database_url):
    base_id = limited_emulator.create_base(
        "Limiter", tables=[{"name": "Items", "fields": [{"name": "Name",
                                                         "type": "singleLineText"}]}])
    env = {**_ENV, "DATABASE_URL": database_url, "AIRTABLE_ENDPOINT_URL": link}
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    seconds = 6.0
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
    # As Airtable counts: by when each request was received.
    assert _max_in_any_second(times) <= 5
    assert all(n > 0 for n in sent)  # every process is served, none starves
    # The last window's requests go at its start: count the windows the others took.
    throughput = (len(log) - 5) / (max(times) - min(times))
    print(f"\nlimiter ({link}): {len(log)} requests from 4 processes {sent}, "
          f"{throughput:.2f} req/s = {throughput / 5:.0%} of 5 req/s")


def test_a_429_locks_the_base_out_for_every_caller(limited_emulator, database_url,
                                                   monkeypatch):
    for key, value in {**_ENV, "DATABASE_URL": database_url,
                       "AIRTABLE_ENDPOINT_URL": limited_emulator.url}.items():
        monkeypatch.setenv(key, value)
    from common.airtable.limiter import RateLimiter
    from common.core.db import engine
    from common.core.errors import RateLimited
    from common.core.settings import get_settings

    get_settings.cache_clear()
    engine.cache_clear()

    limiter = RateLimiter(rate=5, max_wait=1.0)
    base = f"appLOCKOUT{time.time_ns() % 10**7:07d}"
    with limiter.slot(base):
        limiter.lock_out(base, seconds=30)
    with pytest.raises(RateLimited) as caught:
        limiter.acquire(base)
    assert 29 <= caught.value.retry_after <= 31


def test_a_limit_of_zero_turns_the_shared_limiter_off(database_url, monkeypatch):
    for key, value in {**_ENV, "DATABASE_URL": database_url}.items():
        monkeypatch.setenv(key, value)
    from sqlalchemy import text

    from common.airtable.limiter import RateLimiter
    from common.core.db import engine
    from common.core.settings import get_settings

    get_settings.cache_clear()
    engine.cache_clear()
    base = f"appUNLIMITED{time.time_ns() % 10**5:05d}"
    limiter = RateLimiter(rate=0, max_wait=0.1)
    for _ in range(20):  # four times the window of a limited base, none refused
        with limiter.slot(base, token="patUNLIMITED"):
            pass
    with engine().connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM airtable_rate_window WHERE rate_key = :k"),
                            {"k": base}).scalar()
    assert rows == 0


def test_a_base_limit_above_airtables_token_limit_is_refused_at_start(monkeypatch):
    from pydantic import ValidationError

    from common.core.settings import Settings

    for key, value in {**_ENV, "DATABASE_URL": "sqlite://",
                       "AIRTABLE_RATE_LIMIT": "100000"}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError, match="airtable_rate_limit"):
        Settings.from_environment()
