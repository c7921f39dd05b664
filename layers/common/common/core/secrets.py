"""Secrets Manager values, cached five minutes per environment: through the Parameters and
Secrets Lambda Extension where the function has it (no boto3 in the process), otherwise (a
script, a test in process) from Secrets Manager through Powertools parameters."""

import json
from typing import TYPE_CHECKING, Any

from common.core import secrets_extension
from common.core.aws import client
from common.core.errors import UpstreamError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

_MAX_AGE = 300


def secret_text(arn: str) -> str:
    """The secret's string value; Secrets Manager failing is a 502."""
    try:
        if secrets_extension.present():
            return secrets_extension.secret_text(arn)
        return _from_secrets_manager(arn)
    except secrets_extension.SecretUnavailable as e:
        # The ARN and AWS's message stay in the log, never in the answer.
        raise UpstreamError("A secret this service needs could not be read.") from e


def secret_json(arn: str) -> dict[str, Any]:
    """The secret's value parsed as a JSON object."""
    try:
        return json.loads(secret_text(arn))
    except ValueError as e:
        raise UpstreamError("A secret this service needs is not valid JSON.") from e


_providers: list["SecretsProvider"] = []


def _from_secrets_manager(arn: str) -> str:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from aws_lambda_powertools.utilities.parameters.exceptions import (
        GetParameterError,
        TransformParameterError,
    )


    if not _providers:
        _providers.append(SecretsProvider(boto3_client=client("secretsmanager")))
    try:
        return str(_providers[0].get(arn, max_age=_MAX_AGE))
    except (GetParameterError, TransformParameterError) as e:
        raise secrets_extension.SecretUnavailable(str(e)) from e
