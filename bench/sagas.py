"""Saga latency and state transitions: airtable_transaction over HTTP against the local stack.

Latency is from POST /api/sagas to the first GET that shows the final status (polled every
20 ms), so it includes the router, the task Lambdas in their workers, moto's interpreter and
the Airtable emulator at Airtable's own 5 requests/s per base. Transitions are the states each
execution entered, from moto's execution history (what Standard workflows are billed by).
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.report import Row, median
from bench.stacklock import stack_lock

RUNS = 5
CONTACTS = [{"name": "Name", "type": "singleLineText"},
            {"name": "Score", "type": "number", "options": {"precision": 0}}]
DEALS = [{"name": "Deal", "type": "singleLineText"},
         {"name": "Amount", "type": "currency", "options": {"precision": 2, "symbol": "$"}}]


def measure() -> list[Row]:
    """Every row of this part."""
    with stack_lock():
        return _measure()


def _operations(base_rows: dict[str, list[str]], k: int, fail_last: bool) -> list[dict]:
    """k operations alternating create Contacts / update Deals; the last one fails if asked."""
    ops: list[dict[str, Any]] = []
    for n in range(k):
        if n % 2 == 0:
            ops.append({"action": "create", "table": "Contacts",
                        "records": [{"fields": {"Name": f"Bench {n}", "Score": n}}]})
        else:
            ops.append({"action": "update", "table": "Deals", "records": [
                {"id": base_rows["Deals"][0], "fields": {"Amount": float(n)}}]})
    if fail_last:
        ops[-1] = {"action": "create", "table": "Deals", "records": [{"fields": {"Nope": 1}}]}
    return ops


def _measure() -> list[Row]:
    import requests

    from local.airtable_emulator.records import create_records
    from local.runtime.stack import LocalStack, Options

    url = os.environ.get("DATABASE_URL") or \
        f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-sagas-')) / 'bench.db'}"
    stack = LocalStack(Options(port=0, database_url=url, quiet=True, extra_env={
        "REGISTRATION": "open", "DEFAULT_CONNECTION": "every_workspace"})).start()
    try:
        emulator = stack.airtable
        bases = []
        for _ in range(4):  # made before the user, so their connection lists them at once
            base_id = emulator.create_base(f"Bench {uuid.uuid4().hex[:6]}", [
                {"name": "Contacts", "fields": CONTACTS}, {"name": "Deals", "fields": DEALS}])
            with emulator.store.lock:
                create_records(emulator.store.table(base_id, "Deals"),
                               {"records": [{"fields": {"Deal": "Engines", "Amount": 1}}]})
                deals = list(emulator.store.table(base_id, "Deals").records)
            bases.append((base_id, {"Deals": deals}))
        http = requests.Session()
        token = http.post(f"{stack.url}/api/auth/register", timeout=30, json={
            "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
            "password": "Bench-Passphrase-2026"}).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"

        def run(base: int, operations: list[dict]) -> tuple[float, dict[str, Any]]:
            base_id = bases[base][0]
            begun = time.perf_counter()
            started = http.post(f"{stack.url}/api/sagas", timeout=30, json={
                "type": "airtable_transaction",
                "input": {"base_id": base_id, "operations": operations}})
            started.raise_for_status()
            saga_id = started.json()["saga_id"]
            while True:
                saga = http.get(f"{stack.url}/api/sagas/{saga_id}", timeout=30).json()
                if saga["status"] not in ("running", "compensating"):
                    return (time.perf_counter() - begun) * 1000, saga
                time.sleep(0.02)

        def transitions(saga_id: str) -> int:
            from sqlalchemy import create_engine, text

            engine = create_engine(url)
            with engine.connect() as conn:
                arns = conn.execute(text("SELECT execution_arn, compensation_arn FROM sagas "
                                         "WHERE id = :id"), {"id": saga_id}).one()
            engine.dispose()
            sfn = stack.client("stepfunctions")
            return sum(1 for arn in arns if arn for e in sfn.get_execution_history(
                executionArn=arn, maxResults=1000)["events"] if e["type"].endswith("StateEntered"))

        run(0, _operations(bases[0][1], 1, False))  # warm the workers once
        rows: list[Row] = []
        for label, k, fail, base in (("happy", 3, False, 1), ("compensated (last op fails)",
                                                              3, True, 2)):
            times, sagas = [], []
            for _ in range(RUNS):
                elapsed, saga = run(base, _operations(bases[base][1], k, fail))
                times.append(elapsed)
                sagas.append(saga)
            expected = "compensated" if fail else "succeeded"
            ok = all(s["status"] == expected for s in sagas)
            counted = transitions(sagas[-1]["id"])
            rows.append(Row(f"airtable_transaction {label}, k={k}: latency (median of {RUNS})",
                            f"{median(times):.0f} ms", f"min {min(times):.0f} ms", None, "",
                            None, f"all {expected}" if ok else "NOT all " + expected))
            rows.append(Row(f"airtable_transaction {label}, k={k}: state transitions",
                            str(counted), "", None, f"<= {3 * k + 4} (3k+4)",
                            counted <= 3 * k + 4))
        for label, ops, base in (
                ("happy, k=10", _operations(bases[3][1], 10, False), 3),
                ("compensated, k=10 (last op fails)", _operations(bases[3][1], 10, True), 3),
                ("25-record create, k=1", [{"action": "create", "table": "Contacts", "records": [
                    {"fields": {"Name": f"Bulk {n}"}} for n in range(25)]}], 3)):
            elapsed, saga = run(base, ops)
            k = len(ops)
            counted = transitions(saga["id"])
            rows.append(Row(f"airtable_transaction {label}: state transitions", str(counted),
                            f"{elapsed:.0f} ms, {saga['status']}", None, f"<= {3 * k + 4} (3k+4)",
                            counted <= 3 * k + 4))
        return rows
    finally:
        stack.stop()
