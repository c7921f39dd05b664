"""Notifications service: in-app inbox, preferences and webhooks."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from common import health, inbox
from common.db import UnitOfWork
from common.http import JSON, create_app
from common.identity import current_identity
from common.lambda_handlers import http_handler
from common.notifications import preferences, webhooks
from common.schemas import Page, documented

app = create_app("notifications")
app.include_router(health.health_router("notifications", {
    "database": health.database, "event_bus": health.event_bus}))
TAGS = ["notifications"]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=1000)]


@app.get("/api/notifications", summary="The caller's inbox", tags=TAGS,
         responses=documented(200, Page))
def list_inbox(unread: Annotated[bool, Query()] = False, limit: Limit = 50,
               cursor: Cursor = None) -> dict:
    return inbox.list_for(UnitOfWork(), current_identity(app).user_id, unread=unread,
                          limit=limit, after=cursor)


@app.post("/api/notifications/read-all", summary="Mark every notification read", tags=TAGS)
def read_all() -> dict:
    return inbox.mark_all_read(UnitOfWork(), current_identity(app).user_id)


@app.post("/api/notifications/<notification_id>/read", summary="Mark a notification read",
          tags=TAGS)
def read_one(notification_id: str) -> dict:
    return inbox.mark_read(UnitOfWork(), current_identity(app).user_id, notification_id)


@app.get("/api/notifications/preferences", summary="Channels per event type", tags=TAGS,
         responses=documented(200, preferences.Preferences))
def get_preferences() -> dict:
    return preferences.get(UnitOfWork(), current_identity(app).user_id)


@app.put("/api/notifications/preferences", summary="Replace the channels per event type",
         tags=TAGS, responses=documented(200, preferences.Preferences))
def put_preferences(body: preferences.Preferences) -> dict:
    return preferences.put(UnitOfWork(), current_identity(app).user_id, body)


@app.post("/api/notifications/webhooks", summary="Create a webhook (its secret is shown once)",
          tags=TAGS, responses=documented(201, description="Created"))
def create_webhook(body: webhooks.WebhookIn):
    created = webhooks.create(UnitOfWork(), current_identity(app), body)
    return Response(status_code=201, content_type=JSON, body=created)


@app.get("/api/notifications/webhooks", summary="Webhooks of the caller's workspaces",
         tags=TAGS, responses=documented(200, Page))
def list_webhooks(workspace_id: Annotated[str | None, Query(max_length=32)] = None,
                  limit: Limit = 50, cursor: Cursor = None) -> dict:
    return webhooks.list_webhooks(UnitOfWork(), current_identity(app), workspace_id,
                                  limit=limit, after=cursor)


@app.delete("/api/notifications/webhooks/<webhook_id>", summary="Delete a webhook", tags=TAGS,
            responses=documented(204, description="Deleted"))
def delete_webhook(webhook_id: str):
    webhooks.delete(UnitOfWork(), current_identity(app), webhook_id)
    return Response(status_code=204, content_type=JSON, body="")


@app.get("/api/notifications/webhooks/<webhook_id>/deliveries",
         summary="The webhook's delivery log", tags=TAGS, responses=documented(200, Page))
def list_deliveries(webhook_id: str, limit: Limit = 50, cursor: Cursor = None) -> dict:
    return webhooks.deliveries(UnitOfWork(), current_identity(app), webhook_id, limit=limit,
                               after=cursor)


@app.post("/api/notifications/webhooks/<webhook_id>/deliveries/<delivery_id>/retry",
          summary="Send a failed or dead-lettered delivery again", tags=TAGS,
          responses=documented(202, description="Queued"))
def retry_delivery(webhook_id: str, delivery_id: str):
    queued = webhooks.retry(UnitOfWork(), current_identity(app), webhook_id, delivery_id)
    return Response(status_code=202, content_type=JSON, body=queued)


lambda_handler = http_handler(app)
