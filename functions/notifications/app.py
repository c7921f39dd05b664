"""Notifications service: in-app inbox, preferences and webhooks."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from common.core import health
from common.core.dependencies import Caller, ReadUow, Uow
from common.core.http import create_app
from common.core.lambda_handlers import http_handler
from common.core.schemas import Page, documented
from common.notifications import inbox, preferences, webhooks
from common.notifications.commands import ListDeliveries, ListInbox, ListWebhooks, RetryDelivery
from common.notifications.schemas import (
    DeliveryOut,
    MarkedOut,
    NotificationOut,
    PreferencesOut,
    WebhookCreatedOut,
    WebhookOut,
)

app = create_app("notifications")
app.include_router(health.health_router("notifications", {
    "database": health.database, "event_bus": health.event_bus}))
TAGS = ["notifications"]
WEBHOOK = "/api/notifications/webhooks/<webhook_id>"
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=1000)]


@app.get("/api/notifications", summary="The caller's inbox", tags=TAGS)
def list_inbox(caller: Caller, uow: ReadUow, unread: Annotated[bool, Query()] = False,
               limit: Limit = 50, cursor: Cursor = None) -> Page[NotificationOut]:
    return inbox.list_for(ListInbox(unread=unread, limit=limit, cursor=cursor), uow, caller)


@app.post("/api/notifications/read-all", summary="Mark every notification read", tags=TAGS)
def read_all(caller: Caller, uow: Uow) -> MarkedOut:
    return inbox.mark_all_read(uow, caller)


@app.post("/api/notifications/<notification_id>/read", summary="Mark a notification read",
          tags=TAGS)
def read_one(notification_id: str, caller: Caller, uow: Uow) -> NotificationOut:
    return inbox.mark_read(notification_id, uow, caller)


@app.get("/api/notifications/preferences", summary="Channels per event type", tags=TAGS)
def get_preferences(caller: Caller, uow: ReadUow) -> PreferencesOut:
    return preferences.get(uow, caller)


@app.put("/api/notifications/preferences", summary="Replace the channels per event type",
         tags=TAGS)
def put_preferences(body: preferences.Preferences, caller: Caller, uow: Uow) -> PreferencesOut:
    return preferences.put(body, uow, caller)


@app.post("/api/notifications/webhooks", summary="Create a webhook (its secret is shown once)",
          tags=TAGS, status_code=201, responses=documented(201, description="Created"))
def create_webhook(body: webhooks.WebhookIn, caller: Caller, uow: Uow) -> WebhookCreatedOut:
    return webhooks.create(body, uow, caller)


@app.get("/api/notifications/webhooks", summary="Webhooks of the caller's workspaces",
         tags=TAGS)
def list_webhooks(caller: Caller, uow: ReadUow,
                  workspace_id: Annotated[str | None, Query(max_length=32)] = None,
                  limit: Limit = 50, cursor: Cursor = None) -> Page[WebhookOut]:
    cmd = ListWebhooks(workspace_id=workspace_id, limit=limit, cursor=cursor)
    return webhooks.list_webhooks(cmd, uow, caller)


@app.delete(WEBHOOK, summary="Delete a webhook", tags=TAGS, status_code=204,
            responses=documented(204, description="Deleted"))
def delete_webhook(webhook_id: str, caller: Caller, uow: Uow) -> None:
    webhooks.delete(webhook_id, uow, caller)


@app.get(WEBHOOK + "/deliveries", summary="The webhook's delivery log", tags=TAGS)
def list_deliveries(webhook_id: str, caller: Caller, uow: ReadUow, limit: Limit = 50,
                    cursor: Cursor = None) -> Page[DeliveryOut]:
    cmd = ListDeliveries(webhook_id=webhook_id, limit=limit, cursor=cursor)
    return webhooks.deliveries(cmd, uow, caller)


@app.post(WEBHOOK + "/deliveries/<delivery_id>/retry",
          summary="Send a failed or dead-lettered delivery again", tags=TAGS, status_code=202,
          responses=documented(202, description="Queued"))
def retry_delivery(webhook_id: str, delivery_id: str, caller: Caller, uow: Uow) -> DeliveryOut:
    return webhooks.retry(RetryDelivery(webhook_id=webhook_id, delivery_id=delivery_id), uow,
                          caller)


lambda_handler = http_handler(app)
