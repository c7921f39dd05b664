"""The deployment-wide default Airtable connection, taken from configuration."""

from common.core.health import SharedCheck
from common.core.secrets import secret_json
from common.core.settings import get_settings


def default_token() -> str | None:
    """The token in AIRTABLE_TOKEN_SECRET_ARN's secret (`{"token": ...}`), if one is configured."""
    arn = get_settings().airtable_token_secret_arn
    if not arn:
        return None

    return str(secret_json(arn)["token"])


def _whoami() -> None:
    """Airtable answers `whoami` for the default token (or at all, when there is none)."""
    from pyairtable import Api

    token = default_token()
    if token is None:
        import requests

        requests.get(f"{get_settings().airtable_endpoint_url}/v0/meta/whoami", timeout=5)
        return
    Api(token, endpoint_url=get_settings().airtable_endpoint_url, timeout=(3, 10)).whoami()


# The public health route must not spend the deployment token's requests (anyone could push it
# into Airtable's 30 s lock-out): one `whoami` per minute at most, whatever the traffic.
reachable = SharedCheck("airtable", _whoami, max_age=60.0)
