"""Users service: profiles, preferences, admin user management, and workspaces."""

from typing import Annotated, Literal

import workspace_routes
from aws_lambda_powertools.event_handler.openapi.params import Query

from common.auth import users
from common.auth.commands import SearchUsers, UpdateUser
from common.auth.schemas import AdminUserPatch, ProfilePatch, UserOut
from common.core import health
from common.core.dependencies import Admin, Caller, ReadUow, Uow
from common.core.http import create_app
from common.core.lambda_handlers import http_handler
from common.core.schemas import Page, documented

app = create_app("users")
app.include_router(health.health_router("users", {"database": health.database}))
app.include_router(workspace_routes.router)
TAGS = ["users"]


@app.get("/api/users/me", summary="The caller's profile", tags=TAGS)
def get_me(caller: Caller, uow: ReadUow) -> UserOut:
    return users.profile(uow, caller)


@app.patch("/api/users/me", summary="Update the caller's profile", tags=TAGS)
def patch_me(body: ProfilePatch, caller: Caller, uow: Uow) -> UserOut:
    return users.update_profile(body, uow, caller)


@app.delete("/api/users/me", summary="Deactivate the caller's account", tags=TAGS,
            status_code=204, responses=documented(204, description="Deactivated"))
def delete_me(caller: Caller, uow: Uow) -> None:
    users.deactivate_self(uow, caller)


@app.get("/api/users", summary="Search users (admin)", tags=TAGS)
def search(caller: Admin, uow: ReadUow,
           q: Annotated[str | None, Query(max_length=200)] = None,
           role: Annotated[Literal["admin", "member"] | None, Query()] = None,
           active: Annotated[bool | None, Query()] = None,
           limit: Annotated[int, Query(ge=1, le=200)] = 50,
           cursor: Annotated[str | None, Query(max_length=1000)] = None) -> Page[UserOut]:
    cmd = SearchUsers(q=q, role=role, active=active, limit=limit, cursor=cursor)
    return users.search(cmd, uow, caller)


@app.get("/api/users/<user_id>", summary="One user (admin)", tags=TAGS)
def get_user(user_id: str, caller: Admin, uow: ReadUow) -> UserOut:
    return users.get(user_id, uow, caller)


@app.patch("/api/users/<user_id>", summary="Change a user's role or active flag (admin)",
           tags=TAGS)
def patch_user(user_id: str, body: AdminUserPatch, caller: Admin, uow: Uow) -> UserOut:
    return users.admin_update(UpdateUser(user_id=user_id, body=body), uow, caller)


lambda_handler = http_handler(app)
