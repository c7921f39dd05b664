"""Single-use tokens sent by email (verification, password reset): only their hash is stored."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from common.auth import tokens
from common.core.clock import is_past
from common.core.db import UnitOfWork
from common.core.errors import InvalidToken
from common.core.models import EmailToken, User

VERIFY = "verify_email"
RESET = "reset_password"
LIFETIMES = {VERIFY: timedelta(hours=24), RESET: timedelta(hours=1)}
MESSAGE = "The link is not valid: it was already used, has expired, or was never issued."


def issue(uow: UnitOfWork, user: User, purpose: str, at: datetime) -> str:
    """A new token for `user`; the clear token is returned once, for the email."""
    secret = tokens.opaque_secret()
    uow.session.add(EmailToken(token_hash=tokens.digest(secret), purpose=purpose, user_id=user.id,
                               email=user.email, created_at=at,
                               expires_at=at + LIFETIMES[purpose]))
    return secret


def find(uow: UnitOfWork, secret: str, purpose: str, at: datetime) -> tuple[EmailToken, User]:
    """The unused, unexpired token and its user (whose email is still the one it was sent to)."""
    row = uow.session.get(EmailToken, tokens.digest(secret)) if secret else None
    user = uow.session.get(User, row.user_id) if row is not None else None
    if (row is None or user is None or row.purpose != purpose or row.used_at is not None
            or is_past(row.expires_at, at) or user.email != row.email):
        raise InvalidToken(MESSAGE)
    return row, user


def spend(uow: UnitOfWork, row: EmailToken, at: datetime) -> None:
    """Mark the token used, atomically: of two requests presenting it, only one succeeds."""
    claimed = uow.session.execute(
        update(EmailToken).where(EmailToken.token_hash == row.token_hash,
                                 EmailToken.used_at.is_(None))
        .values(used_at=at).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidToken(MESSAGE)
    row.used_at = at


def spend_all(uow: UnitOfWork, user_id: str, purpose: str, at: datetime) -> None:
    """Retire every outstanding token of `user_id` for `purpose` (older links die)."""
    uow.session.execute(
        update(EmailToken).where(EmailToken.user_id == user_id, EmailToken.purpose == purpose,
                                 EmailToken.used_at.is_(None))
        .values(used_at=at).execution_options(synchronize_session=False))
