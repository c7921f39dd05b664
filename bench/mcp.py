"""An MCP tool call's warm latency beside the same HTTP route's, against the local stack.

Both read one page of the same table through the same service function (and the same read
cache, warm for both): `list_records` over the MCP endpoint with the official SDK's client (one
JSON-RPC POST per call once connected) against `GET .../records` with `requests`. Calls
alternate, so load on the machine hits both alike.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

from bench.report import Row, median
from bench.stacklock import stack_lock

CALLS = 30
WARM_UP = 3
FIELDS = [{"name": "Name", "type": "singleLineText"},
          {"name": "Score", "type": "number", "options": {"precision": 0}}]


def measure() -> list[Row]:
    """Every row of this part."""
    with stack_lock():
        return _measure()


def _measure() -> list[Row]:
    import anyio
    import httpx2
    import requests
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    from local.airtable_emulator.records import create_records
    from local.runtime.stack import LocalStack, Options

    url = os.environ.get("DATABASE_URL") or \
        f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-mcp-')) / 'bench.db'}"
    stack = LocalStack(Options(port=0, database_url=url, quiet=True, extra_env={
        "REGISTRATION": "open", "DEFAULT_CONNECTION": "every_workspace"})).start()
    try:
        emulator = stack.airtable
        base_id = emulator.create_base(f"Bench {uuid.uuid4().hex[:6]}",
                                       [{"name": "People", "fields": FIELDS}])
        with emulator.store.lock:
            create_records(emulator.store.table(base_id, "People"), {"records": [
                {"fields": {"Name": f"Person {i}", "Score": i}} for i in range(10)]})
        http = requests.Session()
        token = http.post(f"{stack.url}/api/auth/register", timeout=30, json={
            "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
            "password": "Bench-Passphrase-2026"}).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        route = f"{stack.url}/api/airtable/bases/{base_id}/tables/People/records"
        arguments = {"base_id": base_id, "table": "People"}

        async def run() -> tuple[list[float], list[float]]:
            tool_ms: list[float] = []
            http_ms: list[float] = []
            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"},
                                          timeout=60) as client_http, \
                    Client(streamable_http_client(f"{stack.url}/api/mcp",
                                                  http_client=client_http)) as client:
                for n in range(WARM_UP + CALLS):
                    begun = time.perf_counter()
                    result = await client.call_tool("list_records", arguments)
                    tool = (time.perf_counter() - begun) * 1000
                    assert not result.is_error, result.content
                    begun = time.perf_counter()
                    page = http.get(route, timeout=30)
                    plain = (time.perf_counter() - begun) * 1000
                    assert page.status_code == 200, page.text
                    if n >= WARM_UP:
                        tool_ms.append(tool)
                        http_ms.append(plain)
            return tool_ms, http_ms

        tool_ms, http_ms = anyio.run(run)
    finally:
        stack.stop()
    tool, plain = median(tool_ms), median(http_ms)
    return [Row("MCP list_records, warm (median of 30)", f"{tool} ms",
                reference=f"GET .../records {plain} ms", ratio=round(tool / plain, 2),
                note="same service function and read cache; the MCP call adds JSON-RPC and "
                     "the SDK's per-request server")]
