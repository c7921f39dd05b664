"""Web UI figures on the local stack: bundle size, time to interactive of the records page
(median of 5), and the grid on a 10,000-record table (first page, paging, rows in the page).

    make bench ONLY=web        (or: .venv/bin/python bench/web_ui.py, printing the figures)

Time to interactive here: from navigation start until the first page of records is on screen
with its cells' handlers attached (React attaches them when it commits the grid), measured by
the page's own clock (`performance.now()`); each run is a fresh tab of a signed-in profile
whose HTTP cache holds the assets, as for a returning user (a first visit is reported too).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common")]

from bench.report import Row  # noqa: E402
from bench.stacklock import stack_lock  # noqa: E402
from local import chromium  # noqa: E402
from local.airtable_emulator.records import create_records  # noqa: E402
from local.runtime.stack import LocalStack, Options  # noqa: E402

PASSWORD = "Correct-Horse-Battery-9"
ROWS = 10_000
GRID_ROW = "table.data-grid tbody tr td.primary"  # the grid: rows with their cells


def measure() -> list[Row]:
    """The figures as `make bench` rows."""
    subprocess.run(["make", "--no-print-directory", "web"], cwd=ROOT, check=True,
                   capture_output=True)
    sizes = _bundle()
    with stack_lock():
        stack = LocalStack(Options(port=0, database_url=os.environ.get("DATABASE_URL"),
                                   quiet=True, auth_ip_limit_per_minute=100_000)).start()
        try:
            big_base = _big_base(stack)
            email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
            tokens = requests.post(f"{stack.url}/api/auth/register", timeout=60,
                                   json={"email": email, "password": PASSWORD}).json()
            headers = {"Authorization": f"Bearer {tokens['access_token']}"}
            demo = next(b for b in requests.get(f"{stack.url}/api/airtable/bases",
                                                headers=headers, timeout=60).json()["items"]
                        if b["name"] == "Demo CRM")
            contacts = _table_id(stack.url, headers, demo["id"], "Contacts")
            big = _table_id(stack.url, headers, big_base, "Big")
            figures = _browser(stack.url, email, f"/bases/{demo['id']}/tables/{contacts}",
                               f"/bases/{big_base}/tables/{big}")
        finally:
            stack.stop()
    total = sum(sizes.values()) / 1024
    return [
        Row("web UI bundle, gzip -9 (js + css + html)", f"{total:.1f} KiB",
            note=", ".join(f"{k} {v / 1024:.1f} KiB" for k, v in sizes.items())),
        Row("records page time to interactive, median of 5", f"{figures['tti']:.0f} ms",
            reference=f"first visit {figures['first']:.0f} ms",
            note="runs " + ", ".join(f"{r:.0f}" for r in figures["runs"])),
        Row("10,000-record table: first page interactive, median of 5",
            f"{figures['big_tti']:.0f} ms"),
        Row("10,000-record table: next page of 100, median of 5", f"{figures['next']:.0f} ms",
            note=f"rows in the page: {figures['rows']} (server-side paging)"),
    ]


def main() -> int:
    for row in measure():
        print(f"{row.figure}: {row.value}"
              f"{f' (reference: {row.reference})' if row.reference else ''}"
              f"{f' [{row.note}]' if row.note else ''}")
    return 0


def _bundle() -> dict[str, int]:
    import gzip

    dist = ROOT / "frontend" / "dist"
    sizes = {p.name: len(gzip.compress(p.read_bytes(), 9)) for p in dist.rglob("*")
             if p.suffix in {".js", ".css", ".html"}}
    return sizes


def _big_base(stack: LocalStack) -> str:
    base_id = stack.airtable.create_base("Bench 10k", [{"name": "Big", "fields": [
        {"name": "Name", "type": "singleLineText"}, {"name": "Amount", "type": "number",
                                                     "options": {"precision": 0}},
        {"name": "Note", "type": "multilineText"}]}])
    with stack.airtable.store.lock:
        table = stack.airtable.store.bases[base_id].tables[0]
        for start in range(0, ROWS, 10):
            create_records(table, {"records": [
                {"fields": {"Name": f"Row {i:05d}", "Amount": i, "Note": f"note {i}"}}
                for i in range(start, start + 10)]})
    return base_id


def _table_id(url: str, headers: dict[str, str], base_id: str, name: str) -> str:
    schema = requests.get(f"{url}/api/airtable/bases/{base_id}/schema", headers=headers,
                          timeout=60).json()
    return next(t["id"] for t in schema["tables"] if t["name"] == name)


def _tti(context, url: str) -> float:
    page = context.new_page()
    page.goto(url)
    page.locator(GRID_ROW).first.wait_for(timeout=60_000)
    value = page.evaluate("performance.now()")
    page.close()
    return float(value)


def _browser(base: str, email: str, records: str, big: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    if not chromium.ensure_installed():
        raise RuntimeError(chromium.MISSING)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium.CHROMIUM),
                                             args=chromium.ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(f"{base}/login")
        page.get_by_label("Email or username").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Dashboard").wait_for()
        page.close()
        first = _tti(context, base + records)  # warms the workers and the HTTP cache
        runs = [_tti(context, base + records) for _ in range(5)]

        big_runs = [_tti(context, base + big) for _ in range(5)]
        page = context.new_page()
        page.goto(base + big)
        page.locator(GRID_ROW).first.wait_for()
        page.get_by_label("Rows per page").select_option("100")
        page.get_by_text("Row 00099").wait_for()
        steps = []
        for n in range(1, 6):
            started = time.perf_counter()
            page.get_by_role("button", name="Next").click()
            page.get_by_text(f"Row {n * 100 + 99:05d}").wait_for()
            steps.append((time.perf_counter() - started) * 1000)
        rows = page.locator("table.data-grid tbody tr").count()
        browser.close()
    return {"first": first, "runs": runs, "tti": statistics.median(runs),
            "big_tti": statistics.median(big_runs), "next": statistics.median(steps),
            "rows": rows}


if __name__ == "__main__":
    sys.exit(main())
