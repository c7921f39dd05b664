"""After the database link is cut, a pooled connection idle for a while is pinged and replaced
before use; one used moments ago fails once and is discarded with the rest of its pool, so the
next caller gets a fresh connection, not the dead one again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.faults.tcp_proxy import TcpProxy


@pytest.fixture
def relayed_url(database_url: str) -> Iterator[tuple[str, TcpProxy]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("the link to cut is PostgreSQL's")
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    try:
        yield url.set(host="127.0.0.1", port=proxy.port) \
            .render_as_string(hide_password=False), proxy
    finally:
        proxy.stop()


def _warm(engine) -> None:
    for _ in range(2):  # both pooled connections used
        with engine.connect() as a, engine.connect() as b:
            assert a.scalar(text("SELECT 1")) == b.scalar(text("SELECT 1")) == 1


def test_a_connection_cut_while_idle_is_replaced_before_use(relayed_url, monkeypatch):
    from common.core import db

    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # every checkout counts as after a pause
    url, link = relayed_url
    engine = db._engine(url)
    try:
        _warm(engine)
        link.down()
        link.up()
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT 1")) == 1
    finally:
        engine.dispose()


def test_a_connection_cut_under_the_pool_is_replaced_after_one_failure(relayed_url,
                                                                       monkeypatch):
    from common.core import db
    from common.core.db import _engine, is_outage

    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 3600.0)  # used moments ago: not pinged
    url, link = relayed_url
    engine = _engine(url)
    try:
        _warm(engine)
        link.down()
        link.up()
        with pytest.raises(Exception) as failed, engine.connect() as conn:
            conn.scalar(text("SELECT 1"))
        assert is_outage(failed.value)
        answers = []
        for _ in range(3):
            with engine.connect() as conn:
                answers.append(conn.scalar(text("SELECT 1")))
        assert answers == [1, 1, 1]
    finally:
        engine.dispose()
