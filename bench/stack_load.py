"""The local stack as a user starts it: time to healthy, the aggregate health burst right
after it is ready, and 32 concurrent clients (authenticated read, public health, a write mix)
with errors and p50/p99. Runs under the machine-wide stack lock."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.report import ROOT, Row
from bench.stacklock import stack_lock

CLIENTS = 32
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "8"))
WARMUP_SECONDS = 3.0
BURST = 10
READY_GOAL_S = 20.0
BURST_GOAL_S = 3.0
USERS = 8
PUBLIC = "public health (GET /api/auth/health)"
# Issue 24's goals per scenario (its name before the parenthesis): the text, and whether a
# figure (rate, p50, p99, errors) and its ratio to one service's public health meet it.
_GOALS: dict[str, tuple[str, Any]] = {
    "authenticated read": (">= 0.75 of health, p99 < 150 ms, 0 errors",
                           lambda f, r: r >= 0.75 and f["p99"] < 150),
    "write mix": ("p99 < 300 ms, 0 errors", lambda f, r: f["p99"] < 300),
    "aggregate health": (">= 0.5 of one service's health, 0 errors", lambda f, r: r >= 0.5),
}
# The connections alarm's threshold on the smallest RDS instance (template: DatabaseMaxConnections).
CONNECTION_GOAL = 89


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Client:
    """One keep-alive connection, as a browser or an SDK holds one."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, headers: dict[str, str] | None = None,
             body: Any = None) -> tuple[int, bytes]:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {**(headers or {}), **({"Content-Type": "application/json"} if payload else {})}
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return 0, b""


def measure() -> list[Row]:
    """Every row of this part."""
    with stack_lock():
        return _measure()


def _measure() -> list[Row]:
    port = _free_port()
    log = Path(tempfile.mkdtemp(prefix="bench-stack-")) / "stack.log"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'common'}",
           "AUTH_IP_LIMIT_PER_MINUTE": "100000", "MAIL_DIR": str(log.parent / "mail")}
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "bench.stack_server", str(port)],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        ready_at = _wait_ready(log, process, started)
        rows = _cold(port, started, ready_at)
        rows += _load(port)
        return rows
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # SIGINT is ignored when bench runs in background
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _wait_ready(log: Path, process: subprocess.Popen[bytes], started: float) -> float:
    while "ready in" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() - started > 180:
            raise RuntimeError("the stack did not start: " + log.read_text()[-500:])
        time.sleep(0.05)
    return time.monotonic()


def _cold(port: int, started: float, ready_at: float) -> list[Row]:
    """The burst right after `ready`, then the first healthy answer."""
    def one(_: int) -> tuple[int, float]:
        begun = time.monotonic()
        status, _body = _Client(port).call("GET", "/api/health")
        return status, time.monotonic() - begun

    burst_started = time.monotonic()
    with ThreadPoolExecutor(BURST) as pool:
        results = list(pool.map(one, range(BURST)))
    burst = time.monotonic() - burst_started
    healthy = all(s == 200 for s, _ in results)
    ready = ready_at - started
    return [
        Row("local stack ready (banner), from the command", f"{ready:.1f} s", "", None,
            f"healthy <= {READY_GOAL_S:.0f} s", None),
        Row(f"{BURST} concurrent GET /api/health right after ready", f"{burst:.2f} s",
            f"ready after {ready:.1f} s", None, f"<= {BURST_GOAL_S:.0f} s, all 200",
            burst <= BURST_GOAL_S and healthy,
            "statuses " + ",".join(sorted({str(s) for s, _ in results}))),
        Row("make dev healthy (ready + first aggregate health 200)",
            f"{ready + min(t for _, t in results):.1f} s", "", None,
            f"<= {READY_GOAL_S:.0f} s", healthy and ready + burst <= READY_GOAL_S),
    ]


def _users(port: int) -> list[dict[str, str]]:
    headers = []
    client = _Client(port)
    for _ in range(USERS):
        tag = uuid.uuid4().hex[:10]
        status, body = client.call("POST", "/api/auth/register", body={
            "email": f"load-{tag}@example.com", "password": "Bench-Passphrase-2026",
            "username": f"load{tag}"})
        if status != 201:
            raise RuntimeError(f"register failed: {status} {body[:200]!r}")
        headers.append({"Authorization": f"Bearer {json.loads(body)['access_token']}"})
    return headers


def _load(port: int) -> list[Row]:
    users = _users(port)
    # The reference is the same function's public route: the difference is the authorizer.
    scenarios = {
        PUBLIC: lambda i, n: ("GET", "/api/auth/health", {}, None),
        "aggregate health (GET /api/health)": lambda i, n: ("GET", "/api/health", {}, None),
        "authenticated read (GET /api/auth/me)":
            lambda i, n: ("GET", "/api/auth/me", users[i % USERS], None),
        "write mix (1/3 PATCH /api/users/me)": lambda i, n: (
            ("PATCH", "/api/users/me", users[i % USERS], {"first_name": f"Load {n}"})
            if n % 3 == 0 else ("GET", "/api/users/me" if n % 3 == 1 else "/api/auth/me",
                                users[i % USERS], None)),
    }
    with _ConnectionSampler() as connections:
        figures = {name: _run(port, pick) for name, pick in scenarios.items()}
    health = figures[PUBLIC]["rate"]
    rows = [connections.row()] if connections.samples else []
    for name, f in figures.items():
        is_reference = name == PUBLIC
        ratio = f["rate"] / health
        goal, met = _GOALS.get(name.split(" (")[0], ("0 errors", lambda f, r: True))
        rows.append(Row(
            f"{CLIENTS} clients, {name}",
            f"{f['rate']:.0f} req/s, p50 {f['p50']:.0f} ms, p99 {f['p99']:.0f} ms, "
            f"{f['errors']} errors",
            "" if is_reference else f"public auth health {health:.0f} req/s",
            None if is_reference else round(ratio, 2), goal,
            met(f, ratio) and f["errors"] == 0,
            f"{f['count']} requests in {SECONDS:.0f} s after {WARMUP_SECONDS:.0f} s warm-up"))
    return rows


class _ConnectionSampler:
    """PostgreSQL's own count of the stack's connections (pg_stat_activity), every 0.2 s while
    the clients run: what each warm function instance holds, as RDS would count it."""

    QUERY = ("SELECT count(*) FROM pg_stat_activity "
             "WHERE datname = current_database() AND pid <> pg_backend_pid()")

    def __init__(self) -> None:
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> _ConnectionSampler:
        if os.environ.get("DATABASE_URL", "").startswith("postgresql"):
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _sample(self) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(os.environ["DATABASE_URL"], pool_size=1)
        try:
            with engine.connect() as conn:
                while not self._stop.wait(0.2):
                    self.samples.append(int(conn.execute(text(self.QUERY)).scalar_one()))
        finally:
            engine.dispose()

    def row(self) -> Row:
        return Row(f"database connections held, {CLIENTS} clients (pg_stat_activity)",
                   f"max {max(self.samples)}, median {statistics.median(self.samples):.0f}",
                   "", None, f"<= {CONNECTION_GOAL} (80 % of db.t4g.micro's 112)",
                   max(self.samples) <= CONNECTION_GOAL,
                   f"{len(self.samples)} samples over the four mixes below; each warm function "
                   "instance keeps its pooled connections (a writer and a reader engine)")


def _run(port: int, pick: Any) -> dict[str, float]:
    """`CLIENTS` threads for WARMUP_SECONDS (not counted), then SECONDS counted."""
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    begin = time.monotonic()
    counted_from, until = begin + WARMUP_SECONDS, begin + WARMUP_SECONDS + SECONDS

    def client(i: int) -> None:
        conn, n = _Client(port), 0
        while (now := time.monotonic()) < until:
            method, path, headers, body = pick(i, n)
            status, _ = conn.call(method, path, headers, body)
            took = time.monotonic() - now
            n += 1
            if now >= counted_from:
                with lock:
                    latencies.append(took * 1000)
                    errors[0] += 0 if 200 <= status < 300 else 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ordered = sorted(latencies) or [0.0]
    return {"rate": len(latencies) / SECONDS, "count": len(latencies),
            "p50": statistics.median(ordered),
            "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
            "errors": errors[0]}
