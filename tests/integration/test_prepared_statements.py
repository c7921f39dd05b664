"""A connection prepares each statement text once and then only binds and executes it (one
round trip instead of three): the server holds one prepared statement per text, reused."""

from __future__ import annotations

import pytest
from sqlalchemy import text


@pytest.fixture
def engine(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("prepared statements are pg8000's")
    from common.core import db

    engine = db._engine(database_url)
    yield engine
    engine.dispose()


def _prepared(conn, like: str) -> list[str]:
    return list(conn.scalars(text("SELECT statement FROM pg_prepared_statements "
                                  "WHERE statement LIKE :like"), {"like": like}))


def test_the_same_statement_is_prepared_once_per_connection_and_reused(engine):
    with engine.connect() as conn:
        for n in range(5):
            assert conn.scalar(text("SELECT :n + 1 AS reused_statement"), {"n": n}) == n + 1
        assert len(_prepared(conn, "%reused_statement%")) == 1


def test_a_transaction_commits_through_prepared_statements_too(engine):
    with engine.begin() as conn:
        conn.execute(text("CREATE TEMP TABLE prepared_probe (v int)"))
    for v in (1, 2):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO prepared_probe VALUES (:v)"), {"v": v})
    with engine.connect() as conn:
        assert list(conn.scalars(text("SELECT v FROM prepared_probe ORDER BY v"))) == [1, 2]
        assert len(_prepared(conn, "%INSERT INTO prepared_probe%")) == 1
