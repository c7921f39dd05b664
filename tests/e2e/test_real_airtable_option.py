"""With AIRTABLE_TOKEN set, the local stack talks to that Airtable instead of its emulator."""

from __future__ import annotations

from local.airtable_emulator import AirtableEmulator
from local.runtime.stack import LocalStack, Options
from tests.helpers import load_event


def test_a_configured_token_replaces_the_emulator(database_url):
    # A second emulator stands in for api.airtable.com: tests never call the real service.
    real = AirtableEmulator(tokens={"patREALTOKEN00000.abcd": "usrREAL0000000001"}).start()
    stack = LocalStack(Options(port=None, database_url=database_url, prewarm=False, quiet=True,
                               airtable_token="patREALTOKEN00000.abcd",
                               airtable_endpoint=real.url))
    try:
        stack.start()
        assert stack.airtable is None
        assert "(real, token ...abcd)" in stack.banner()
        result = stack.invoke("AirtableFunction", load_event("airtable/health.json"))
        assert result.payload["statusCode"] == 200, result.payload
        assert [(method, path) for _, method, path, *_ in real.requests] == [
            ("GET", "/v0/meta/whoami")]
    finally:
        stack.stop()
        real.stop()
