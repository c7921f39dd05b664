"""Airtable connections: a workspace's tokens, verified on creation, encrypted, never returned.

Which connection serves a request is decided here, with the workspace access rule: the caller
must be a member of the connection's workspace with the role the action needs, and the
connection must reach the base (Airtable lists it). Nothing is sent to Airtable, and no limiter
slot is reserved, for a base that no connection of the caller reaches.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from common.airtable import defaults, schema
from common.airtable.access import Access
from common.airtable.crypto import decrypt_token, encrypt_token
from common.airtable.errors import TokenRejected
from common.airtable.schemas import ConnectionOut
from common.core import access as workspaces
from common.core import audit
from common.core.access import Role
from common.core.db import UnitOfWork
from common.core.errors import Forbidden, NotFound, ValidationFailed
from common.core.identity import Identity
from common.core.models import AirtableConnection, WorkspaceMember
from common.core.settings import get_settings

# A base missing from a connection's cached base list triggers at most one fresh listing per
# connection in this interval: a new base shows up quickly, random ids cost Airtable nothing.
RELIST_SECONDS = 10.0
_relisted_at: dict[str, float] = {}
# A base found in a connection's list is remembered by this process for a while, so a warm
# function answers the reach check without a cache round trip. Only "reaches" is remembered:
# if the token has lost the base since, Airtable itself refuses the request.
REACH_MEMO_SECONDS = 60.0
_reached_until: dict[tuple[str, str], float] = {}


def public_view(connection: AirtableConnection) -> ConnectionOut:
    """What the API shows of a connection: never the token, only its last four characters."""
    return ConnectionOut(
        id=connection.id, name=connection.name, workspace_id=connection.workspace_id,
        uses_default=connection.uses_default,
        token_last4=None if connection.uses_default else connection.token_last4,
        default_base_id=connection.default_base_id,
        airtable_user_id=connection.airtable_user_id, created_at=connection.created_at)


def create(uow: UnitOfWork, identity: Identity, *, name: str, token: str | None,
           use_default: bool, default_base_id: str | None,
           workspace_id: str | None) -> ConnectionOut:
    """Add a connection to a workspace the caller owns: a verified token, or the default one
    (not committed: the caller commits)."""
    workspace_id = workspaces.resolve_workspace(uow, identity.user_id, workspace_id, "owner")
    if use_default:
        connection = _default_row(uow, workspace_id, identity, name)
        audit.record(uow, "connection.default_attached", actor_id=identity.user_id,
                     target_id=connection.id, workspace_id=workspace_id)
    else:
        if not token:
            raise ValidationFailed("Give a token, or use_default.",
                                   details=[{"field": "token", "problem": "missing"}])
        connection = _token_row(uow, workspace_id, identity.user_id, name, token)
        audit.record(uow, "connection.created", actor_id=identity.user_id,
                     target_id=connection.id, workspace_id=workspace_id, name=name)
    connection.default_base_id = default_base_id
    return public_view(connection)


def _token_row(uow: UnitOfWork, workspace_id: str, user_id: str, name: str,
               token: str) -> AirtableConnection:
    # Imported here: the Airtable client imports pyairtable (about 200 ms of a cold start),
    # which only a request that calls Airtable should pay (`make bench ONLY=coldstart`).
    from common.airtable.client import airtable_api

    try:
        who = airtable_api(token).whoami()
    except TokenRejected as e:
        raise ValidationFailed("Airtable did not accept this token.", details=[
            {"field": "token", "problem": "rejected by Airtable (401)"}]) from e
    connection = AirtableConnection(workspace_id=workspace_id, user_id=user_id, name=name,
                                    token_last4=token[-4:],
                                    token_ciphertext=encrypt_token(token, user_id),
                                    airtable_user_id=who.get("id"))
    uow.session.add(connection)
    uow.flush()
    return connection


def _default_row(uow: UnitOfWork, workspace_id: str, identity: Identity,
                 name: str) -> AirtableConnection:
    if not identity.is_admin:
        raise Forbidden("Only administrators can attach the deployment's Airtable connection.")
    if get_settings().airtable_token_secret_arn is None:
        raise NotFound("This deployment has no Airtable connection of its own.")
    return _add_default(uow, workspace_id, identity.user_id, name)


def _add_default(uow: UnitOfWork, workspace_id: str, user_id: str,
                 name: str) -> AirtableConnection:
    connection = AirtableConnection(workspace_id=workspace_id, user_id=user_id, name=name,
                                    uses_default=True, token_last4="", token_ciphertext=None)
    uow.session.add(connection)
    uow.flush()
    return connection


def attach_default_if_everywhere(uow: UnitOfWork, workspace: Any, user_id: str) -> None:
    """With DEFAULT_CONNECTION=every_workspace, a new workspace gets the deployment's token."""
    settings = get_settings()
    if settings.default_connection == "every_workspace" and settings.airtable_token_secret_arn:
        _add_default(uow, workspace.id, user_id, "Default (this deployment)")


def list_for(uow: UnitOfWork, user_id: str, workspace_id: str | None) -> list[ConnectionOut]:
    """Connections of the caller's workspaces (or of one), oldest first."""
    ids = workspaces.member_workspace_ids(uow, user_id, workspace_id)
    rows = uow.session.scalars(select(AirtableConnection).where(
        AirtableConnection.workspace_id.in_(ids)).order_by(AirtableConnection.created_at))
    return [public_view(c) for c in rows]


def delete(uow: UnitOfWork, user_id: str, connection_id: str) -> None:
    """Remove a connection (owners of its workspace; not committed: the caller commits)."""
    connection = _visible(uow, user_id, connection_id)
    workspaces.require_role(uow, user_id, connection.workspace_id, "owner")
    uow.session.delete(connection)
    audit.record(uow, "connection.deleted", actor_id=user_id, target_id=connection_id,
                 workspace_id=connection.workspace_id)


def usable(uow: UnitOfWork, user_id: str, connection_id: str | None,
           minimum: Role = "viewer") -> list[Access]:
    """The named connection, or every connection of the caller's workspaces (best role first)."""
    if connection_id:
        connection = _visible(uow, user_id, connection_id)
        return [_access(connection, workspaces.require_role(
            uow, user_id, connection.workspace_id, minimum))]
    rows = uow.session.execute(
        select(AirtableConnection, WorkspaceMember.role).join(
            WorkspaceMember, WorkspaceMember.workspace_id == AirtableConnection.workspace_id).where(
            WorkspaceMember.user_id == user_id).order_by(AirtableConnection.created_at))
    found = [(c, role) for c, role in rows]
    found.sort(key=lambda cr: -workspaces.RANK[cr[1]])  # stable: oldest first within a role
    return [_access(c, role) for c, role in found]


def for_base(uow: UnitOfWork, user_id: str, base_id: str, minimum: Role,
             connection_id: str | None = None) -> Access:
    """The caller's connection that reaches `base_id` with at least `minimum` role there.

    No connection of the caller reaches the base -> 404; one does, but the caller's role in its
    workspace is too low -> 403.
    """
    candidates = usable(uow, user_id, connection_id, "viewer")
    reaching = [a for a in candidates if reaches(a, base_id)]
    if not reaching:
        raise NotFound("No Airtable connection of yours reaches this base.")
    for candidate in reaching:
        if workspaces.allows(candidate.role, minimum):
            return candidate
    raise Forbidden(f"Your role in the workspace that reaches this base ({reaching[0].role}) "
                    f"cannot {workspaces.WHAT[minimum]} this; it needs {minimum} or above.")


def reaches(access: Access, base_id: str) -> bool:
    """Whether Airtable lists the base for this connection (cached; relisted when missing)."""
    at = time.monotonic()
    if _reached_until.get((access.scope, base_id), 0.0) > at:
        return True
    found = base_id in _ids(schema.bases(access).value)
    if not found and at - _relisted_at.get(access.scope, -RELIST_SECONDS) >= RELIST_SECONDS:
        _relisted_at[access.scope] = at
        found = base_id in _ids(schema.bases(access, fresh=True).value)
    if found:
        _reached_until[(access.scope, base_id)] = at + REACH_MEMO_SECONDS
    return found


def _ids(bases: list[dict[str, Any]]) -> set[str]:
    return {b["id"] for b in bases}


def _access(connection: AirtableConnection, role: str) -> Access:
    if connection.uses_default:
        return Access(connection.id, _default_token, connection.workspace_id, role)
    ciphertext, owner = connection.token_ciphertext or "", connection.user_id
    return Access(connection.id, lambda: decrypt_token(ciphertext, owner),
                  connection.workspace_id, role)


def _default_token() -> str:
    token = defaults.default_token()
    if token is None:
        raise NotFound("This deployment has no Airtable connection of its own any more.")
    return token


def _visible(uow: UnitOfWork, user_id: str, connection_id: str) -> AirtableConnection:
    """A connection in one of the caller's workspaces; anything else is 404."""
    connection = uow.session.get(AirtableConnection, connection_id)
    if connection is None or workspaces.role_in(uow, user_id, connection.workspace_id) is None:
        raise NotFound("No such connection.")
    return connection
