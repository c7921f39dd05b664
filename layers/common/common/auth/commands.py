"""Commands of the auth and users APIs whose input is more than a body: a route's path and
query values (and its body) as one object."""

from __future__ import annotations

from dataclasses import dataclass

from common.auth.schemas import AdminUserPatch, Role


@dataclass(frozen=True, kw_only=True)
class ValidateCredential:
    """GET /api/auth/validate: the expiry the authorizer read from the presented token (an
    epoch second, perhaps as a string; absent for API keys)."""

    token_expires_at: int | str | None = None


@dataclass(frozen=True, kw_only=True)
class SearchUsers:
    """GET /api/users: the filters and the page to read (admin)."""

    q: str | None = None
    role: Role | None = None
    active: bool | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, kw_only=True)
class UpdateUser:
    """PATCH /api/users/{user_id} (admin)."""

    user_id: str
    body: AdminUserPatch
