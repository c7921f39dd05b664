"""Cold start per function as deployed, against a naive import in the same environment; warm
handler time, and database round trips on the wire of an authenticated read and a write.

What runs is what `sam build` built (.aws-sam/build, built first when missing), copied
read-only as Lambda mounts /var/task and /opt: a module without bytecode is compiled at every
cold start, as on Lambda. The interpreter has only what the Lambda runtime provides (boto3 and
its botocore; bench.lambda_env.runtime_python), the built layer and the function's code on its
path. Each cold start is a fresh process with the function's environment as the template sets
it (resources provisioned by the local runtime in moto, whose secrets extension serves the
authorizer), Tracer on (POWERTOOLS_TRACE_DISABLED unset), timed from before the handler's
import to the end of its first invocation with its sample event from events/. The naive
reference imports the usual stack from the same read-only layer. Rounds interleave every
function with it, so load on the machine hits both alike: `python -m bench.coldstart` prints
the rows as JSON.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import stat
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
AUTHORIZER_GOAL = 0.25
READ_TRIPS_GOAL = 3
BUILD = ROOT / ".aws-sam" / "build"


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


def _users_patch_event(context: dict[str, Any]) -> dict[str, Any]:
    """PATCH /api/users/me (the write of the load mix) as the users function receives it."""
    event = copy.deepcopy(json.loads((ROOT / "events" / "users" / "health.json").read_text()))
    event.update(routeKey="ANY /api/users/{proxy+}", rawPath="/api/users/me",
                 pathParameters={"proxy": "me"}, body=json.dumps({"first_name": "Bench"}),
                 isBase64Encoded=False)
    event.setdefault("headers", {})["content-type"] = "application/json"
    event["requestContext"].update(routeKey="ANY /api/users/{proxy+}",
                                   authorizer={"lambda": context})
    event["requestContext"]["http"].update(path="/api/users/me", method="PATCH")
    return event


def _read_only_build() -> Path:
    """A read-only copy of .aws-sam/build (built first if missing)."""
    if not (BUILD / "CommonLayer" / "python").is_dir():
        print("bench: no .aws-sam/build, running sam build", flush=True)
        subprocess.run([str(ROOT / ".venv" / "bin" / "sam"), "build"], cwd=ROOT, check=True,
                       capture_output=True)
    copy_root = Path(tempfile.mkdtemp(prefix="bench-build-")) / "build"
    shutil.copytree(BUILD, copy_root, symlinks=True)
    for folder, _dirs, files in os.walk(copy_root, topdown=False):
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        Path(folder).chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP
                           | stat.S_IROTH | stat.S_IXOTH)
    return copy_root


def _remove(copy_root: Path) -> None:
    for folder, _dirs, _files in os.walk(copy_root):
        Path(folder).chmod(stat.S_IRWXU)
    shutil.rmtree(copy_root.parent, ignore_errors=True)


def measure() -> list[Row]:
    """Every row of this part (the stack lock is held while the stack runs)."""
    interpreter = lambda_env.runtime_python()
    with stack_lock():
        build = _read_only_build()
        try:
            return _measure(interpreter, build)
        finally:
            _remove(build)


def _measure(interpreter: Path, build: Path) -> list[Row]:
    sys.path.insert(1, str(ROOT / "layers" / "common"))
    from local.runtime.stack import LocalStack, Options

    log = Path(tempfile.mkdtemp(prefix="bench-")) / "workers.log"
    stack = LocalStack(Options(port=None, prewarm=False, quiet=True, worker_log=log,
                               database_url=os.environ.get("DATABASE_URL"),
                               auth_ip_limit_per_minute=100_000)).start()
    try:
        token, context = _live_credentials(stack)
        return _rounds(stack, interpreter, build, token, context)
    finally:
        stack.stop()


def _rounds(stack: Any, interpreter: Path, build: Path, token: str,
            context: dict[str, Any]) -> list[Row]:
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
        job = {"name": spec.name, "handler": spec.handler,
               "code_dir": str(build / spec.logical_id),
               "layer_dir": str(build / "CommonLayer" / "python"), "event": event}
        jobs[spec.logical_id] = (job, _env(stack, spec))
    naive_env = next(iter(jobs.values()))[1]
    naive_job = {"naive": True, "layer_dir": str(build / "CommonLayer" / "python")}
    naive: list[float] = []
    cold: dict[str, list[dict[str, Any]]] = {lid: [] for lid in jobs}
    for _ in range(ROUNDS):
        for position, (lid, (job, env)) in enumerate(jobs.items()):
            if position % NAIVE_EVERY == 0:
                naive.append(_run(interpreter, naive_job, naive_env)["total_ms"])
            cold[lid].append(_run(interpreter, job, env))
    warm_runs = {}
    warm_events = {"AuthorizerFunction": {"authorizer": _authorizer_event(token)},
                   "AuthFunction": {"me": _me_event(context), "health": _event("auth")},
                   "PlatformFunction": {"docs": _docs_event(), "health": _event("platform")}}
    for lid, events in warm_events.items():
        job, env = jobs[lid]
        warm_runs[lid] = _run(interpreter, {**job, "warm_runs": 100, "warm": events}, env)
    return [*_rows(naive, cold, warm_runs),
            *_wire_rows(_wire_runs(interpreter, jobs, token, context))]


def _wire_runs(interpreter: Path, jobs: dict[str, Any], token: str,
               context: dict[str, Any]) -> dict[str, Any]:
    """Each function of an authenticated read and a write, its database reached through the
    counting proxy (bench/wire.py) in its own process."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return {}
    wire = {"url": url, "bench_dir": str(Path(__file__).parent)}
    calls = {"AuthorizerFunction": {"authorizer": _authorizer_event(token)},
             "AuthFunction": {"me": _me_event(context)},
             "UsersFunction": {"patch_me": _users_patch_event(context)}}
    return {lid: _run(interpreter, {**jobs[lid][0], "event": None, "wire": wire,
                                    "round_trips": events}, jobs[lid][1])
            for lid, events in calls.items()}


def _wire_rows(runs: dict[str, Any]) -> list[Row]:
    figures = ("wire round trips, authenticated read (authorizer + GET /api/auth/me)",
               "wire round trips, write (authorizer + PATCH /api/users/me)")
    if not runs:
        return [Row.skipped(f, "needs PostgreSQL (DATABASE_URL)") for f in figures]
    try:
        auth = runs["AuthorizerFunction"]["round_trips"]["authorizer"]
        read = runs["AuthFunction"]["round_trips"]["me"]
        write = runs["UsersFunction"]["round_trips"]["patch_me"]
    except KeyError:
        errors = [r.get("error") for r in runs.values() if r.get("error")]
        return [Row.skipped(f, f"the runs failed: {errors}"[:300]) for f in figures]
    reads = auth["steady"] + read["steady"]
    writes = auth["steady"] + write["steady"]
    return [Row(figures[0], str(reads), f"authorizer {auth['steady']} + route {read['steady']}",
                None, f"<= {READ_TRIPS_GOAL}", reads <= READ_TRIPS_GOAL,
                f"first call of a new environment: {auth['first']} + {read['first']}; "
                f"status {read['status']}"),
            Row(figures[1], str(writes), f"authorizer {auth['steady']} + route {write['steady']}",
                None, "", None,
                f"first call of a new environment: {auth['first']} + {write['first']}; "
                f"status {write['status']}")]


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
                    round(auth["median_ms"] / health["median_ms"], 2), "", None))
    rows.append(Row("warm GET /api/auth/me handler, in-process", f"{me['me']['median_ms']:.2f} ms",
                    f"auth's public health {health['median_ms']:.2f} ms",
                    round(me["me"]["median_ms"] / health["median_ms"], 2), "", None))
    docs = (warm.get("PlatformFunction") or {}).get("warm", {})
    if "docs" in docs:
        rows.append(Row("warm GET /api/docs handler, in-process",
                        f"{docs['docs']['median_ms']:.2f} ms",
                        f"platform's health {docs['health']['median_ms']:.2f} ms",
                        round(docs["docs"]["median_ms"] / docs["health"]["median_ms"], 2), "",
                        None))
    return rows


if __name__ == "__main__":
    print(json.dumps([r.__dict__ for r in measure()]))
