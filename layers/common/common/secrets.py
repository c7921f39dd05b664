"""Secrets Manager values, fetched through Powertools parameters (cached per environment)."""

import json
from typing import Any

from aws_lambda_powertools.utilities import parameters

from common.aws import client

_MAX_AGE = 300


def secret_text(arn: str) -> str:
    """The secret's string value, cached for five minutes."""
    provider = _provider()
    return str(provider.get(arn, max_age=_MAX_AGE))


def secret_json(arn: str) -> dict[str, Any]:
    """The secret's value parsed as a JSON object."""
    return json.loads(secret_text(arn))


_providers: list[parameters.SecretsProvider] = []


def _provider() -> parameters.SecretsProvider:
    if not _providers:
        _providers.append(parameters.SecretsProvider(boto3_client=client("secretsmanager")))
    return _providers[0]
