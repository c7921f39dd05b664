"""UTC time helpers (SQLite hands back naive datetimes; they are UTC by construction)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """Timezone-aware now."""
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """`value` as an aware UTC datetime."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def is_past(value: datetime | None, at: datetime) -> bool:
    """Whether `value` is set and not after `at`."""
    return value is not None and aware(value) <= at  # type: ignore[operator]
