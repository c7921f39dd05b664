"""Auth service: accounts, sessions, tokens and API keys."""

from common import health
from common.http import create_app
from common.lambda_handlers import http_handler

app = create_app("auth")
app.include_router(health.health_router("auth", {"database": health.database}))

lambda_handler = http_handler(app)
