"""The database health check judges the database, not one stale pooled connection."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import exc

from common.core import db, health


class _Engine:
    """Connections that fail with the given errors, in order, then answer."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.connects = 0

    @contextmanager
    def connect(self):
        self.connects += 1
        error = self.errors.pop(0) if self.errors else None

        class _Conn:
            def execute(self, _statement):
                if error is not None:
                    raise error

        yield _Conn()


def _dead_connection() -> exc.InterfaceError:
    return exc.InterfaceError("SELECT 1", {}, ConnectionError("network error"))


def test_a_connection_that_died_while_idle_is_replaced_and_the_database_is_healthy(monkeypatch):
    stale = _Engine(_dead_connection())
    monkeypatch.setattr(db, "engine", lambda: stale)
    assert health.outcome(health.database) == {"status": "ok"}
    assert stale.connects == 2


def test_a_database_that_stays_unreachable_is_reported(monkeypatch):
    down = _Engine(_dead_connection(), _dead_connection())
    monkeypatch.setattr(db, "engine", lambda: down)
    assert health.outcome(health.database) == {"status": "error", "error": "InterfaceError"}


def test_a_failing_query_is_not_retried(monkeypatch):
    broken = _Engine(exc.ProgrammingError("SELECT 1", {}, Exception("syntax")))
    monkeypatch.setattr(db, "engine", lambda: broken)
    with pytest.raises(exc.ProgrammingError):
        health.database()
    assert broken.connects == 1
