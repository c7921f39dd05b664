"""Reservations in the shared limiter, against the real database from several threads: a write's
requests are booked up front and sent consecutively, first come first served; one that cannot
finish in time is refused at once and leaves nothing booked; a released reservation's turn
passes on at once; background work gives way; a workspace keeps to its share."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from common.airtable.limiter import RateLimiter, background
from common.core.errors import RateLimited
from tests.helpers import wait_for

_ENV = {"EVENT_BUS_NAME": "bus", "JWT_SECRET_ARN": "jwt", "CACHE_TABLE_NAME": "cache",
        "UPLOADS_BUCKET_NAME": "uploads",
        "DIAGNOSTICS_STATE_MACHINE_ARN": "sm", "TOKEN_KEY_ID": "key"}


@pytest.fixture
def limiter(database_url, monkeypatch) -> Iterator[RateLimiter]:
    from common.core.db import engine
    from common.core.settings import get_settings

    for key, value in {**_ENV, "DATABASE_URL": database_url}.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    engine.cache_clear()
    yield RateLimiter(rate=5, max_wait=10.0)


@pytest.fixture
def base() -> str:
    return f"app{uuid.uuid4().hex[:14]}"


def _booked(base: str) -> list[tuple[str, int, int]]:
    """The base's queue as stored: (workspace, requests, undo) by position."""
    from common.core.db import engine

    with engine().connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT workspace_id, requests, undo FROM airtable_reservations "
            "WHERE base_key = :key ORDER BY position"), {"key": base})]


def _writer(limiter: RateLimiter, base: str, name: str, requests: int, sent: list[str],
            booked: threading.Event | None = None, **options) -> None:
    with limiter.reserved(base, "tok:shared", requests, **options):
        if booked is not None:
            booked.set()
        for _ in range(requests):
            with limiter.slot(base, "tok:shared"):
                sent.append(name)


def test_reservations_send_their_requests_consecutively_in_the_order_they_were_booked(
        limiter, base):
    sent: list[str] = []
    threads = []
    for name in "ABC":  # booked one after the other, then all waiting at once
        booked = threading.Event()
        thread = threading.Thread(target=_writer, args=(limiter, base, name, 4, sent, booked))
        thread.start()
        assert booked.wait(10)
        threads.append(thread)
    for thread in threads:
        thread.join(30)
    assert sent == ["A"] * 4 + ["B"] * 4 + ["C"] * 4
    assert _booked(base) == []  # each released when done


def test_six_writers_booking_at_once_never_interleave(limiter, base):
    sent: list[str] = []
    start = threading.Barrier(6)

    def write(name: str) -> None:
        start.wait()
        _writer(limiter, base, name, 3, sent)

    threads = [threading.Thread(target=write, args=(str(n),)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(sent) == sorted(str(n) for n in range(6) for _ in range(3))
    runs = [name for n, name in enumerate(sent) if n == 0 or sent[n - 1] != name]
    assert len(runs) == 6  # each writer's requests in one run


def test_a_reservation_that_cannot_finish_in_time_is_refused_and_leaves_nothing_booked(
        limiter, base):
    ahead = limiter.reserve(base, "tok:shared", 25, undo=25)
    try:
        with pytest.raises(RateLimited) as refused:
            # 25 requests ahead, then its own 50: 15 s, not answerable within 12 s.
            limiter.reserve(base, "tok:shared", 25, undo=25, finish_by=time.time() + 12)
        assert refused.value.retry_after >= 3
        assert "nothing was written" in refused.value.message
        assert _booked(base) == [(None, 25, 25)]
    finally:
        ahead.release()
    admitted = limiter.reserve(base, "tok:shared", 25, undo=25, finish_by=time.time() + 12)
    admitted.release()
    assert _booked(base) == []


def test_a_request_waits_for_the_reservation_ahead_and_goes_once_it_is_released(limiter, base):
    ahead = limiter.reserve(base, "tok:shared", 10)
    went = threading.Event()

    def read() -> None:
        with limiter.slot(base, "tok:shared"):
            went.set()

    thread = threading.Thread(target=read)
    thread.start()
    try:
        wait_for(lambda: len(_booked(base)) == 2, timeout=10)  # queued as a reservation of one
        assert not went.is_set()
    finally:
        ahead.release()
    thread.join(10)
    assert went.is_set()
    assert _booked(base) == []


def test_background_work_gives_way_to_a_request_that_must_answer_in_time(limiter, base):
    with background():
        held = limiter.reserve(base, "tok:shared", 50)
    try:
        with limiter.slot(base, "tok:shared"):  # interactive: not queued behind it
            pass
        assert len(_booked(base)) == 1
        interactive = limiter.reserve(base, "tok:shared", 5)
        went = threading.Event()

        def background_read() -> None:
            with background(), limiter.slot(base, "tok:shared"):
                went.set()

        thread = threading.Thread(target=background_read)
        thread.start()
        wait_for(lambda: len(_booked(base)) == 3, timeout=10)
        assert not went.is_set()
        interactive.release()
    finally:
        held.release()
    thread.join(10)
    assert went.is_set()


def test_a_workspace_holding_its_share_is_refused_while_another_waits(limiter, base):
    finish_by = time.time() + 27  # 135 requests at 5/s; 67 each for two workspaces
    mine = [limiter.reserve(base, "tok:shared", 20, workspace_id="wsA", finish_by=finish_by)
            for _ in range(3)]
    other = limiter.reserve(base, "tok:shared", 1, workspace_id="wsB", finish_by=finish_by)
    try:
        with pytest.raises(RateLimited) as refused:
            limiter.reserve(base, "tok:shared", 20, workspace_id="wsA", finish_by=finish_by)
        assert "other workspace" in refused.value.message
        other.release()
        mine.append(limiter.reserve(base, "tok:shared", 20, workspace_id="wsA",
                                    finish_by=finish_by))
        assert [w for w, *_ in _booked(base)] == ["wsA"] * 4
    finally:
        other.release()
        for reservation in mine:
            reservation.release()


def test_admission_counts_the_pace_the_base_answers_at(limiter, base):
    token = f"tok:{uuid.uuid4().hex[:20]}"
    # Answered at once, 50 requests take 50 x 0.21 s: they fit in 13 s.
    limiter.reserve(base, token, 25, undo=25, finish_by=time.time() + 13).release()

    def slow_request() -> None:
        with limiter.slot(base, token):
            time.sleep(0.6)  # Airtable answers 0.6 s after each request

    threads = [threading.Thread(target=slow_request) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    # Each slot is free one window after its answer: 50 x 1.6 / 5 = 16 s no longer fit.
    with pytest.raises(RateLimited):
        limiter.reserve(base, token, 25, undo=25, finish_by=time.time() + 13)
    assert _booked(base) == []
