"""One Lambda execution environment's cold start, run by the packaged interpreter (stdlib only
before the handler's own imports): `python cold_child.py <job.json>` prints one JSON line."""

from __future__ import annotations

import importlib
import json
import statistics
import sys
import time

_STARTED = time.perf_counter()


class Context:
    """The fields of Lambda's context object that handlers and Powertools read."""

    def __init__(self, name: str) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = "bench-request"
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "bench"
        self._deadline = time.time() + 29

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _naive() -> dict:
    import aws_lambda_powertools  # noqa: F401
    import boto3  # noqa: F401
    import jwt  # noqa: F401
    import pyairtable  # noqa: F401
    import pydantic  # noqa: F401
    import sqlalchemy  # noqa: F401

    return {"total_ms": (time.perf_counter() - _STARTED) * 1000}


def _status(result: object) -> object:
    if isinstance(result, dict):
        return result.get("statusCode", result.get("isAuthorized", "ok"))
    return "ok"


class _RoundTrips:
    """Database round trips, counted with SQLAlchemy events: statements, pool pings, and the
    transaction's BEGIN and COMMIT/ROLLBACK when the driver sends them."""

    def __init__(self) -> None:
        self.count = 0

    def install(self, engine: object) -> None:
        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", self._one)
        event.listen(engine, "commit", self._one)
        event.listen(engine, "rollback", self._rollback)
        # A pessimistic ping is a statement of its own on every checkout.
        if getattr(engine.pool, "_pre_ping", False):
            event.listen(engine.pool, "checkout", lambda *a: self._one())
        # pg8000 sends "begin transaction" before the first statement of a transaction.
        event.listen(engine, "begin", self._begin)

    def _one(self, *args: object) -> None:
        self.count += 1

    def _begin(self, conn: object) -> None:
        if not getattr(conn.connection.dbapi_connection, "autocommit", False):
            self.count += 1

    def _rollback(self, conn: object) -> None:
        # A rollback outside a transaction sends nothing (pg8000 checks first).
        dbapi = conn.connection.dbapi_connection
        if getattr(dbapi, "_in_transaction", True):
            self.count += 1


def main() -> None:
    with open(sys.argv[1]) as f:
        job = json.load(f)
    if job.get("naive"):
        print(json.dumps(_naive()))
        return
    sys.path[:0] = [job["code_dir"], job["layer_dir"]]
    module_name, handler_name = job["handler"].rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), handler_name)
    imported = time.perf_counter()
    context = Context(job["name"])
    out: dict = {}
    try:
        out["status"] = _status(handler(job["event"], context)) if job.get("event") else None
    except Exception as e:  # reported, as Lambda reports a failed invocation
        out["error"] = f"{type(e).__name__}: {e}"
    done = time.perf_counter()
    out.update(import_ms=(imported - _STARTED) * 1000, invoke_ms=(done - imported) * 1000,
               total_ms=(done - _STARTED) * 1000,
               loaded={m: m in sys.modules for m in (
                   "aws_xray_sdk", "sqlalchemy.orm", "botocore.client", "boto3", "pyairtable",
                   "pydantic", "requests")})
    warm = job.get("warm") or {}
    if warm:
        out["warm"] = _warm(handler, context, warm, job.get("warm_runs", 50))
    print(json.dumps(out, default=str))


def _warm(handler: object, context: Context, events: dict, runs: int) -> dict:
    """Median handler time per named event, interleaved, and round trips of one call each."""
    samples: dict[str, list[float]] = {name: [] for name in events}
    for _ in range(runs):
        for name, event in events.items():
            started = time.perf_counter()
            handler(event, context)
            samples[name].append((time.perf_counter() - started) * 1000)
    result = {name: {"median_ms": statistics.median(s)} for name, s in samples.items()}
    try:
        from common import db
    except ImportError:
        return result
    trips = _RoundTrips()
    trips.install(db.engine())
    if hasattr(db, "reader"):
        trips.install(db.reader())
    for name, event in events.items():
        trips.count = 0
        status = _status(handler(event, context))
        result[name].update(round_trips=trips.count, status=status)
    return result


if __name__ == "__main__":
    main()
