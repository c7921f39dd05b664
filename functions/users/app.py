"""Users service: profiles, preferences and admin user management."""

from common import health
from common.http import create_app
from common.lambda_handlers import http_handler

app = create_app("users")
app.include_router(health.health_router("users", {"database": health.database}))

lambda_handler = http_handler(app)
