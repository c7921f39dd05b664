"""The attempt counter behind every auth throttle counts parallel attempts exactly once each."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

# Settings every function needs; only the database matters here.
_ENV = {"EVENT_BUS_NAME": "bus", "JWT_SECRET_ARN": "jwt", "CACHE_TABLE_NAME": "cache",
        "UPLOADS_BUCKET_NAME": "uploads",
        "DIAGNOSTICS_STATE_MACHINE_ARN": "sm", "TOKEN_KEY_ID": "key"}


@pytest.fixture
def throttle(database_url, monkeypatch):
    from common.core import db, settings

    for name, value in {**_ENV, "DATABASE_URL": database_url}.items():
        monkeypatch.setenv(name, value)
    settings.get_settings.cache_clear()
    db.engine.cache_clear()
    from common.auth import throttle

    yield throttle
    db.engine().dispose()
    db.engine.cache_clear()
    settings.get_settings.cache_clear()


def _count(throttle, key, limit):
    from common.core.clock import now
    from common.core.db import UnitOfWork

    with UnitOfWork() as uow:
        return throttle.count(uow, key, limit, now()).count


def test_thirty_parallel_attempts_get_thirty_distinct_numbers(throttle):
    limit = throttle.Limit(5, timedelta(minutes=15))
    with ThreadPoolExecutor(max_workers=10) as pool:
        numbers = list(pool.map(lambda _: _count(throttle, "test:parallel", limit), range(30)))
    assert sorted(numbers) == list(range(1, 31))
    assert sum(1 for n in numbers if n <= limit.attempts) == 5


def test_a_new_window_starts_counting_again_and_reset_forgets(throttle):
    from common.core.clock import now
    from common.core.db import UnitOfWork

    limit = throttle.Limit(2, timedelta(minutes=1))
    at = now()
    with UnitOfWork() as uow:
        first = [throttle.count(uow, "test:window", limit, at).count for _ in range(3)]
        later = throttle.count(uow, "test:window", limit, at + timedelta(minutes=2))
        assert first == [1, 2, 3] and later.count == 1 and not later.over
        over = throttle.count(uow, "test:window", limit, at + timedelta(minutes=2, seconds=1))
        over = throttle.count(uow, "test:window", limit, at + timedelta(minutes=2, seconds=2))
        assert over.over and 55 <= int(over.error().headers["Retry-After"]) <= 61
        throttle.reset(uow, "test:window")
        uow.commit()
        assert throttle.count(uow, "test:window", limit, at + timedelta(minutes=2)).count == 1
