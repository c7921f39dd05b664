"""`Idempotency-Key` support: the same key and body within an hour return the first result."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from common.errors import Conflict, ValidationFailed

EXPIRES_AFTER_SECONDS = 3600


@lru_cache(maxsize=1)
def _persistence() -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from common.aws import client
    from common.settings import get_settings

    # Records share the cache table (key `pk`, TTL attribute `expires_at`).
    return DynamoDBPersistenceLayer(table_name=get_settings().cache_table_name, key_attr="pk",
                                    expiry_attr="expires_at", boto3_client=client("dynamodb"))


def run_once(operation: str, caller: str, key: str | None, request: Any,
             work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`work()`, or the result it gave for this caller's `key` and the same `request`."""
    if key is None:
        return work()
    if not 1 <= len(key) <= 255:
        raise ValidationFailed("Idempotency-Key must be 1 to 255 characters.", details=[
            {"field": "Idempotency-Key", "problem": "invalid length"}])
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config = IdempotencyConfig(event_key_jmespath="key", payload_validation_jmespath="request",
                               expires_after_seconds=EXPIRES_AFTER_SECONDS)

    @idempotent_function(data_keyword_argument="payload", persistence_store=_persistence(),
                         config=config, key_prefix=operation)
    def once(payload: dict[str, Any]) -> dict[str, Any]:
        return work()

    try:
        return once(payload={"key": f"{caller}:{key}", "request": request})
    except IdempotencyValidationError as e:
        raise Conflict("This Idempotency-Key was already used with a different request.") from e
    except IdempotencyAlreadyInProgressError as e:
        raise Conflict("A request with this Idempotency-Key is still in progress.") from e
