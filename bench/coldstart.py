"""Cold start per function as deployed, against a naive import in the same environment; warm
handler time and database round trips of an authenticated request.

Each cold start is a fresh process of the packaged environment (bench.lambda_env) with the
function's environment as the template sets it (resources provisioned by the local runtime in
moto), Tracer on (POWERTOOLS_TRACE_DISABLED unset, in a Lambda-like environment), timed from
before the handler's import to the end of its first invocation with its sample event from
events/. Rounds interleave every function with the naive import, so load on the machine hits
both alike: `python -m bench.coldstart` prints the rows as JSON.
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from bench import lambda_env
from bench.report import ROOT, Row
from bench.stacklock import stack_lock

ROUNDS = int(os.environ.get("BENCH_COLD_ROUNDS", "3"))
CHILD = Path(__file__).with_name("cold_child.py")
# The sample each function's first invocation gets (events/<folder>/<file>); folders not named
# here use health.json.
SAMPLES = {"authorizer": "bearer-token.json", "diagnostics": "probe.json",
           "files_processor": "s3-put.json", "housekeeping": "schedule.json",
           "notifications_dispatcher": "eventbridge.json", "saga_tasks": "user-registered.json",
           "file_jobs": "fail-unknown-import.json", "platform": "health.json"}
# Not invoked: a CloudFormation custom resource answering a presigned URL at deploy time.
IMPORT_ONLY = {"migrations"}
NAIVE = "import boto3, aws_lambda_powertools, pydantic, sqlalchemy, pyairtable, jwt"
# The reference runs between every few functions, often enough that load on the machine hits
# it as it hits them, without running it as often as all of them together.
NAIVE_EVERY = 4
GOAL = 0.60
AUTHORIZER_GOAL = 0.35


def _event(folder: str) -> dict[str, Any] | None:
    if folder in IMPORT_ONLY:
        return None
    path = ROOT / "events" / folder / SAMPLES.get(folder, "health.json")
    return json.loads(path.read_text()) if path.exists() else None


def _env(stack: Any, spec: Any) -> dict[str, str]:
    """The function's environment as deployed: tracing on, a Lambda-like process."""
    env = stack._worker_env(spec)
    for local_only in ("POWERTOOLS_TRACE_DISABLED", "PYTHONDONTWRITEBYTECODE", "LOCAL_RUNTIME"):
        env.pop(local_only, None)
    env.update({"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
                "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
                "_X_AMZN_TRACE_ID": "Root=1-6745a0c0-0123456789abcdef01234567;"
                                    "Parent=0123456789abcdef;Sampled=1"})
    return env


def _run(interpreter: Path, job: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(job, f)
    try:
        done = subprocess.run([str(interpreter), str(CHILD), f.name], env=env, text=True,
                              capture_output=True, timeout=120, cwd=job.get("code_dir") or ROOT)
    finally:
        os.unlink(f.name)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr or done.stdout)[-400:]}
    return json.loads(lines[-1])


def _live_credentials(stack: Any) -> tuple[str, dict[str, Any]]:
    """A registered user's access token and the authorizer context it maps to."""
    event = json.loads((ROOT / "events" / "auth" / "register.json").read_text())
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    body = json.loads(event["body"])
    body.update({"email": email, "username": f"bench{uuid.uuid4().hex[:8]}"})
    event["body"] = json.dumps(body)
    result = stack.invoke("AuthFunction", event)
    if result.error or result.payload.get("statusCode") != 201:
        raise RuntimeError(f"bench: could not register a user: {result.error or result.payload}")
    token = json.loads(result.payload["body"])["access_token"]
    sample = json.loads((ROOT / "events" / "authorizer" / "bearer-token.json").read_text())
    sample["headers"]["authorization"] = f"Bearer {token}"
    sample["identitySource"] = [f"Bearer {token}"]
    decision = stack.invoke("AuthorizerFunction", sample)
    if not (decision.payload or {}).get("isAuthorized"):
        raise RuntimeError(f"bench: the authorizer refused a fresh token: {decision.payload}")
    return token, decision.payload["context"]


def _authorizer_event(token: str) -> dict[str, Any]:
    sample = json.loads((ROOT / "events" / "authorizer" / "bearer-token.json").read_text())
    sample["headers"]["authorization"] = f"Bearer {token}"
    sample["identitySource"] = [f"Bearer {token}"]
    return sample


def _me_event(context: dict[str, Any]) -> dict[str, Any]:
    """GET /api/auth/me as the HTTP API hands it to the auth function after the authorizer."""
    event = json.loads((ROOT / "events" / "auth" / "health.json").read_text())
    event = copy.deepcopy(event)
    event.update(routeKey="ANY /api/auth/{proxy+}", rawPath="/api/auth/me",
                 pathParameters={"proxy": "me"})
    event["requestContext"].update(routeKey="ANY /api/auth/{proxy+}",
                                   authorizer={"lambda": context})
    event["requestContext"]["http"]["path"] = "/api/auth/me"
    return event


def _docs_event() -> dict[str, Any]:
    """GET /api/docs (public) as the HTTP API hands it to the platform function."""
    event = copy.deepcopy(_event("platform") or {})
    event.update(routeKey="GET /api/docs", rawPath="/api/docs")
    event["requestContext"].update(routeKey="GET /api/docs")
    event["requestContext"]["http"]["path"] = "/api/docs"
    return event


def measure() -> list[Row]:
    """Every row of this part (the stack lock is held while the stack runs)."""
    interpreter = lambda_env.python()
    with stack_lock():
        return _measure(interpreter)


def _measure(interpreter: Path) -> list[Row]:
    sys.path.insert(1, str(ROOT / "layers" / "common"))
    from local.runtime.stack import LocalStack, Options

    log = Path(tempfile.mkdtemp(prefix="bench-")) / "workers.log"
    stack = LocalStack(Options(port=None, prewarm=False, quiet=True, worker_log=log,
                               database_url=os.environ.get("DATABASE_URL"),
                               auth_ip_limit_per_minute=100_000)).start()
    try:
        token, context = _live_credentials(stack)
        return _rounds(stack, interpreter, token, context)
    finally:
        stack.stop()


def _rounds(stack: Any, interpreter: Path, token: str, context: dict[str, Any]) -> list[Row]:
    jobs: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}
    for spec in sorted(stack.provisioned.functions.values(), key=lambda s: s.logical_id):
        folder = Path(spec.code_dir).name
        event = _event(folder)
        if folder == "authorizer":
            event = _authorizer_event(token)
        elif folder == "auth":
            event = _me_event(context)
        if folder == "files_processor" and event:
            record = event["Records"][0]["s3"]
            stack.client("s3").put_object(Bucket=record["bucket"]["name"],
                                          Key=record["object"]["key"].replace("+", " "),
                                          Body=b"Name,Email\n")
        job = {"name": spec.name, "handler": spec.handler, "code_dir": str(spec.code_dir),
               "layer_dir": str(spec.layer_dirs[0]), "event": event}
        jobs[spec.logical_id] = (job, _env(stack, spec))
    naive_env = next(iter(jobs.values()))[1]
    naive: list[float] = []
    cold: dict[str, list[dict[str, Any]]] = {lid: [] for lid in jobs}
    for _ in range(ROUNDS):
        for position, (lid, (job, env)) in enumerate(jobs.items()):
            if position % NAIVE_EVERY == 0:
                naive.append(_run(interpreter, {"naive": True}, naive_env)["total_ms"])
            cold[lid].append(_run(interpreter, job, env))
    warm_runs = {}
    warm_events = {"AuthorizerFunction": {"authorizer": _authorizer_event(token)},
                   "AuthFunction": {"me": _me_event(context), "health": _event("auth")},
                   "PlatformFunction": {"docs": _docs_event(), "health": _event("platform")}}
    for lid, events in warm_events.items():
        job, env = jobs[lid]
        warm_runs[lid] = _run(interpreter, {**job, "warm_runs": 100, "warm": events}, env)
    return _rows(naive, cold, warm_runs)


def _rows(naive: list[float], cold: dict[str, list[dict[str, Any]]],
          warm: dict[str, dict[str, Any]]) -> list[Row]:
    reference = statistics.median(naive)
    rows = []
    for lid, runs in cold.items():
        failed = [r["error"] for r in runs if "error" in r]
        figure = f"cold start {lid}"
        if failed:
            rows.append(Row(figure, f"failed: {failed[0][-200:]}"))
            continue
        total = statistics.median(r["total_ms"] for r in runs)
        last = runs[-1]
        loaded = [m for m, yes in last["loaded"].items() if yes and m in (
            "aws_xray_sdk", "sqlalchemy.orm", "botocore.client", "pyairtable")]
        goal = AUTHORIZER_GOAL if lid == "AuthorizerFunction" else GOAL
        note = "import only, no sample event" if last.get("status") is None else ""
        note = ", ".join(x for x in (note, f"loads {'+'.join(loaded)}" if loaded else
                                     "no xray/orm/botocore.client/pyairtable") if x)
        imported = statistics.median(r["import_ms"] for r in runs)
        rows.append(Row(figure, f"{total:.0f} ms (import {imported:.0f})",
                        f"naive import {reference:.0f} ms", round(total / reference, 2),
                        f"<= {goal:.2f}x", total / reference <= goal, note))
    rows.extend(_warm_rows(warm))
    return rows


def _warm_rows(warm: dict[str, dict[str, Any]]) -> list[Row]:
    rows = []
    auth = (warm.get("AuthorizerFunction") or {}).get("warm", {}).get("authorizer")
    me = (warm.get("AuthFunction") or {}).get("warm", {})
    if not auth or "me" not in me:
        errors = [w.get("error") for w in warm.values() if w.get("error")]
        return [Row.skipped("warm handler time", f"the warm runs failed: {errors}")]
    health = me["health"]
    rows.append(Row("warm authorizer (valid bearer token), in-process",
                    f"{auth['median_ms']:.2f} ms",
                    f"auth's public health {health['median_ms']:.2f} ms",
                    round(auth["median_ms"] / health["median_ms"], 2), "", None,
                    f"decision {auth['status']}"))
    rows.append(Row("warm GET /api/auth/me handler, in-process", f"{me['me']['median_ms']:.2f} ms",
                    f"auth's public health {health['median_ms']:.2f} ms",
                    round(me["me"]["median_ms"] / health["median_ms"], 2), "", None,
                    f"status {me['me']['status']}"))
    docs = (warm.get("PlatformFunction") or {}).get("warm", {})
    if "docs" in docs:
        rows.append(Row("warm GET /api/docs handler, in-process",
                        f"{docs['docs']['median_ms']:.2f} ms",
                        f"platform's health {docs['health']['median_ms']:.2f} ms",
                        round(docs["docs"]["median_ms"] / docs["health"]["median_ms"], 2), "",
                        None, f"status {docs['docs']['status']}"))
    trips = auth["round_trips"] + me["me"]["round_trips"]
    rows.append(Row("DB round trips per authenticated request (GET /api/auth/me)", str(trips),
                    f"authorizer {auth['round_trips']} + route {me['me']['round_trips']}", None,
                    "<= 2", trips <= 2))
    return rows


if __name__ == "__main__":
    print(json.dumps([r.__dict__ for r in measure()]))
