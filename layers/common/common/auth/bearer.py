"""The caller of a route the gateway's authorizer does not guard (the MCP endpoint, whose 401
must carry OAuth's challenge): the same rules as the authorizer's, on the ORM."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from common.auth import api_keys, sessions, tokens
from common.core import credentials
from common.core.clock import now
from common.core.db import UnitOfWork
from common.core.identity import Identity
from common.core.models import AuthSession, User
from common.core.settings import get_settings

# Usage timestamps are for display: written at most once a minute, as the authorizer does.
_TOUCH_EVERY = timedelta(minutes=1)


def identify(headers: dict[str, Any], uow: UnitOfWork, resource: str) -> Identity | None:
    """Who `Authorization: Bearer` names: an API key, a session's access token, or a grant's
    token for `resource`; None when there is no live one."""
    credential = credentials.bearer(headers)
    if credential is None:
        return None
    with uow:
        if credentials.is_jwt(credential):
            found = _by_token(uow, credential, resource)
        else:
            found = _by_api_key(uow, credential)
        uow.commit()
        return found


def _by_token(uow: UnitOfWork, token: str, resource: str) -> Identity | None:
    settings = get_settings()
    try:
        claims = tokens.verified_claims(token, tokens.signing_key(), issuer=settings.jwt_issuer,
                                        audience=[settings.jwt_audience, resource])
    except tokens.InvalidToken:
        return None
    session = uow.session.get(AuthSession, claims["sid"])
    at = now()
    # A grant's tokens are for its own audience; a sign-in's for the API's (no audience kept).
    audience = session.audience if session is not None else None
    if (session is None or session.user_id != claims["sub"] or not sessions.is_live(session, at)
            or claims["aud"] != (audience or settings.jwt_audience)):
        return None
    user = _active(uow, session.user_id)
    if user is None:
        return None
    if at - session.last_used_at > _TOUCH_EVERY:
        session.last_used_at = at
    return Identity(user_id=user.id, role=user.role, session_id=session.id)


def _by_api_key(uow: UnitOfWork, key: str) -> Identity | None:
    if not credentials.API_KEY_SHAPE.match(key):
        return None
    row = api_keys.find(uow, key)
    at = now()
    user = _active(uow, row.user_id) if api_keys.is_live(row, at) else None
    if row is None or user is None:
        return None
    if row.last_used_at is None or at - row.last_used_at > _TOUCH_EVERY:
        row.last_used_at = at
    return Identity(user_id=user.id, role=user.role, api_key_id=row.id)


def _active(uow: UnitOfWork, user_id: str) -> User | None:
    user = uow.session.get(User, user_id)
    return user if user is not None and user.is_active else None
