"""Notifications service: in-app inbox, preferences and webhooks."""

from common import health
from common.http import create_app
from common.lambda_handlers import http_handler

app = create_app("notifications")
app.include_router(health.health_router("notifications", {
    "database": health.database, "queue": health.notifications_queue,
    "event_bus": health.event_bus}))

lambda_handler = http_handler(app)
