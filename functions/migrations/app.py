"""Applies the database migrations on deploy (a CloudFormation custom resource)."""

from typing import Any

from common.core import custom_resource
from common.core.db import database_url
from common.core.migrate import current_revision, upgrade
from common.core.observability import logger


def _migrate(request_type: str) -> dict[str, Any]:
    if request_type == "Delete":
        return {}  # deleting the stack never drops the data
    url = database_url()
    upgrade(url)
    revision = current_revision(url)
    logger.info("database migrated", extra={"revision": revision})
    return {"Revision": revision or ""}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return custom_resource.handle(event, _migrate, context)
