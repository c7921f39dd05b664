"""Files service: uploads, downloads, imports and exports."""

from common import health
from common.http import create_app
from common.lambda_handlers import http_handler

app = create_app("files")
app.include_router(health.health_router(
    "files", {"database": health.database, "storage": health.uploads_bucket}))

lambda_handler = http_handler(app)
