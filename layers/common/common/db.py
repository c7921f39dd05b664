"""SQLAlchemy engine (created lazily, once per execution environment) and the unit of work."""

from __future__ import annotations

from functools import lru_cache
from types import TracebackType
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.errors import Conflict
from common.settings import get_settings


def database_url() -> str:
    """DATABASE_URL if set, else the URL described by the database secret."""
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    from common.secrets import secret_json

    secret = secret_json(settings.database_secret_arn or "")
    if "url" in secret:
        return str(secret["url"])
    user, password = quote(secret["username"], safe=""), quote(secret["password"], safe="")
    port = secret.get("port", 5432)
    return f"postgresql+pg8000://{user}:{password}@{secret['host']}:{port}/{secret['dbname']}"


@lru_cache(maxsize=1)
def engine() -> Engine:
    """The engine; a Lambda environment serves one request at a time, so the pool stays small."""
    url = database_url()
    if url.startswith("sqlite"):
        eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(eng, "connect", _sqlite_pragmas)
        return eng
    return create_engine(url, pool_size=2, max_overflow=2, pool_pre_ping=True, pool_recycle=300)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the local runtime's worker processes read while another one writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class UnitOfWork:
    """A session that commits only when told to and rolls back otherwise.

    Domain events added with `add_event` are published by `commit`, after the data they
    describe exists; a rolled-back unit of work publishes nothing.
    """

    session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = Session(engine(), expire_on_commit=False)
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
        try:
            self.session.commit()
        except IntegrityError as e:
            self.session.rollback()
            self._events = []
            raise Conflict("The change conflicts with existing data.") from e
        pending, self._events = self._events, []
        if pending:
            from common import events

            events.publish_all(pending)

    def flush(self) -> None:
        """Flush pending changes so constraint violations surface as `Conflict` now."""
        try:
            self.session.flush()
        except IntegrityError as e:
            self.session.rollback()
            raise Conflict("The change conflicts with existing data.") from e
