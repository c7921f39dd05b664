"""Sagas service: start, inspect and cancel multi-step transactions."""

from common import health
from common.http import create_app
from common.lambda_handlers import http_handler

app = create_app("sagas")
app.include_router(health.health_router(
    "sagas", {"database": health.database, "state_machines": health.state_machines}))

lambda_handler = http_handler(app)
