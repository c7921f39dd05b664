"""The caller as the HTTP API's Lambda authorizer described it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from common.core.errors import Forbidden, ServiceUnavailable, Unauthorized


@dataclass(frozen=True)
class Identity:
    """Who is calling, and through which credential."""

    user_id: str
    role: str
    session_id: str | None = None
    api_key_id: str | None = None

    @property
    def is_admin(self) -> bool:
        """Whether the caller holds the admin role."""
        return self.role == "admin"


def current_identity(app: APIGatewayHttpResolver) -> Identity:
    """The authorizer's context; a route reached without one is refused (defence in depth)."""
    return event_identity(app.current_event.raw_event)


def event_identity(event: dict[str, Any]) -> Identity:
    """The caller an HTTP API event's authorizer context names (for handlers without a resolver)."""
    authorizer = event.get("requestContext", {}).get("authorizer") or {}
    ctx = authorizer.get("lambda") or {}
    if ctx.get("degraded"):
        raise ServiceUnavailable("The service cannot check credentials right now (its database "
                                 "is unavailable); retry shortly.", retry_after=5)
    if not ctx.get("user_id"):
        raise Unauthorized("Authentication required.")
    return Identity(user_id=ctx["user_id"], role=ctx.get("role", "member"),
                    session_id=ctx.get("session_id") or None,
                    api_key_id=ctx.get("api_key_id") or None)


def require_admin(app: APIGatewayHttpResolver) -> Identity:
    """The caller, who must be an admin."""
    identity = current_identity(app)
    if not identity.is_admin:
        raise Forbidden("This route is for administrators.")
    return identity
