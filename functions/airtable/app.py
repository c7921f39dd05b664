"""Airtable service: connections, bases, schema and records (through the shared limiter)."""

from airtable_routes import bases, connections, records

from common.airtable import defaults
from common.core import health
from common.core.http import create_app
from common.core.lambda_handlers import http_handler

app = create_app("airtable")
app.include_router(health.health_router(
    "airtable", {"database": health.database, "airtable": defaults.reachable}))
app.include_router(connections.router)
app.include_router(bases.router)
app.include_router(records.router)

lambda_handler = http_handler(app)
