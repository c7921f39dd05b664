"""Sessions and their opaque refresh tokens: stored hashed, rotated on use, reuse revokes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from common.auth import tokens
from common.core.clock import is_past
from common.core.db import UnitOfWork
from common.core.identity import Identity
from common.core.models import AuthSession, RefreshToken, User
from common.core.settings import get_settings


@dataclass(frozen=True)
class Client:
    """Where a request came from (kept on the session for the user's session list)."""

    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class SignedIn(Identity):
    """A signed-in caller and where the request came from (auth's audit entries keep the IP)."""

    client: Client = Client()


def is_live(session: AuthSession | None, at: datetime) -> bool:
    """Not revoked and not expired."""
    return (session is not None and session.revoked_at is None
            and not is_past(session.expires_at, at))


def start(uow: UnitOfWork, user: User, client: Client, at: datetime) -> tuple[AuthSession, str]:
    """A new session for `user` and its first refresh token (returned in clear, once)."""
    ttl = timedelta(seconds=get_settings().refresh_token_ttl_seconds)
    session = AuthSession(user_id=user.id, created_at=at, last_used_at=at, expires_at=at + ttl,
                          ip=(client.ip or "")[:64] or None,
                          user_agent=(client.user_agent or "")[:512] or None)
    uow.session.add(session)
    uow.flush()
    return session, issue_refresh(uow, session, at)


def issue_refresh(uow: UnitOfWork, session: AuthSession, at: datetime) -> str:
    """A new refresh token of `session`; only its hash is stored."""
    secret = tokens.opaque_secret()
    uow.session.add(RefreshToken(token_hash=tokens.digest(secret), session_id=session.id,
                                 created_at=at, expires_at=session.expires_at))
    return secret


@dataclass(frozen=True)
class Spent:
    """The outcome of presenting a refresh token."""

    token: RefreshToken | None
    reused: bool


def spend(uow: UnitOfWork, secret: str, at: datetime) -> Spent:
    """Mark the presented refresh token spent, atomically (two racing uses: one wins)."""
    token = uow.session.get(RefreshToken, tokens.digest(secret))
    if token is None:
        return Spent(None, reused=False)
    if token.spent_at is not None:
        return Spent(token, reused=True)
    claimed = uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == token.token_hash, RefreshToken.spent_at.is_(None))
        .values(spent_at=at).execution_options(synchronize_session=False))
    return Spent(token, reused=claimed.rowcount != 1)  # type: ignore[attr-defined]


def revoke(session: AuthSession, at: datetime) -> bool:
    """Revoke one session; False when it was already revoked."""
    if session.revoked_at is not None:
        return False
    session.revoked_at = at
    return True


def revoke_all(uow: UnitOfWork, user_id: str, at: datetime, *, keep: str | None = None) -> int:
    """Revoke every live session of `user_id` except `keep`; how many were revoked."""
    query = update(AuthSession).where(AuthSession.user_id == user_id,
                                      AuthSession.revoked_at.is_(None))
    if keep:
        query = query.where(AuthSession.id != keep)
    result = uow.session.execute(query.values(revoked_at=at)
                                 .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def active_of(uow: UnitOfWork, user_id: str, at: datetime) -> list[AuthSession]:
    """The user's live sessions, newest first."""
    rows = uow.session.scalars(
        select(AuthSession).where(AuthSession.user_id == user_id,
                                  AuthSession.revoked_at.is_(None))
        .order_by(AuthSession.created_at.desc()))
    return [s for s in rows if is_live(s, at)]
