"""boto3 clients, one per service and execution environment, honouring `AWS_ENDPOINT_URL`."""

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3,
                 read_timeout=25)
# The browser fetches S3's presigned URLs: SigV4 (botocore presigns SigV2 by default, which
# newer regions refuse) at the bucket's regional virtual-host name, the origin the web UI's CSP
# names in connect-src (the default would be the global s3.amazonaws.com in any region).
_S3_CONFIG = _CONFIG.merge(Config(signature_version="s3v4", s3={
    "addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"}))
# A session is not thread-safe (the aggregate health asks for clients from a thread pool).
_making = threading.Lock()


@cache
def _session() -> boto3.session.Session:
    # One session for every client: its loader reads botocore's endpoint and partition data
    # once (five clients, each from a session of its own: 542 ms; from one session: 194 ms).
    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    """A cached client; boto3 itself reads AWS_ENDPOINT_URL, so local stacks need no code path."""
    with _making:
        return _session().client(service, config=_S3_CONFIG if service == "s3" else _CONFIG)
