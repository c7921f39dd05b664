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


def _naive(layer_dir: str | None) -> dict:
    if layer_dir:  # the built layer, as Lambda puts /opt/python on the path
        sys.path[:0] = [layer_dir]
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


def main() -> None:
    with open(sys.argv[1]) as f:
        job = json.load(f)
    if job.get("naive"):
        print(json.dumps(_naive(job.get("layer_dir"))))
        return
    wire = _through_wire_counter(job["wire"]) if job.get("wire") else None
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
    if wire is not None:
        out["round_trips"] = _round_trips(handler, context, job["round_trips"], wire)
    print(json.dumps(out, default=str))


def _through_wire_counter(wire: dict) -> object:
    """Start the counting proxy in this process; the function's database URL points at it."""
    import os
    from urllib.parse import urlsplit

    sys.path.insert(0, wire["bench_dir"])
    from wire import WireCounter

    url = urlsplit(wire["url"])
    counter = WireCounter(url.hostname or "127.0.0.1", url.port or 5432)
    netloc = url.netloc.rsplit("@", 1)[0] + "@" if "@" in url.netloc else ""
    os.environ["DATABASE_URL"] = url._replace(netloc=f"{netloc}127.0.0.1:{counter.port}").geturl()
    return counter


def _round_trips(handler: object, context: Context, events: dict, wire: object) -> dict:
    """Round trips of each event's first call (connection and statements new) and of the
    next one (as a warm environment serves it)."""
    result = {}
    for name, event in events.items():
        counts = []
        for _ in range(2):
            wire.reset()
            status = _status(handler(event, context))
            counts.append(wire.round_trips)
        result[name] = {"first": counts[0], "steady": counts[1], "status": status}
    return result


def _warm(handler: object, context: Context, events: dict, runs: int) -> dict:
    """Median handler time per named event, interleaved."""
    samples: dict[str, list[float]] = {name: [] for name in events}
    for _ in range(runs):
        for name, event in events.items():
            started = time.perf_counter()
            handler(event, context)
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: {"median_ms": statistics.median(s)} for name, s in samples.items()}


if __name__ == "__main__":
    main()
