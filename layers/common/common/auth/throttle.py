"""Attempt counters shared by every Lambda instance: per account, per email and per client IP.

Each attempt is counted by one atomic upsert, committed before the work it guards is done, so
parallel requests cannot all pass a check that reads the count first and writes it later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal
from sqlalchemy.dialects import postgresql, sqlite

from common.core.db import UnitOfWork
from common.core.errors import RateLimited
from common.core.models import LoginThrottle
from common.core.settings import get_settings

MESSAGE = "Too many attempts. Try again later."


@dataclass(frozen=True)
class Limit:
    """At most `attempts` in a fixed window of `window` per key."""

    attempts: int
    window: timedelta


# Password checks per account (a success clears the count).
ACCOUNT = Limit(5, timedelta(minutes=15))
# Emails a stranger can make us send to one address.
RESET_EMAIL = Limit(3, timedelta(minutes=15))
VERIFICATION_EMAIL = Limit(3, timedelta(minutes=15))
LOCKOUT = ACCOUNT.window


@dataclass(frozen=True)
class Attempt:
    """One counted attempt: its number in the current window."""

    count: int
    limit: Limit
    window_started_at: datetime
    at: datetime

    @property
    def over(self) -> bool:
        """More attempts than the limit allows: refuse without doing the work."""
        return self.count > self.limit.attempts

    @property
    def last(self) -> bool:
        """The last attempt the window allows (a failure now locks the key)."""
        return self.count >= self.limit.attempts

    def error(self) -> RateLimited:
        """429 with the seconds until the window ends."""
        ends = self.window_started_at + self.limit.window
        return RateLimited(MESSAGE, retry_after=int((ends - self.at).total_seconds()) + 1)


def key_for(user_id: str | None, identifier: str) -> str:
    """Throttle by account when it exists (email and username share it), else by identifier."""
    return f"user:{user_id}" if user_id else f"id:{identifier[:300]}"


def count(uow: UnitOfWork, key: str, limit: Limit, at: datetime) -> Attempt:
    """Count one attempt at `key` in one statement and commit it at once."""
    table = LoginThrottle.__table__
    started = table.c.window_started_at
    stale = started <= at - limit.window
    dialect = postgresql if uow.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(identifier=key, failures=1, window_started_at=at)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.identifier],
        set_={"failures": case((stale, 1), else_=table.c.failures + 1),
              "window_started_at": case((stale, literal(at, started.type)), else_=started)},
    ).returning(table.c.failures, started)
    number, window_started_at = uow.session.execute(statement).one()
    uow.commit()
    return Attempt(int(number), limit, window_started_at, at)


def take(uow: UnitOfWork, key: str, limit: Limit, at: datetime) -> Attempt:
    """Count one attempt; 429 when it is over the limit."""
    attempt = count(uow, key, limit, at)
    if attempt.over:
        raise attempt.error()
    return attempt


def per_ip(uow: UnitOfWork, route: str, ip: str | None, at: datetime) -> None:
    """Count one call of a public auth route from `ip`; 429 over the per-IP limit."""
    if ip:
        limit = Limit(get_settings().auth_ip_limit_per_minute, timedelta(minutes=1))
        take(uow, f"ip:{route}:{ip[:64]}", limit, at)


def reset(uow: UnitOfWork, key: str) -> None:
    """Forget the attempts at `key` (after a successful login)."""
    uow.session.execute(delete(LoginThrottle).where(LoginThrottle.identifier == key))
