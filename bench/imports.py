"""File imports: throughput at Airtable's rate limit, four at once, and memory at 100,000 rows.

Throughput: a 5,000-row CSV imported over HTTP into the emulator enforcing 5 requests/s per
base. The reference is the most Airtable allows: 5 requests/s x 10 records = 50 records/s. The
headline figure is end to end (POST import -> status succeeded, polled every 0.2 s), so it
includes staging, the state machine's transitions and the chunk hand-overs; the write phase
(first to last write request the emulator saw) is in the note.

Parallel: four users each import a 5,000-row CSV into a base of their own, all four POSTed at
the same moment, at 5 requests/s per base. Bases are limited apart, so the reference is four
times one base's: 200 records/s, measured from the common start to the last import succeeded.

Memory: a 100,000-row CSV (presigned upload) imported with the rate limits lifted (emulator and
shared limiter), so the run takes minutes, not an hour. The figure is the peak resident set
(VmHWM) of the FileJobsFunction worker processes, the local stand-in for the task's Lambda
execution environments, after a 10,000-row import and again after the 100,000-row one: flat
memory means the second is no larger than the first plus noise.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.report import ROOT, Row, rows_from_json
from bench.stacklock import stack_lock

FIELDS = [{"name": "Name", "type": "singleLineText"},
          {"name": "Email", "type": "singleLineText"},
          {"name": "Score", "type": "number", "options": {"precision": 0}}]
AIRTABLE_MAX_RECORDS_PER_S = 50.0
PARALLEL = 4


def measure() -> list[Row]:
    """Every row of this part; each measurement in a process of its own (moto is global)."""
    rows: list[Row] = []
    with stack_lock():
        for name in ("throughput", "parallel", "memory"):
            done = subprocess.run([sys.executable, "-m", "bench.imports", name], cwd=ROOT,
                                  capture_output=True, text=True, env=os.environ.copy(),
                                  check=False)
            lines = done.stdout.strip().splitlines()
            if done.returncode != 0 or not lines or not lines[-1].startswith("["):
                tail = done.stderr.strip().splitlines()[-2:]
                rows.append(Row.skipped(f"imports: {name}", "it failed: " + " / ".join(tail)))
            else:
                rows += rows_from_json(lines[-1])
    return rows


def _csv(count: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Name", "Email", "Score"])
    for i in range(1, count + 1):
        writer.writerow([f"Person {i:06}", f"p{i}@example.com", i % 100])
    return out.getvalue().encode()


class _Client:
    def __init__(self, stack: Any) -> None:
        import requests

        self.url = stack.url
        self.http = requests.Session()
        token = self.http.post(f"{self.url}/api/auth/register", timeout=30, json={
            "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
            "password": "Bench-Passphrase-2026"}).json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def upload(self, data: bytes) -> str:
        import requests

        ticket = self.http.post(f"{self.url}/api/files/uploads", timeout=30, json={
            "filename": "bench.csv", "content_type": "text/csv", "size": len(data)})
        ticket.raise_for_status()
        body = ticket.json()
        requests.put(body["upload_url"], data=data, headers=body["headers"],
                     timeout=120).raise_for_status()
        deadline = time.monotonic() + 120
        while self._get(f"/api/files/{body['file_id']}")["status"] == "pending":
            if time.monotonic() > deadline:
                raise RuntimeError("upload never became ready")
            time.sleep(0.2)
        return str(body["file_id"])

    def _get(self, path: str) -> dict[str, Any]:
        answer = self.http.get(f"{self.url}{path}", timeout=30)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:300]}")
        return dict(answer.json())

    def run_import(self, file_id: str, base_id: str, timeout: float,
                   barrier: threading.Barrier | None = None) -> tuple[float, float, dict]:
        """(start, seconds to the end, final status); `barrier`: start with the others."""
        if barrier is not None:
            barrier.wait()
        begun = time.perf_counter()
        started = self.http.post(f"{self.url}/api/files/{file_id}/import", timeout=30, json={
            "base_id": base_id, "table": "People", "typecast": True})
        started.raise_for_status()
        import_id = started.json()["import_id"]
        while True:
            status = self._get(f"/api/files/imports/{import_id}")
            if status["status"] != "running":
                return begun, time.perf_counter() - begun, status
            if time.perf_counter() - begun > timeout:
                raise RuntimeError(f"import still running after {timeout} s: {status}")
            time.sleep(0.2)


def _stack(rate_limited: bool) -> Any:
    from local.runtime.stack import LocalStack, Options

    url = os.environ.get("DATABASE_URL") or \
        f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-imports-')) / 'bench.db'}"
    extra = {"REGISTRATION": "open", "DEFAULT_CONNECTION": "every_workspace"}
    if not rate_limited:
        extra["AIRTABLE_RATE_LIMIT"] = "0"  # the shared limiter off
    log = Path(tempfile.mkdtemp(prefix="bench-imports-")) / "workers.log"
    return LocalStack(Options(port=0, database_url=url, quiet=True, extra_env=extra,
                              worker_log=log,
                              airtable_rate_limit=5 if rate_limited else None)).start()


def _bases(stack: Any, count: int) -> list[str]:
    # Made before the user exists, so their connection's first listing has them all.
    return [stack.airtable.create_base(f"Bench {uuid.uuid4().hex[:6]}",
                                       [{"name": "People", "fields": FIELDS}])
            for _ in range(count)]


def _throughput() -> list[Row]:
    rows = 5000
    stack = _stack(rate_limited=True)
    try:
        warm_base, base_id = _bases(stack, 2)
        client = _Client(stack)
        client.run_import(client.upload(_csv(20)), warm_base, 120)  # warm the workers
        _, elapsed, status = client.run_import(client.upload(_csv(rows)), base_id, 900)
        log = stack.airtable.requests_for(base_id)
        writes = [t for t, method, _path, _base, code in log if method == "POST" and code == 200]
        too_many = sum(1 for *_, code in log if code == 429)
        per_s = rows / elapsed
        write_phase = (len(writes) - 1) * 10 / (writes[-1] - writes[0]) if len(writes) > 1 else 0
        ok = status["status"] == "succeeded" and status["created"] == rows
        return [
            Row(f"import throughput, {rows:,} rows at 5 requests/s per base (end to end)",
                f"{per_s:.1f} records/s", f"{AIRTABLE_MAX_RECORDS_PER_S:.0f} records/s",
                round(per_s / AIRTABLE_MAX_RECORDS_PER_S, 3), ">= 0.95, zero 429s",
                per_s / AIRTABLE_MAX_RECORDS_PER_S >= 0.95 and too_many == 0,
                f"{elapsed:.1f} s; write phase {write_phase:.1f} records/s; "
                f"{len(writes)} writes, {too_many} x 429; "
                + ("succeeded" if ok else f"NOT succeeded: {status.get('error')}")),
        ]
    finally:
        stack.stop()


def _import_pool(stack: Any) -> Any:
    return next(p for p in stack.pools.values() if p.spec.logical_id == "FileJobsFunction")


def _at_once(jobs: list[tuple[_Client, str, str]], timeout: float) -> list[tuple[float, float,
                                                                                 dict]]:
    """Every (client, file, base) import POSTed at the same moment; each one's run_import."""
    barrier = threading.Barrier(len(jobs))
    results: list[tuple[float, float, dict]] = [(0.0, 0.0, {})] * len(jobs)

    def one(i: int) -> None:
        client, file_id, base_id = jobs[i]
        try:
            results[i] = client.run_import(file_id, base_id, timeout, barrier)
        except Exception as e:  # a failed import is reported in the row, never as a number
            results[i] = (0.0, 0.0, {"status": "error", "error": f"{type(e).__name__}: {e}"})

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _parallel() -> list[Row]:
    rows = 5000
    figure = f"{PARALLEL} imports of {rows:,} rows into {PARALLEL} bases at once"
    reference = PARALLEL * AIRTABLE_MAX_RECORDS_PER_S
    stack = _stack(rate_limited=True)
    try:
        bases = _bases(stack, 2 * PARALLEL)
        warm_bases, measured = bases[:PARALLEL], bases[PARALLEL:]
        clients = [_Client(stack) for _ in range(PARALLEL)]
        # Warmed as throughput is, each into a base of its own so the measured bases' logs hold
        # only the measured run; a pool that starts more workers then (as Lambda scales out)
        # counts in the figure, and the note says how many it had before and after.
        _at_once([(c, c.upload(_csv(20)), b) for c, b in zip(clients, warm_bases, strict=True)],
                 120)
        warm_workers = len(_import_pool(stack)._all)
        files = [c.upload(_csv(rows)) for c in clients]
        results = _at_once(list(zip(clients, files, measured, strict=True)), 900)
        logs = [stack.airtable.requests_for(b) for b in measured]
        too_many = sum(1 for log in logs for *_, code in log if code == 429)
        writes = [sum(1 for _t, method, _p, _b, code in log if method == "POST" and code == 200)
                  for log in logs]
        failed = [f"import {i + 1}: {status.get('status')} {status.get('error')}"
                  for i, (_, _, status) in enumerate(results)
                  if status.get("status") != "succeeded" or status.get("created") != rows]
        start = min((begun for begun, _, _ in results if begun), default=0.0)
        each = [begun + elapsed - start for begun, elapsed, _ in results]
        ends = ", ".join(f"{s:.1f}" if status.get("status") == "succeeded" else "failed"
                         for s, (_, _, status) in zip(each, results, strict=True))
        note = (f"ends {ends} s after the common start; "
                f"writes per base {writes}, {too_many} x 429; FileJobsFunction workers "
                f"{warm_workers} after warm-up, {len(_import_pool(stack)._all)} after")
        if failed:
            return [Row(figure, "not measured: " + "; ".join(failed)[:300],
                        f"{PARALLEL} x {AIRTABLE_MAX_RECORDS_PER_S:.0f} records/s", None,
                        ">= 0.95, 0 x 429", False, note)]
        per_s = PARALLEL * rows / max(each)
        return [Row(figure, f"{per_s:.1f} records/s",
                    f"{PARALLEL} x {AIRTABLE_MAX_RECORDS_PER_S:.0f} records/s",
                    round(per_s / reference, 3), ">= 0.95, 0 x 429",
                    per_s / reference >= 0.95 and too_many == 0, note)]
    finally:
        stack.stop()


def _peak_rss_kb(stack: Any) -> int:
    pool = _import_pool(stack)
    peaks = []
    for worker in list(pool._all):
        status = Path(f"/proc/{worker.process.pid}/status").read_text()
        peaks.append(next(int(line.split()[1]) for line in status.splitlines()
                          if line.startswith("VmHWM:")))
    return max(peaks)


def _memory() -> list[Row]:
    stack = _stack(rate_limited=False)
    try:
        small_base, big_base = _bases(stack, 2)
        client = _Client(stack)
        _, small_s, small = client.run_import(client.upload(_csv(10_000)), small_base, 900)
        after_small = _peak_rss_kb(stack)
        big_file = client.upload(_csv(100_000))
        _, big_s, big = client.run_import(big_file, big_base, 3600)
        after_big = _peak_rss_kb(stack)
        ok = big["status"] == "succeeded" and big["created"] == 100_000 \
            and small["status"] == "succeeded"
        growth = after_big - after_small
        return [Row("peak memory, 100,000-row import (task workers' VmHWM)",
                    f"{after_big / 1024:.0f} MB", f"{after_small / 1024:.0f} MB after 10,000 rows",
                    round(after_big / after_small, 3), "flat: 100k peak ~ 10k peak",
                    growth < 16 * 1024,
                    f"+{growth / 1024:.1f} MB for 10x the rows; imports took {small_s:.0f} s "
                    f"and {big_s:.0f} s without rate limits; "
                    + ("both succeeded" if ok else f"NOT succeeded: {big.get('error')}"))]
    finally:
        stack.stop()


if __name__ == "__main__":
    measured = {"throughput": _throughput, "parallel": _parallel,
                "memory": _memory}[sys.argv[1]]()
    print(json.dumps([asdict(r) for r in measured]), flush=True)
