"""The authorizer's database: one connection per execution environment, kept across
invocations, each statement prepared once on it (a check is then one round trip: Bind and
Execute), no transaction (autocommit) and no ping; a statement on a dead connection
reconnects and runs once more.

PostgreSQL through pg8000's native API; SQLite (`make dev` without DATABASE_URL) through the
standard library's sqlite3, with the same statements.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import UTC, datetime
from typing import Any

from common.core.database_address import pg8000_arguments, url_from_secret
from common.core.secrets_extension import secret_text

_connection: Any = None
_prepared: dict[str, Any] = {}


class Outage(Exception):
    """The database cannot be reached (or is going away): the request is let through degraded."""


def rows(sql: str, **params: Any) -> list[dict[str, Any]]:
    """The rows `sql` returns (a dict per row, timestamps aware UTC); reconnects once."""
    for attempt in (1, 2):
        try:
            return _run(sql, params)
        except Outage:
            _discard()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _run(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    connection = _connect()
    if isinstance(connection, sqlite3.Connection):
        cursor = connection.execute(sql, {k: _sqlite_value(v) for k, v in params.items()})
        names = [c[0] for c in cursor.description or ()]
        return [{n: _from_sqlite(n, v) for n, v in zip(names, row, strict=True)}
                for row in cursor.fetchall()]
    import pg8000.exceptions as pg

    try:
        statement = _prepared.get(sql)
        if statement is None:
            statement = _prepared[sql] = connection.prepare(sql)
        found = statement.run(**params) or []
        names = [c["name"] for c in statement.columns or ()]
    except (OSError, pg.InterfaceError) as e:
        raise Outage(type(e).__name__) from e
    except pg.DatabaseError as e:
        if _is_outage_code(e):
            raise Outage(type(e).__name__) from e
        raise
    return [dict(zip(names, row, strict=True)) for row in found]


def _is_outage_code(error: Exception) -> bool:
    # SQLSTATE classes 08 (connection), 53 (insufficient resources: too many connections)
    # and 57 (operator intervention: shutdown, restart).
    detail = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    return str(detail.get("C", ""))[:2] in ("08", "53", "57")


def _connect() -> Any:
    global _connection
    if _connection is not None:
        return _connection
    url = _database_url()
    if url.startswith("sqlite"):
        _connection = sqlite3.connect(url.split("///", 1)[1], isolation_level=None,
                                      check_same_thread=False, timeout=30)
        return _connection
    import pg8000.exceptions as pg
    import pg8000.native


    try:
        _connection = pg8000.native.Connection(**pg8000_arguments(url), timeout=5,
                                               application_name="authorizer")
    except (OSError, pg.InterfaceError) as e:
        raise Outage(type(e).__name__) from e
    except pg.DatabaseError as e:
        if _is_outage_code(e):
            raise Outage(type(e).__name__) from e
        raise
    return _connection


def _discard() -> None:
    global _connection
    connection, _connection = _connection, None
    _prepared.clear()
    if connection is not None:
        with contextlib.suppress(Exception):  # already dead: nothing to release
            connection.close()


def _database_url() -> str:
    """DATABASE_URL if set, else the URL described by the database secret."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    import json


    return url_from_secret(json.loads(secret_text(os.environ["DATABASE_SECRET_ARN"])))


def _sqlite_value(value: Any) -> Any:
    # As SQLAlchemy stores a timestamp in SQLite: naive UTC text.
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def _from_sqlite(name: str, value: Any) -> Any:
    if isinstance(value, str) and name.endswith("_at"):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value
