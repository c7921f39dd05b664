"""Session-wide test set-up: which database the suite uses, freshly migrated."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_SQLITE_FALLBACK = f"sqlite:///{Path(tempfile.gettempdir()) / f'pyairtable-tests-{os.getpid()}.db'}"
DATABASE_URL = os.environ.get("DATABASE_URL") or _SQLITE_FALLBACK


def pytest_report_header(config: pytest.Config) -> str:
    """Say which database this run uses (CI must show PostgreSQL)."""
    shown = DATABASE_URL.split("@")[-1] if "@" in DATABASE_URL else DATABASE_URL
    return f"database: {DATABASE_URL.split(':')[0]} ({shown})"


def reset_database(url: str, revision: str = "head") -> None:
    """Drop everything and apply the migrations from scratch (up to `revision`)."""
    from sqlalchemy import create_engine, text

    from common.core.migrate import upgrade

    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url, revision)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """The test database, migrated to head once per session."""
    reset_database(DATABASE_URL)
    yield DATABASE_URL
