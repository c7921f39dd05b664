"""After the database link is cut, a pooled connection fails once and is discarded with the rest
of its pool: the next caller gets a fresh connection, not the dead one again."""

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


def test_a_connection_cut_under_the_pool_is_replaced_after_one_failure(relayed_url):
    from common.db import _engine, is_outage

    url, link = relayed_url
    engine = _engine(url)
    try:
        for _ in range(2):  # both pooled connections warm
            with engine.connect() as a, engine.connect() as b:
                assert a.scalar(text("SELECT 1")) == b.scalar(text("SELECT 1")) == 1
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
