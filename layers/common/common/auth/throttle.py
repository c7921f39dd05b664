"""Login throttling per account: too many failures lock the identifier for a while."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from common.clock import aware, is_past
from common.db import UnitOfWork
from common.errors import RateLimited
from common.models import LoginThrottle

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
MESSAGE = "Too many failed attempts. Try again later."


def key_for(user_id: str | None, identifier: str) -> str:
    """Throttle by account when it exists (email and username share it), else by identifier."""
    return f"user:{user_id}" if user_id else f"id:{identifier[:300]}"


def check(uow: UnitOfWork, key: str, at: datetime) -> None:
    """Raise `RateLimited` while `key` is locked out."""
    row = uow.session.get(LoginThrottle, key)
    if row is not None and row.locked_until is not None and not is_past(row.locked_until, at):
        raise RateLimited(MESSAGE, retry_after=_seconds_until(row.locked_until, at))


def record_failure(uow: UnitOfWork, key: str, at: datetime) -> bool:
    """Count one failure; True when this one locks the key out."""
    row = _locked_row(uow, key, at)
    if is_past(aware(row.window_started_at) + WINDOW, at):  # type: ignore[operator]
        row.failures, row.window_started_at = 0, at
    row.failures += 1
    if row.failures >= MAX_FAILURES:
        row.failures, row.window_started_at, row.locked_until = 0, at, at + LOCKOUT
        return True
    return False


def lockout_error(at: datetime) -> RateLimited:
    """The error for an attempt that just caused a lock-out."""
    return RateLimited(MESSAGE, retry_after=int(LOCKOUT.total_seconds()))


def reset(uow: UnitOfWork, key: str) -> None:
    """Forget the failures of `key` (after a successful login)."""
    row = uow.session.get(LoginThrottle, key)
    if row is not None:
        uow.session.delete(row)


def _locked_row(uow: UnitOfWork, key: str, at: datetime) -> LoginThrottle:
    query = (select(LoginThrottle).where(LoginThrottle.identifier == key).with_for_update()
             .execution_options(populate_existing=True))
    row = uow.session.scalars(query).first()
    if row is not None:
        return row
    try:
        with uow.session.begin_nested():  # two first failures at once: the loser re-reads
            row = LoginThrottle(identifier=key, failures=0, window_started_at=at)
            uow.session.add(row)
    except IntegrityError:
        row = uow.session.scalars(query).one()
    return row


def _seconds_until(when: datetime, at: datetime) -> int:
    return max(1, int((aware(when) - at).total_seconds()) + 1)  # type: ignore[operator]
