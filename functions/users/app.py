"""Users service: profiles, preferences, admin user management, and workspaces."""

from typing import Annotated, Literal

import workspace_routes
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from common import health, users
from common.auth.schemas import AdminUserPatch, ProfilePatch, UserOut
from common.db import UnitOfWork
from common.http import JSON, create_app
from common.identity import current_identity, require_admin
from common.lambda_handlers import http_handler
from common.schemas import Page, documented

app = create_app("users")
app.include_router(health.health_router("users", {"database": health.database}))
app.include_router(workspace_routes.router)
TAGS = ["users"]


@app.get("/api/users/me", summary="The caller's profile", tags=TAGS,
          responses=documented(200, UserOut))
def get_me() -> dict:
    return users.profile(current_identity(app), UnitOfWork(read_only=True))


@app.patch("/api/users/me", summary="Update the caller's profile", tags=TAGS,
          responses=documented(200, UserOut))
def patch_me(body: ProfilePatch) -> dict:
    return users.update_profile(body, UnitOfWork(), current_identity(app))


@app.delete("/api/users/me", summary="Deactivate the caller's account", tags=TAGS,
          responses=documented(204, description="Deactivated"))
def delete_me():
    users.deactivate_self(current_identity(app), UnitOfWork())
    return Response(status_code=204, content_type=JSON, body="")


@app.get("/api/users", summary="Search users (admin)", tags=TAGS,
          responses=documented(200, Page))
def search(q: Annotated[str | None, Query(max_length=200)] = None,
           role: Annotated[Literal["admin", "member"] | None, Query()] = None,
           active: Annotated[bool | None, Query()] = None,
           limit: Annotated[int, Query(ge=1, le=200)] = 50,
           cursor: Annotated[str | None, Query(max_length=1000)] = None) -> dict:
    require_admin(app)
    return users.search(UnitOfWork(), q=q, role=role, active=active, limit=limit, after=cursor)


@app.get("/api/users/<user_id>", summary="One user (admin)", tags=TAGS,
          responses=documented(200, UserOut))
def get_user(user_id: str) -> dict:
    require_admin(app)
    return users.get(user_id, UnitOfWork())


@app.patch("/api/users/<user_id>", summary="Change a user's role or active flag (admin)",
           tags=TAGS,
          responses=documented(200, UserOut))
def patch_user(user_id: str, body: AdminUserPatch) -> dict:
    return users.admin_update(user_id, body, UnitOfWork(), require_admin(app))


lambda_handler = http_handler(app)
