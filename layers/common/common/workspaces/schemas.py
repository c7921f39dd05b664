"""Request and response models of the workspaces API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from common.core.schemas import Email, Utc

Role = Literal["owner", "editor", "viewer"]
# Printable text only: a name travels into email subjects and headers.
WorkspaceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                 max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")]


class WorkspaceIn(BaseModel):
    """POST /api/workspaces and PATCH /api/workspaces/{id}."""

    name: WorkspaceName


class WorkspaceOut(BaseModel):
    """A workspace as one of its members sees it."""

    id: str
    name: str
    personal: bool
    role: Role
    created_at: Utc


class MemberOut(BaseModel):
    """A member of a workspace."""

    model_config = ConfigDict(from_attributes=True)

    user_id: str
    email: str
    username: str | None
    role: Role
    joined_at: Utc


class RoleIn(BaseModel):
    """PATCH /api/workspaces/{id}/members/{user_id}."""

    role: Role


class InvitationIn(BaseModel):
    """POST /api/workspaces/{id}/invitations."""

    email: Email
    role: Role = "viewer"


class InvitationOut(BaseModel):
    """An invitation (its token is only ever in the email)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    workspace_id: str
    email: str
    role: Role
    created_at: Utc
    expires_at: Utc
    accepted_at: Utc | None
    revoked_at: Utc | None


class AcceptIn(BaseModel):
    """POST /api/workspaces/invitations/accept."""

    token: str = Field(min_length=10, max_length=200)


class MembershipOut(BaseModel):
    """The membership an accepted invitation made."""

    workspace: WorkspaceOut
    role: Role
