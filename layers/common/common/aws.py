"""boto3 clients, one per service and execution environment, honouring `AWS_ENDPOINT_URL`."""

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3,
                 read_timeout=25)


@cache
def client(service: str) -> Any:
    """A cached client; boto3 itself reads AWS_ENDPOINT_URL, so local stacks need no code path."""
    return boto3.session.Session().client(service, config=_CONFIG)
