"""Workspace use cases: functions of (command, unit of work, caller) called by the routes."""

from __future__ import annotations

from sqlalchemy import func, select

from common.core import access, audit
from common.core.clock import now
from common.core.db import UnitOfWork
from common.core.errors import (
    Conflict,
    Forbidden,
    InvalidToken,
    NotFound,
    RateLimited,
    UpstreamError,
)
from common.core.identity import Identity
from common.core.models import StoredFile, User, Workspace, WorkspaceInvitation, WorkspaceMember
from common.core.observability import logger
from common.core.schemas import Page
from common.core.settings import get_settings
from common.files import storage
from common.workspaces import invitations
from common.workspaces.commands import (
    ChangeRole,
    Invite,
    OnMember,
    RenameWorkspace,
    RevokeInvitation,
)
from common.workspaces.schemas import (
    AcceptIn,
    InvitationOut,
    MemberOut,
    MembershipOut,
    WorkspaceIn,
    WorkspaceOut,
)


def _out(workspace: Workspace, role: str) -> WorkspaceOut:
    return WorkspaceOut(id=workspace.id, name=workspace.name,
                        personal=workspace.personal_of is not None, role=role,  # type: ignore[arg-type]
                        created_at=workspace.created_at)


def _member_out(member: WorkspaceMember, user: User) -> MemberOut:
    return MemberOut(user_id=user.id, email=user.email, username=user.username,
                     role=member.role, joined_at=member.created_at)  # type: ignore[arg-type]


def _add(uow: UnitOfWork, name: str, owner: User, personal: bool) -> Workspace:

    at = now()
    workspace = Workspace(name=name, personal_of=owner.id if personal else None,
                          created_at=at, updated_at=at)
    uow.session.add(workspace)
    uow.flush()
    uow.session.add(WorkspaceMember(workspace_id=workspace.id, user_id=owner.id, role="owner",
                                    created_at=at))
    # Imported here: the Airtable connections module brings requests and the schema cache
    # (about 50 ms of the auth and users functions' cold start) for a call only creating a
    # workspace makes (`make bench ONLY=coldstart`).
    from common.airtable import connections

    connections.attach_default_if_everywhere(uow, workspace, owner.id)
    audit.record(uow, "workspace.created", actor_id=owner.id, target_id=workspace.id,
                 workspace_id=workspace.id, name=name, personal=personal)
    return workspace


def create_personal(uow: UnitOfWork, user: User) -> Workspace:
    """The personal workspace every account gets at registration (committed by the caller)."""
    return _add(uow, "Personal", user, personal=True)


def create(cmd: WorkspaceIn, uow: UnitOfWork, identity: Identity) -> WorkspaceOut:
    """A new shared workspace; the caller is its owner."""
    with uow:
        user = _user(uow, identity.user_id)
        _require_proven(user, "create workspaces")
        workspace = _add(uow, cmd.name, user, personal=False)
        uow.commit()
        return _out(workspace, "owner")


def list_mine(uow: UnitOfWork, identity: Identity) -> Page[WorkspaceOut]:
    """The caller's workspaces with their role, personal first."""
    with uow:
        rows = uow.session.execute(
            select(Workspace, WorkspaceMember.role).join(
                WorkspaceMember, WorkspaceMember.workspace_id == Workspace.id).where(
                WorkspaceMember.user_id == identity.user_id).order_by(
                Workspace.personal_of.is_(None), Workspace.created_at))
        return Page[WorkspaceOut](items=[_out(w, role) for w, role in rows])


def get(workspace_id: str, uow: UnitOfWork, identity: Identity) -> WorkspaceOut:
    """One of the caller's workspaces."""
    with uow:
        role = access.require_role(uow, identity.user_id, workspace_id, "viewer")
        return _out(_workspace(uow, workspace_id), role)


def rename(cmd: RenameWorkspace, uow: UnitOfWork, identity: Identity) -> WorkspaceOut:
    """Rename (owners only)."""
    workspace_id = cmd.workspace_id
    with uow:
        access.require_role(uow, identity.user_id, workspace_id, "owner")
        workspace = _workspace(uow, workspace_id)
        previous, workspace.name, workspace.updated_at = workspace.name, cmd.name, now()
        audit.record(uow, "workspace.renamed", actor_id=identity.user_id, target_id=workspace_id,
                     workspace_id=workspace_id, previous=previous, name=cmd.name)
        uow.commit()
        return _out(workspace, "owner")


def delete(workspace_id: str, uow: UnitOfWork, identity: Identity) -> None:
    """Delete a shared workspace with everything in it (owners only; never the personal one)."""

    with uow:
        access.require_role(uow, identity.user_id, workspace_id, "owner")
        workspace = _workspace(uow, workspace_id)
        if workspace.personal_of is not None:
            raise Conflict("A personal workspace cannot be deleted.")
        keys = list(uow.session.scalars(select(StoredFile.key).where(
            StoredFile.workspace_id == workspace_id)))
        # Its connections, members, invitations and file rows go with it (ON DELETE CASCADE);
        # services that keep schedules listen to workspace.deleted to stop them.
        uow.session.delete(workspace)
        audit.record(uow, "workspace.deleted", actor_id=identity.user_id, target_id=workspace_id,
                     workspace_id=workspace_id, name=workspace.name)
        uow.commit()
    _delete_objects(workspace_id, keys)


def _delete_objects(workspace_id: str, keys: list[str]) -> None:
    """The deleted workspace's files leave the bucket too (after the commit: rows go first)."""

    for key in keys:
        try:
            storage.delete(key)
        except UpstreamError:  # the workspace is gone either way; an orphan is logged
            logger.exception("file of a deleted workspace not removed",
                             extra={"workspace_id": workspace_id, "key": key})


def members(workspace_id: str, uow: UnitOfWork, identity: Identity) -> Page[MemberOut]:
    """Every member with their role (any member may look)."""
    with uow:
        access.require_role(uow, identity.user_id, workspace_id, "viewer")
        rows = uow.session.execute(
            select(WorkspaceMember, User).join(User, User.id == WorkspaceMember.user_id).where(
                WorkspaceMember.workspace_id == workspace_id).order_by(WorkspaceMember.created_at))
        return Page[MemberOut](items=[_member_out(m, u) for m, u in rows])


def change_role(cmd: ChangeRole, uow: UnitOfWork, identity: Identity) -> MemberOut:
    """Give a member another role (owners only); the last owner cannot be demoted."""
    workspace_id, user_id = cmd.workspace_id, cmd.user_id
    with uow:
        _lock(uow, workspace_id)
        access.require_role(uow, identity.user_id, workspace_id, "owner")
        member = _member(uow, workspace_id, user_id)
        if member.role == "owner" and cmd.role != "owner":
            _keep_an_owner(uow, workspace_id)
        previous, member.role = member.role, cmd.role
        if previous != cmd.role:
            audit.record(uow, "member.role_changed", actor_id=identity.user_id, target_id=user_id,
                         workspace_id=workspace_id, previous=previous, role=cmd.role)
        uow.commit()
        return _member_out(member, _user(uow, user_id))


def remove_member(cmd: OnMember, uow: UnitOfWork, identity: Identity) -> None:
    """Remove a member (owners), or leave (anyone); the last owner can do neither."""
    workspace_id, user_id = cmd.workspace_id, cmd.user_id
    with uow:
        _lock(uow, workspace_id)
        leaving = user_id == identity.user_id
        access.require_role(uow, identity.user_id, workspace_id, "viewer" if leaving else "owner")
        member = _member(uow, workspace_id, user_id)
        workspace = _workspace(uow, workspace_id)
        if workspace.personal_of == user_id:
            raise Conflict("Nobody leaves their own personal workspace.")
        if member.role == "owner":
            _keep_an_owner(uow, workspace_id)
        uow.session.delete(member)
        audit.record(uow, "member.left" if leaving else "member.removed",
                     actor_id=identity.user_id, target_id=user_id, workspace_id=workspace_id,
                     role=member.role)
        uow.commit()


def invite(cmd: Invite, uow: UnitOfWork, identity: Identity) -> InvitationOut:
    """Invite an email with a role (owners only); the token travels only in the email."""
    workspace_id = cmd.workspace_id
    with uow:
        access.require_role(uow, identity.user_id, workspace_id, "owner")
        _require_proven(_user(uow, identity.user_id), "invite anyone")
        _within_invitation_quota(uow, workspace_id, identity.user_id)
        workspace = _workspace(uow, workspace_id)
        already = uow.session.scalar(select(WorkspaceMember.user_id).join(
            User, User.id == WorkspaceMember.user_id).where(
            WorkspaceMember.workspace_id == workspace_id, User.email == cmd.email))
        if already:
            raise Conflict("This email already belongs to a member of the workspace.",
                           details=[{"field": "email", "problem": "already a member"}])
        invitation = invitations.create(uow, workspace, cmd.email, cmd.role, identity.user_id)
        return InvitationOut.model_validate(invitation)


def list_invitations(workspace_id: str, uow: UnitOfWork,
                     identity: Identity) -> Page[InvitationOut]:
    """The workspace's invitations, newest first (owners only)."""
    with uow:
        access.require_role(uow, identity.user_id, workspace_id, "owner")
        rows = uow.session.scalars(select(WorkspaceInvitation).where(
            WorkspaceInvitation.workspace_id == workspace_id).order_by(
            WorkspaceInvitation.created_at.desc()))
        return Page[InvitationOut](items=[InvitationOut.model_validate(i) for i in rows])


def revoke_invitation(cmd: RevokeInvitation, uow: UnitOfWork, identity: Identity) -> None:
    """Withdraw an open invitation (owners only)."""
    workspace_id, invitation_id = cmd.workspace_id, cmd.invitation_id
    with uow:
        access.require_role(uow, identity.user_id, workspace_id, "owner")
        invitation = uow.session.get(WorkspaceInvitation, invitation_id)
        if invitation is None or invitation.workspace_id != workspace_id \
                or not invitations.is_open(invitation, now()):
            raise NotFound("No such open invitation.")
        invitation.revoked_at = now()
        audit.record(uow, "invitation.revoked", actor_id=identity.user_id,
                     target_id=invitation_id, workspace_id=workspace_id, email=invitation.email)
        uow.commit()


def accept(cmd: AcceptIn, uow: UnitOfWork, identity: Identity) -> MembershipOut:
    """Join through an invitation sent to the caller's verified email."""

    with uow:
        invitation = invitations.find_valid(uow, cmd.token)
        if invitation is None:
            raise InvalidToken("The invitation is not valid (used, withdrawn or expired).")
        user = _user(uow, identity.user_id)
        if user.email != invitation.email:
            raise Forbidden("This invitation was sent to another email address; sign in with "
                            "that address to accept it.")
        if user.email_verified_at is None:
            raise Forbidden("Verify your email address first: open the link we emailed you "
                            "(or send a new one), then accept the invitation.",
                            details=[{"field": "email", "problem": "not verified"}])
        member = invitations.accept(uow, invitation, user)
        workspace = _workspace(uow, invitation.workspace_id)
        uow.commit()
        return MembershipOut(workspace=_out(workspace, member.role),
                             role=member.role)  # type: ignore[arg-type]


def _lock(uow: UnitOfWork, workspace_id: str) -> None:
    """Hold the workspace row until the commit: two owners demoting each other one after the
    other see each other's change, so the last-owner check cannot be raced."""
    uow.session.execute(select(Workspace.id).where(Workspace.id == workspace_id)
                        .with_for_update())


def _keep_an_owner(uow: UnitOfWork, workspace_id: str) -> None:
    owners = uow.session.scalar(select(func.count()).select_from(WorkspaceMember).where(
        WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.role == "owner"))
    if (owners or 0) <= 1:
        raise Conflict("A workspace keeps at least one owner: make someone else owner first.")


def _workspace(uow: UnitOfWork, workspace_id: str) -> Workspace:
    workspace = uow.session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("No such workspace.")
    return workspace


def _member(uow: UnitOfWork, workspace_id: str, user_id: str) -> WorkspaceMember:
    member = uow.session.get(WorkspaceMember, (workspace_id, user_id))
    if member is None:
        raise NotFound("No such member.")
    return member


def _within_invitation_quota(uow: UnitOfWork, workspace_id: str, inviter_id: str) -> None:
    """429 once the workspace, or the inviter anywhere, sent an hour's worth of invitations:
    invitation emails must not become a way to mail strangers in bulk."""
    from datetime import timedelta


    settings, since = get_settings(), now() - timedelta(hours=1)
    for column, value, limit, whose in (
            (WorkspaceInvitation.workspace_id, workspace_id,
             settings.invitations_per_hour_per_workspace, "This workspace"),
            (WorkspaceInvitation.invited_by, inviter_id,
             settings.invitations_per_hour_per_inviter, "You")):
        sent = list(uow.session.scalars(select(WorkspaceInvitation.created_at).where(
            column == value, WorkspaceInvitation.created_at > since).order_by(
            WorkspaceInvitation.created_at).limit(limit)))
        if len(sent) >= limit:
            wait = (sent[0] + timedelta(hours=1) - now()).total_seconds()
            raise RateLimited(f"{whose} sent {limit} invitations in the last hour, the limit "
                              "(invitations_per_hour); try again later.",
                              retry_after=int(wait) + 1)


def _require_proven(user: User, what: str) -> None:
    """Where registration is not open, an unproven email (e.g. one listed in ADMIN_EMAILS,
    which may register uninvited) must be verified before it can bring anyone in."""

    if user.email_verified_at is None and get_settings().registration_mode != "open":
        raise Forbidden(f"Verify your email address before you {what}: open the link we "
                        "emailed you (or send a new one).",
                        details=[{"field": "email", "problem": "not verified"}])


def _user(uow: UnitOfWork, user_id: str) -> User:
    user = uow.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user
