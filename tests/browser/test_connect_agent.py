"""Settings -> Connect an AI agent: the MCP URL, a one-click key, and snippets a client takes as
they are; the key shown works against /api/mcp with the official SDK's client."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx2
import pytest
import requests
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-Horse-Battery-9"


async def _workspaces(url: str, key: str) -> list[dict]:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http, \
            Client(streamable_http_client(url, http_client=http)) as client:
        result = await client.call_tool("list_workspaces", {})
    assert not result.is_error, result.content
    return result.structured_content["workspaces"]


def test_a_user_gets_the_url_a_key_and_a_snippet_that_work(desktop, stack):
    page = desktop.page
    email = f"agent-{uuid.uuid4().hex[:10]}@example.com"
    registered = requests.post(f"{stack.url}/api/auth/register", timeout=60,
                               json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    desktop.go("/login")
    page.get_by_label("Email or username").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    desktop.go("/settings/ai-agent")
    expect(page.get_by_role("heading", name="Connect an AI agent")).to_be_visible()
    url = page.get_by_test_id("mcp-url").inner_text().strip()
    assert url == f"{stack.url}/api/mcp"
    page.get_by_role("button", name="Create an API key for an agent").click()
    key = page.get_by_test_id("agent-key").inner_text().strip()
    assert key.startswith("pyat_")
    config = json.loads(page.locator("pre").nth(1).inner_text())
    assert config["mcpServers"]["pyairtable"] == {
        "type": "http", "url": url, "headers": {"Authorization": f"Bearer {key}"}}
    assert f"--header \"Authorization: Bearer {key}\"" in page.locator("pre").first.inner_text()
    # Playwright's sync API runs an event loop in this thread: the client runs in another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        workspaces = pool.submit(anyio.run, _workspaces, url, key).result()
    assert [w["role"] for w in workspaces] == ["owner"]
    keys = requests.get(f"{stack.url}/api/auth/api-keys", timeout=60, headers={
        "Authorization": f"Bearer {registered.json()['access_token']}"}).json()
    assert [k["name"].startswith("AI agent ") for k in keys["items"]] == [True]  # revocable
    assert desktop.problems() == []
