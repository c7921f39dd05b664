"""The one clock, and timestamps from outside made aware (the models' own are: `UtcDateTime`)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """Timezone-aware now."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A timestamp from outside (a query, a cursor, a payload) as aware UTC; naive means UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def is_past(value: datetime | None, at: datetime) -> bool:
    """Whether `value` is set and not after `at`."""
    return value is not None and value <= at
