"""`Idempotency-Key` support: the same key and body within an hour return the first result.

Set up as Powertools documents it: one persistence layer and one config per execution
environment, and each invocation's Lambda context registered with the config (by
`common.core.lambda_handlers`), so a request that times out holds its key only until its own
deadline instead of for the whole hour. Powertools' idempotency package imports boto3 (its
DynamoDB layer), so it is imported by the first request that sends a key, not with this module.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from common.core.aws import client
from common.core.errors import Conflict, UpstreamError, ValidationFailed
from common.core.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.config import IdempotencyConfig

EXPIRES_AFTER_SECONDS = 3600
# This invocation's Lambda context, handed to the config when a key is used.
_invocation: list[Any] = [None]


def register_lambda_context(context: Any) -> None:
    """Remember this invocation's deadline (an in-progress key expires with it)."""
    _invocation[0] = context


@cache
def config() -> IdempotencyConfig:
    """The one config of this environment."""
    from aws_lambda_powertools.utilities.idempotency.config import IdempotencyConfig

    return IdempotencyConfig(event_key_jmespath="key", payload_validation_jmespath="request",
                             expires_after_seconds=EXPIRES_AFTER_SECONDS)


@lru_cache(maxsize=1)
def _persistence() -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer


    # Records share the cache table (key `pk`, TTL attribute `expires_at`).
    return DynamoDBPersistenceLayer(table_name=get_settings().cache_table_name, key_attr="pk",
                                    expiry_attr="expires_at", boto3_client=client("dynamodb"))


@lru_cache(maxsize=1)
def _once() -> Callable[..., dict[str, Any]]:
    from aws_lambda_powertools.utilities.idempotency import idempotent_function

    @idempotent_function(data_keyword_argument="payload", persistence_store=_persistence(),
                         config=config())
    def once(payload: dict[str, Any], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return work()

    return once


def run_once(operation: str, caller: str, key: str | None, request: Any,
             work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`work()`, or the result it gave for this caller's `key` and the same `request`."""
    if key is None:
        return work()
    if not 1 <= len(key) <= 255:
        raise ValidationFailed("Idempotency-Key must be 1 to 255 characters.", details=[
            {"field": "Idempotency-Key", "problem": "invalid length"}])
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyInconsistentStateError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    if _invocation[0] is not None:
        config().register_lambda_context(_invocation[0])
    try:
        return _once()(payload={"key": f"{operation}:{caller}:{key}", "request": request},
                       work=work)
    except IdempotencyValidationError as e:
        raise Conflict("This Idempotency-Key was already used with a different request.") from e
    except IdempotencyAlreadyInProgressError as e:
        raise Conflict("A request with this Idempotency-Key is still in progress.") from e
    except (IdempotencyPersistenceLayerError, IdempotencyInconsistentStateError) as e:
        # DynamoDB failed before the work (nothing done) or after it (its result unrecorded).
        raise UpstreamError("The idempotency store failed; this request's outcome was not "
                            "recorded.") from e
