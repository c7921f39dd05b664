"""Invitations by email: a single-use token (stored hashed) that makes its bearer a member."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select

from common.core import audit, mail
from common.core.access import RANK
from common.core.clock import is_past, now
from common.core.credentials import digest, opaque_secret
from common.core.db import UnitOfWork
from common.core.models import User, Workspace, WorkspaceInvitation, WorkspaceMember

TTL = timedelta(days=7)


def create(uow: UnitOfWork, workspace: Workspace, email: str, role: str,
           invited_by: str) -> WorkspaceInvitation:
    """Store an invitation and email its token (the email leaves only if the commit succeeds)."""
    token = opaque_secret()
    at = now()
    invitation = WorkspaceInvitation(workspace_id=workspace.id, email=email.lower(), role=role,
                                     token_hash=digest(token), invited_by=invited_by,
                                     created_at=at, expires_at=at + TTL)
    uow.session.add(invitation)
    uow.flush()
    audit.record(uow, "invitation.created", actor_id=invited_by, target_id=invitation.id,
                 workspace_id=workspace.id, email=invitation.email, role=role)
    uow.commit()
    # The page the link opens greets a newcomer before any sign-in, so it carries what the
    # greeting names; only the token grants anything.
    about = urlencode({"workspace": workspace.name, "workspace_id": workspace.id, "role": role,
                       "email": invitation.email})
    mail.send_email(invitation.email, f"You are invited to {workspace.name} on PyAirtable",
                    f"You have been invited to the workspace \"{workspace.name}\" as {role}.\n\n"
                    f"Accept the invitation (valid for 7 days); without an account yet, "
                    f"you can create one from the same page:\n"
                    f"{mail.link('/invitations/accept', token)}&{about}\n")
    return invitation


def is_open(invitation: WorkspaceInvitation | None, at: datetime) -> bool:
    """Not accepted, not revoked, not expired."""
    return (invitation is not None and invitation.accepted_at is None
            and invitation.revoked_at is None and not is_past(invitation.expires_at, at))


def find_valid(uow: UnitOfWork, token: str) -> WorkspaceInvitation | None:
    """The open invitation this token stands for, if any."""
    invitation = uow.session.scalar(select(WorkspaceInvitation).where(
        WorkspaceInvitation.token_hash == digest(token)))
    return invitation if is_open(invitation, now()) else None


def accept(uow: UnitOfWork, invitation: WorkspaceInvitation, user: User) -> WorkspaceMember:
    """Make `user` a member with the invited role (a member already keeps the higher role)."""

    at = now()
    member = uow.session.get(WorkspaceMember, (invitation.workspace_id, user.id))
    if member is None:
        member = WorkspaceMember(workspace_id=invitation.workspace_id, user_id=user.id,
                                 role=invitation.role, created_at=at)
        uow.session.add(member)
    elif RANK[invitation.role] > RANK[member.role]:
        member.role = invitation.role
    invitation.accepted_at, invitation.accepted_by = at, user.id
    audit.record(uow, "invitation.accepted", actor_id=user.id, target_id=invitation.id,
                 workspace_id=invitation.workspace_id, role=member.role)
    return member
