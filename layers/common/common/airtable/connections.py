"""Users' Airtable connections: verified on creation, encrypted at rest, never returned."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from common.airtable import defaults
from common.airtable.crypto import decrypt_token, encrypt_token
from common.airtable.errors import TokenRejected
from common.db import UnitOfWork
from common.errors import NotFound, ValidationFailed
from common.models import AirtableConnection

if TYPE_CHECKING:  # pyairtable loads only when Airtable is really called (not on cache hits)
    from common.airtable.client import LimitedApi


class Access:
    """The cache scope of a connection, and a client built only when Airtable must be called."""

    def __init__(self, scope: str, token: Callable[[], str]) -> None:
        self.scope = scope
        self._token = token

    @cached_property
    def api(self) -> LimitedApi:
        """The client; a cache hit never decrypts the token or builds it."""
        from common.airtable.client import airtable_api

        return airtable_api(self._token())


def public_view(connection: AirtableConnection) -> dict[str, Any]:
    """What the API shows of a connection: never the token, only its last four characters."""
    return {"id": connection.id, "name": connection.name,
            "token_last4": connection.token_last4, "default_base_id": connection.default_base_id,
            "airtable_user_id": connection.airtable_user_id,
            "created_at": connection.created_at.isoformat()}


def create(uow: UnitOfWork, user_id: str, name: str, token: str,
           default_base_id: str | None) -> dict[str, Any]:
    """Verify the token with `whoami`, then store it encrypted."""
    from common.airtable.client import airtable_api

    try:
        who = airtable_api(token).whoami()
    except TokenRejected as e:
        raise ValidationFailed("Airtable did not accept this token.", details=[
            {"field": "token", "problem": "rejected by Airtable (401)"}]) from e
    connection = AirtableConnection(user_id=user_id, name=name, token_last4=token[-4:],
                                    token_ciphertext=encrypt_token(token, user_id),
                                    airtable_user_id=who.get("id"),
                                    default_base_id=default_base_id)
    uow.session.add(connection)
    uow.commit()
    return public_view(connection)


def list_for(uow: UnitOfWork, user_id: str) -> list[dict[str, Any]]:
    """The user's connections, oldest first."""
    rows = uow.session.scalars(select(AirtableConnection).where(
        AirtableConnection.user_id == user_id).order_by(AirtableConnection.created_at))
    return [public_view(c) for c in rows]


def delete(uow: UnitOfWork, user_id: str, connection_id: str) -> None:
    """Remove one of the user's connections."""
    uow.session.delete(_owned(uow, user_id, connection_id))
    uow.commit()


def access(uow: UnitOfWork, user_id: str, connection_id: str | None) -> Access:
    """A client for the named connection, else the user's first one, else the default token."""
    if connection_id:
        connection = _owned(uow, user_id, connection_id)
    else:
        connection = uow.session.scalars(select(AirtableConnection).where(
            AirtableConnection.user_id == user_id).order_by(
            AirtableConnection.created_at).limit(1)).first()
    if connection is not None:
        ciphertext = connection.token_ciphertext
        return Access(connection.id, lambda: decrypt_token(ciphertext, user_id))
    token = defaults.default_token()
    if token is None:
        raise NotFound("No Airtable connection: create one with POST /api/airtable/connections.")
    return Access("default", lambda: token)


def _owned(uow: UnitOfWork, user_id: str, connection_id: str) -> AirtableConnection:
    connection = uow.session.get(AirtableConnection, connection_id)
    if connection is None or connection.user_id != user_id:
        raise NotFound("No such connection.")
    return connection
