"""PostgreSQL connections send every statement at once: with Nagle's algorithm on, a statement
larger than the driver's 8 KB buffer waited 40 ms for the server's delayed ACK."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import text


def test_a_postgresql_connection_has_nagles_algorithm_off(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the driver that needs it is pg8000")
    from common.core import db

    engine = db._engine(database_url)
    try:
        with engine.connect() as conn:
            large = "x" * 20_000  # more than pg8000's write buffer
            assert conn.scalar(text("SELECT length(:v)"), {"v": large}) == 20_000
            sock = conn.connection.dbapi_connection._usock
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        engine.dispose()
