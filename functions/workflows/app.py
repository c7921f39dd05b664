"""Workflows service: definitions, triggers and executions."""

from common import health
from common.http import create_app
from common.lambda_handlers import http_handler

app = create_app("workflows")
app.include_router(health.health_router(
    "workflows", {"database": health.database, "event_bus": health.event_bus}))

lambda_handler = http_handler(app)
