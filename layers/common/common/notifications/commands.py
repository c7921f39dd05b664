"""Commands of the notifications API: a route's path and query values as one object."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class ListInbox:
    """GET /api/notifications: only unread ones or all, and the page to read."""

    unread: bool = False
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, kw_only=True)
class ListWebhooks:
    """GET /api/notifications/webhooks: one workspace or all of the caller's."""

    workspace_id: str | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, kw_only=True)
class ListDeliveries:
    """GET /api/notifications/webhooks/{webhook_id}/deliveries."""

    webhook_id: str
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, kw_only=True)
class RetryDelivery:
    """POST /api/notifications/webhooks/{webhook_id}/deliveries/{delivery_id}/retry."""

    webhook_id: str
    delivery_id: str
