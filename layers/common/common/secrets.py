"""Secrets Manager values, fetched through Powertools parameters (cached per environment)."""

import json
from typing import Any

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import (
    GetParameterError,
    TransformParameterError,
)

from common.aws import client
from common.errors import UpstreamError

_MAX_AGE = 300


def secret_text(arn: str) -> str:
    """The secret's string value, cached for five minutes; Secrets Manager failing is a 502."""
    try:
        return str(_provider().get(arn, max_age=_MAX_AGE))
    except (GetParameterError, TransformParameterError) as e:
        # The ARN and AWS's message stay in the log, never in the answer.
        raise UpstreamError("A secret this service needs could not be read.") from e


def secret_json(arn: str) -> dict[str, Any]:
    """The secret's value parsed as a JSON object."""
    try:
        return json.loads(secret_text(arn))
    except ValueError as e:
        raise UpstreamError("A secret this service needs is not valid JSON.") from e


_providers: list[parameters.SecretsProvider] = []


def _provider() -> parameters.SecretsProvider:
    if not _providers:
        _providers.append(parameters.SecretsProvider(boto3_client=client("secretsmanager")))
    return _providers[0]
