"""An MCP client given nothing but the URL, as Claude or ChatGPT connect: the official SDK's
OAuth client discovers the server from the 401, registers, sends the person to the consent page
(in Chromium, signed in), exchanges the code with PKCE, calls a tool, refreshes its token, and
after revocation is refused."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

import httpx2
import pytest
import requests
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from local import chromium
from tests.browser.watch import DESKTOP

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-Horse-Battery-9"
CALLBACK = "http://127.0.0.1:33419/callback"


class _Memory:
    """The client's token storage: what it registered and what it was granted."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def _flow(url: str, email: str) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    seen: dict[str, Any] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium.CHROMIUM),
                                                   args=chromium.ARGS)
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        page.set_default_timeout(60_000)
        await page.goto(f"{url}/login")
        await page.get_by_label("Email or username").fill(email)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("heading", name="Dashboard").wait_for()

        returned: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def arrive(route: Any) -> None:
            # The client's loopback listener: the browser lands here with the code.
            if not returned.done():
                returned.set_result(route.request.url)
            await route.fulfill(status=200, content_type="text/html",
                                body="<p>You can close this window.</p>")

        await page.route(f"{CALLBACK}*", arrive)

        async def open_consent(authorization_url: str) -> None:
            await page.goto(authorization_url)
            heading = page.get_by_role("heading", name="Connect Test Agent?")
            await heading.wait_for()
            seen["consent"] = await page.locator("main").inner_text()
            await page.get_by_role("button", name="Allow").click()

        async def code_returned() -> AuthorizationCodeResult:
            from urllib.parse import parse_qs, urlsplit

            query = parse_qs(urlsplit(await asyncio.wait_for(returned, 60)).query)
            return AuthorizationCodeResult(code=query["code"][0], state=query["state"][0])

        storage = _Memory()
        provider = OAuthClientProvider(
            f"{url}/api/mcp",
            OAuthClientMetadata(client_name="Test Agent", redirect_uris=[CALLBACK],
                                grant_types=["authorization_code", "refresh_token"],
                                response_types=["code"], token_endpoint_auth_method="none"),
            storage, redirect_handler=open_consent, callback_handler=code_returned)
        async with httpx2.AsyncClient(auth=provider, timeout=90) as http, \
                Client(streamable_http_client(f"{url}/api/mcp", http_client=http)) as client:
            seen["tools"] = {t.name for t in (await client.list_tools()).tools}
            listed = await client.call_tool("list_workspaces", {})
            seen["workspaces"] = listed.structured_content
            seen["first_tokens"] = storage.tokens
            # The access token runs out: the client refreshes it before its next call.
            provider.context.token_expiry_time = time.time() - 1
            again = await client.call_tool("list_workspaces", {})
            seen["after_refresh"] = (again.is_error, storage.tokens)
        await browser.close()
    seen["client_id"] = storage.client.client_id if storage.client else None
    return seen


def _run(url: str, email: str) -> dict[str, Any]:
    """The async flow on a thread of its own (the sync Playwright of the other tests owns this
    thread's event loop)."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["seen"] = asyncio.run(_flow(url, email))
        except BaseException as e:  # re-raised in the test's thread
            result["error"] = e

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=170)
    if "error" in result:
        raise result["error"]
    assert "seen" in result, "the OAuth flow did not finish"
    return result["seen"]


def test_a_client_with_only_the_url_is_approved_calls_tools_refreshes_and_is_revoked(stack):
    email = f"agent-owner-{uuid.uuid4().hex[:10]}@example.com"
    registered = requests.post(f"{stack.url}/api/auth/register", timeout=60,
                               json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    seen = _run(stack.url, email)

    assert "Test Agent asks to use PyAirtable as you" in seen["consent"]
    assert email in seen["consent"]
    assert {"list_records", "run_transaction", "undo_transaction"} <= seen["tools"]
    assert seen["workspaces"]["workspaces"], seen["workspaces"]
    first = seen["first_tokens"]
    failed, refreshed = seen["after_refresh"]
    assert not failed
    assert refreshed.refresh_token != first.refresh_token  # rotated

    # The person sees the agent among their sessions and can end it there; here the client
    # revokes its own grant (RFC 7009), and the endpoint refuses its token.
    user = {"Authorization": f"Bearer {registered.json()['access_token']}"}
    sessions = requests.get(f"{stack.url}/api/auth/sessions", headers=user, timeout=60).json()
    assert "Test Agent" in [s["client_name"] for s in sessions["items"]]
    revoked = requests.post(f"{stack.url}/api/oauth/revoke", timeout=60,
                            data={"token": refreshed.refresh_token})
    assert revoked.status_code == 200
    refused = requests.post(f"{stack.url}/api/mcp", timeout=60, json={
        "jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers={
        "Authorization": f"Bearer {refreshed.access_token}",
        "Accept": "application/json, text/event-stream"})
    assert refused.status_code == 401
    assert "resource_metadata=" in refused.headers["WWW-Authenticate"]
