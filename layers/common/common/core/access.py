"""The one access rule: a caller's role in an object's workspace decides what they may do.

No membership -> 404 (the object's existence is not revealed); a role below the one the action
needs -> 403. Every service that owns workspace objects asks here and nowhere else.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select

from common.core.db import UnitOfWork
from common.core.errors import Forbidden, NotFound
from common.core.models import Workspace, WorkspaceMember

Role = Literal["viewer", "editor", "owner"]
RANK: dict[str, int] = {"viewer": 1, "editor": 2, "owner": 3}
WHAT: dict[str, str] = {"viewer": "read", "editor": "change", "owner": "manage"}


def role_in(uow: UnitOfWork, user_id: str, workspace_id: str) -> str | None:
    """The caller's role in the workspace, or None when not a member."""
    return uow.session.scalar(select(WorkspaceMember.role).where(
        WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.user_id == user_id))


def allows(role: str | None, minimum: Role) -> bool:
    """Whether `role` is at least `minimum`."""
    return role is not None and RANK[role] >= RANK[minimum]


def require_role(uow: UnitOfWork, user_id: str, workspace_id: str, minimum: Role) -> str:
    """The caller's role in the workspace; 404 without membership, 403 below `minimum`."""
    role = role_in(uow, user_id, workspace_id)
    if role is None:
        raise NotFound("No such workspace.")
    if not allows(role, minimum):
        raise Forbidden(f"Your role in this workspace ({role}) cannot {WHAT[minimum]} this; "
                        f"it needs {minimum} or above.")
    return role


def personal_workspace_id(uow: UnitOfWork, user_id: str) -> str:
    """The caller's personal workspace."""
    workspace_id = uow.session.scalar(select(Workspace.id).where(Workspace.personal_of == user_id))
    if workspace_id is None:
        raise NotFound("You have no personal workspace.")
    return workspace_id


def resolve_workspace(uow: UnitOfWork, user_id: str, workspace_id: str | None,
                      minimum: Role = "editor") -> str:
    """The workspace a new object goes to (default: the caller's personal one), role checked."""
    workspace_id = workspace_id or personal_workspace_id(uow, user_id)
    require_role(uow, user_id, workspace_id, minimum)
    return workspace_id


def member_workspace_ids(uow: UnitOfWork, user_id: str,
                         workspace_id: str | None = None) -> list[str]:
    """The workspaces a list endpoint covers: the one asked for (404 unless a member) or all."""
    if workspace_id is not None:
        require_role(uow, user_id, workspace_id, "viewer")
        return [workspace_id]
    return list(uow.session.scalars(select(WorkspaceMember.workspace_id).where(
        WorkspaceMember.user_id == user_id)))


def roles_of(uow: UnitOfWork, user_id: str) -> dict[str, str]:
    """Every workspace of the caller with their role there."""
    rows = uow.session.execute(select(WorkspaceMember.workspace_id, WorkspaceMember.role).where(
        WorkspaceMember.user_id == user_id))
    return {ws: role for ws, role in rows}
