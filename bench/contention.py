"""Writes under contention: N people each POST 250 records into one base at the same moment
(N = 4 and 6), over HTTP on the local stack with the emulator enforcing 5 requests/s per base.

Each write books its 25 requests and 25 more for its undo in the base's queue; those whose last
slot is answered before the 29 s deadline are admitted and sent one after the other, the others
refused at once. Figures per N: the writes that succeed, how long a refusal took, the records
written per second of the burst against Airtable's 50 (5 requests/s x 10 records), and the
requests spent on undo (DELETEs the emulator saw; the goal is none).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench.report import Row
from bench.stacklock import stack_lock

RECORDS = 250
AIRTABLE_MAX_RECORDS_PER_S = 50.0
TABLE = [{"name": "Rows", "fields": [{"name": "Name", "type": "singleLineText"}]}]


def measure() -> list[Row]:
    """The rows for 4 and then 6 concurrent writers, on one stack."""
    from local.runtime.stack import LocalStack, Options

    url = os.environ.get("DATABASE_URL") or \
        f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-contention-')) / 'bench.db'}"
    with stack_lock():
        stack = LocalStack(Options(port=0, database_url=url, quiet=True, airtable_rate_limit=5,
                                   extra_env={"REGISTRATION": "open",
                                              "DEFAULT_CONNECTION": "every_workspace"})).start()
        try:
            _warm(stack, 6)
            return [row for writers in (4, 6) for row in _rows(stack, writers)]
        finally:
            stack.stop()


def _rows(stack: Any, writers: int) -> list[Row]:
    base_id = stack.airtable.create_base(f"Contention {uuid.uuid4().hex[:6]}", TABLE)
    members = [_member(stack) for _ in range(writers)]
    began = time.monotonic()
    outcomes = _at_once(writers, lambda n: _write(stack, base_id, members[n], n))
    served = [o for o in outcomes if o[0] == 201]
    refused = [o for o in outcomes if o[0] != 201]
    burst = max(seconds for _, seconds in served) if served else time.monotonic() - began
    per_s = len(served) * RECORDS / burst
    log = stack.airtable.requests_for(base_id)
    undo = sum(1 for _, method, *_ in log if method == "DELETE")
    too_many = sum(1 for *_, status in log if status == 429)
    name = f"contention: {writers} writers x {RECORDS} records into one base"
    goal = writers if writers * RECORDS / AIRTABLE_MAX_RECORDS_PER_S <= 20 else 4
    rows = [
        Row(f"{name}: writes that succeed", f"{len(served)} of {writers}", "",
            None, f">= {goal}", len(served) >= goal,
            f"served in {sorted(round(s, 1) for _, s in served)} s; {too_many} x 429"),
        Row(f"{name}: records/s", f"{per_s:.1f} records/s",
            f"{AIRTABLE_MAX_RECORDS_PER_S:.0f} records/s",
            round(per_s / AIRTABLE_MAX_RECORDS_PER_S, 3), ">= 0.9",
            per_s / AIRTABLE_MAX_RECORDS_PER_S >= 0.9,
            f"{len(served) * RECORDS} records in {burst:.1f} s (the last success)"),
        Row(f"{name}: requests spent on undo", str(undo), "", None, "0", undo == 0),
    ]
    if refused:
        seconds = [s for _, s in refused]
        rows.append(Row(f"{name}: refusal latency", f"{max(seconds):.2f} s (max)", "", None,
                        "< 3 s, with Retry-After", max(seconds) < 3.0,
                        f"median {statistics.median(seconds):.2f} s over {len(refused)} "
                        "refusals"))
    return rows


def _write(stack: Any, base_id: str, headers: dict[str, str], n: int,
           records: int = RECORDS) -> tuple[int, float]:
    import requests

    rows = [{"fields": {"Name": f"writer {n} row {i:03}"}} for i in range(records)]
    began = time.monotonic()
    answer = requests.post(f"{stack.url}/api/airtable/bases/{base_id}/tables/Rows/records",
                           json={"records": rows}, headers=headers, timeout=60)
    return answer.status_code, time.monotonic() - began


def _member(stack: Any) -> dict[str, str]:
    import requests

    token = requests.post(f"{stack.url}/api/auth/register", timeout=30, json={
        "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
        "password": "Bench-Passphrase-2026"}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _warm(stack: Any, workers: int) -> None:
    """As many warm workers of the Airtable function as writers, as Lambda runs them at once
    (the local pool keeps four by default): started as a pool grows, under slow writes."""
    pool = next(p for p in stack.pools.values() if p.spec.logical_id == "AirtableFunction")
    pool.max_workers = workers + 1
    scratch = stack.airtable.create_base(f"Warm {uuid.uuid4().hex[:6]}", TABLE)
    slow = stack.airtable.faults.inject("slow", base_id=scratch, delay=1.0, writes_only=True)
    member = _member(stack)
    try:
        for _ in range(12):
            if len(pool._all) >= workers:
                break
            _at_once(workers, lambda n: _write(stack, scratch, member, n, records=1))
    finally:
        stack.airtable.faults.remove(slow)


def _at_once(count: int, work: Any) -> list[Any]:
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(n: int) -> None:
        start.wait()
        results[n] = work(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results
