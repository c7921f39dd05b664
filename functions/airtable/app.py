"""Airtable service: connections, bases, schema and records."""

from common import health
from common.airtable import defaults
from common.http import create_app
from common.lambda_handlers import http_handler

app = create_app("airtable")
app.include_router(health.health_router(
    "airtable", {"database": health.database, "airtable": defaults.reachable}))

lambda_handler = http_handler(app)
