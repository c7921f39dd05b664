"""SQLAlchemy engines (created lazily, once per execution environment) and the unit of work.

The ORM loads only with the first unit of work: the authorizer reads with Core alone.
"""

from __future__ import annotations

import socket
import time
from functools import lru_cache
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError, IntegrityError

from common.core import events
from common.core.database_address import proxy_host, tls_context, url_from_secret
from common.core.errors import Conflict
from common.core.observability import trace_library
from common.core.secrets import secret_json
from common.core.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# A connection idle longer than this is pinged before use (a frozen execution environment's
# connections, or all of them after a database restart, may be dead): requests that follow
# each other within 30 s pay nothing (a ping is a round trip, most of a warm request's time
# against RDS), a request after a longer pause one round trip instead of a 503. A connection
# that dies anyway fails its statement, which discards it and its pool and answers 503
# (common.core.http), and the next request reconnects.
IDLE_PING_SECONDS = 30.0
# Statements prepared per connection, reused by their text: pg8000 otherwise parses and
# describes every statement anew (three round trips; a prepared one runs in one).
PREPARED_PER_CONNECTION = 256


def database_url() -> str:
    """DATABASE_URL if set, else the URL described by the database secret."""
    settings = get_settings()
    if settings.database_url:
        return settings.database_url

    return url_from_secret(secret_json(settings.database_secret_arn or ""))


@lru_cache(maxsize=1)
def engine() -> Engine:
    """The engine; a Lambda environment serves one request at a time, so the pool stays small."""
    return _engine(database_url())


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (or is overloaded), not a bad query."""
    from sqlalchemy import exc as sa

    return isinstance(exc, ConnectionError | sa.OperationalError | sa.InterfaceError
                      | sa.TimeoutError) or (
        isinstance(exc, sa.DBAPIError) and exc.connection_invalidated)


def _socket_error_is_a_disconnect(context: Any) -> None:
    # pg8000 lets some socket errors (a reset mid-query) escape unwrapped, and SQLAlchemy only
    # invalidates connections on the driver's own errors: the pool would hand the dead
    # connection out again, to every caller (a health check stayed unhealthy for minutes after
    # an outage). Marked a disconnect, the connection and the rest of its pool are discarded.
    if isinstance(context.original_exception, ConnectionError):
        context.is_disconnect = True


def reader() -> Engine:
    """An autocommit engine for reads of one statement: no BEGIN and ROLLBACK round trips (the
    authorizer's one query, read-only units of work). Its own pool: switching a pooled
    connection in and out of autocommit would cost round trips of its own."""
    return _reader_of(engine())


@lru_cache(maxsize=1)
def _reader_of(main: Engine) -> Engine:
    # Keyed by the main engine, so clearing `engine`'s cache (tests) replaces this one too.
    return _engine(main.url.render_as_string(hide_password=False),
                   isolation_level="AUTOCOMMIT", pool_size=1)


def _engine(url: str, **options: Any) -> Engine:
    trace_library("sqlite3" if url.startswith("sqlite") else "pg8000")
    if url.startswith("sqlite"):
        eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                            **{k: v for k, v in options.items() if k == "isolation_level"})
        event.listen(eng, "connect", _sqlite_pragmas)
        return eng
    # A Lambda instance serves one request at a time: it keeps one connection, and a second one
    # held at once (rare) is closed when returned. Thousands of instances share one database.
    options.setdefault("pool_size", 1)
    proxy = proxy_host()
    if proxy:
        url = _through_proxy(url, proxy)
    # pg8000 verifies nothing unless given a context (DATABASE_TLS: verify-full on deploy).
    context = tls_context(through_proxy=bool(proxy))
    if context is not None:
        options["connect_args"] = {"ssl_context": context}
    eng = create_engine(url, max_overflow=2, pool_recycle=300, **options)
    if proxy:
        event.listen(eng, "do_connect", _iam_token_as_password)
    event.listen(eng, "connect", _send_without_delay)
    event.listen(eng, "connect", _reuse_prepared_statements)
    event.listen(eng, "handle_error", _socket_error_is_a_disconnect)
    event.listen(eng, "checkin", _idle_from)
    event.listen(eng, "checkout", _ping_if_idle)
    return eng


def _through_proxy(url: str, host: str) -> str:
    """`url` with the proxy as its host and no password (each connection signs a token)."""
    from sqlalchemy.engine import make_url

    # RDS Proxy listens on PostgreSQL's default port, whichever port the instance uses.
    # (`set` ignores None, so the password goes with the tuple's own _replace.)
    return make_url(url).set(host=host, port=5432)._replace(password=None).render_as_string(
        hide_password=False)


def _iam_token_as_password(_dialect: Any, _record: Any, _cargs: Any,
                           cparams: dict[str, Any]) -> None:
    # The proxy accepts IAM authentication only (IAMAuth REQUIRED), and a token signs in for
    # 15 minutes after it is made: an instance lives for hours, so every new connection (a
    # recycle every 300 s, a reconnect after an outage) signs its own.
    cparams["password"] = _rds().generate_db_auth_token(
        DBHostname=cparams["host"], Port=cparams.get("port", 5432),
        DBUsername=cparams["user"])


@lru_cache(maxsize=1)
def _rds() -> Any:
    """The RDS client that signs auth tokens (locally, without a call to AWS)."""
    import boto3

    return boto3.client("rds")


def _send_without_delay(dbapi_connection: Any, _record: Any) -> None:
    # pg8000 leaves Nagle's algorithm on (libpq turns it off). A statement larger than its 8 KB
    # write buffer leaves in two writes, and the second waits for the server's delayed ACK:
    # 40 ms on Linux. An import chunk's progress row (its created ids) crossed 8 KB in one
    # request of five, which doubled the mean time of a 10-row write.
    sock = getattr(dbapi_connection, "_usock", None)
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _reuse_prepared_statements(dbapi_connection: Any, _record: Any) -> None:
    # pg8000's DB-API sends every statement (and COMMIT and ROLLBACK) as an unnamed one: Parse
    # and Sync, Describe and Sync, then Bind, Execute and Sync, three round trips. Here each
    # statement text is prepared once per connection (one round trip) and then only bound and
    # executed (one round trip). The least recently used are closed beyond a bound.
    from collections import OrderedDict

    from pg8000.converters import make_params
    from pg8000.exceptions import DatabaseError

    unnamed = dbapi_connection.execute_unnamed
    prepared: OrderedDict[tuple[str, tuple[Any, ...]], tuple[Any, Any, Any]] = OrderedDict()

    def execute(statement: str, vals: Any = (), oids: Any = (), stream: Any = None) -> Any:
        if stream is not None:
            return unnamed(statement, vals=vals, oids=oids, stream=stream)
        key = (statement, tuple(oids or ()))
        found = prepared.get(key)
        if found is None:
            found = prepared[key] = dbapi_connection.prepare_statement(statement, oids or ())
            if len(prepared) > PREPARED_PER_CONNECTION:
                _, (name, *_rest) = prepared.popitem(last=False)
                dbapi_connection.close_prepared_statement(name)
        else:
            prepared.move_to_end(key)
        name, columns, input_funcs = found
        try:
            return dbapi_connection.execute_named(
                name, make_params(dbapi_connection.py_types, vals), columns, input_funcs,
                statement)
        except DatabaseError as e:
            # A migration changed a table under a prepared plan (0A000), or the statement is
            # gone (26000): prepare again next time; this statement fails as it would have.
            detail = e.args[0] if e.args and isinstance(e.args[0], dict) else {}
            if detail.get("C") in ("0A000", "26000"):
                prepared.clear()
            raise

    if hasattr(dbapi_connection, "prepare_statement"):
        dbapi_connection.execute_unnamed = execute


def _idle_from(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since <= IDLE_PING_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        if not getattr(dbapi_connection, "autocommit", False):
            dbapi_connection.rollback()
    except Exception as e:  # any failure means this connection is unusable: the pool retries
        raise DisconnectionError("stale pooled connection") from e


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the local runtime's worker processes read while another one writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class UnitOfWork:
    """A session that commits only when told to and rolls back otherwise.

    Domain events added with `add_event` are published by `commit`, after the data they
    describe exists; a rolled-back unit of work publishes nothing. A `read_only` one reads
    through the autocommit engine (no transaction round trips) and refuses to commit.
    """

    session: Session

    def __init__(self, read_only: bool = False) -> None:
        self.read_only = read_only

    def __enter__(self) -> UnitOfWork:
        from sqlalchemy.orm import Session

        self.session = Session(reader() if self.read_only else engine(), expire_on_commit=False)
        self._events: list[tuple[str, dict[str, Any]]] = []
        return self

    def add_event(self, event_type: str, detail: dict[str, Any]) -> None:
        """Publish `event_type` once this unit of work commits."""
        self._events.append((event_type, detail))

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.session.rollback()
        self.session.close()
        self._events = []

    def commit(self) -> None:
        """Commit, then publish the collected events; a unique violation becomes a `Conflict`."""
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        try:
            self.session.commit()
        except IntegrityError as e:
            self.session.rollback()
            self._events = []
            raise Conflict("The change conflicts with existing data.") from e
        pending, self._events = self._events, []
        if pending:

            events.publish_all(pending)

    def flush(self) -> None:
        """Flush pending changes so constraint violations surface as `Conflict` now."""
        try:
            self.session.flush()
        except IntegrityError as e:
            self.session.rollback()
            raise Conflict("The change conflicts with existing data.") from e
