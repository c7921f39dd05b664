"""boto3 clients, one per service and execution environment, honouring `AWS_ENDPOINT_URL`.

boto3 is imported when the first client is made, not with this module: most requests make no
AWS call, and importing boto3 is about 110 ms of a cold start (`make bench ONLY=cold`).
"""

import threading
from functools import cache
from typing import TYPE_CHECKING, Any

from common.core.observability import trace_library

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config

# A session is not thread-safe (the aggregate health asks for clients from a thread pool).
_making = threading.Lock()


@cache
def _configs() -> tuple["Config", "Config"]:
    """The clients' config, and S3's."""
    from botocore.config import Config

    config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3,
                    read_timeout=25)
    # The browser fetches S3's presigned URLs: SigV4 (botocore presigns SigV2 by default,
    # which newer regions refuse) at the bucket's regional virtual-host name, the origin the
    # web UI's CSP names in connect-src (the default would be the global s3.amazonaws.com).
    return config, config.merge(Config(signature_version="s3v4", s3={
        "addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"}))


@cache
def _session() -> "boto3.session.Session":
    # One session for every client: its loader reads botocore's endpoint and partition data
    # once (five clients, each from a session of its own: 542 ms; from one session: 194 ms).
    import boto3


    trace_library("botocore")
    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    """A cached client; boto3 itself reads AWS_ENDPOINT_URL, so local stacks need no code path."""
    with _making:
        config, s3_config = _configs()
        return _session().client(service, config=s3_config if service == "s3" else config)
