"""Workflow execution latency: a 3-step workflow (list_records -> transform -> create_records)
run through the local stack's Step Functions (moto's interpreter) and step-runner workers.

Figures: the first run (cold workers), the median of 5 warm runs as the client sees it (POST
execute until GET shows `succeeded`, polling every 20 ms) and as recorded (started -> finished),
the time inside the steps themselves as the reference, and the state transitions per step read
from the execution history. Runs under the machine-wide stack lock.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.report import Row, median
from bench.stacklock import stack_lock

RUNS = 5


def _run(api: Any, headers: dict[str, str], workflow_id: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = api.post(f"/api/workflows/{workflow_id}/execute", headers=headers,
                        json={"input": {"source": "bench"}})
    response.raise_for_status()
    execution_id = response.json()["execution_id"]
    while True:
        body = api.get(f"/api/workflows/executions/{execution_id}", headers=headers).json()
        if body["status"] != "running":
            elapsed = (time.perf_counter() - started) * 1000
            if body["status"] != "succeeded":
                raise RuntimeError(f"workflow run {body['status']}: {body['error']}")
            return elapsed, body
        time.sleep(0.02)


def measure() -> list[Row]:
    """Latency figures and transitions per step."""
    import requests
    from pyairtable import Api

    from local.runtime.stack import LocalStack, Options

    database_url = os.environ.get("DATABASE_URL") or \
        f"sqlite:///{tempfile.gettempdir()}/pyairtable-bench-workflows-{os.getpid()}.db"
    with stack_lock():
        stack = LocalStack(Options(port=0, database_url=database_url, quiet=True,
                                   worker_log=Path(tempfile.gettempdir()) / "bench-wf.log",
                                   extra_env={"REGISTRATION": "open",
                                              "DEFAULT_CONNECTION": "every_workspace"})).start()
        try:
            return _measure(stack, requests, Api)
        finally:
            stack.stop()


def _measure(stack: Any, requests: Any, api_class: Any) -> list[Row]:
    api = requests.Session()
    url = stack.url
    signup = api.post(f"{url}/api/auth/register", json={
        "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
        "password": "Correct-Horse-Battery-9"})
    signup.raise_for_status()
    headers = {"Authorization": f"Bearer {signup.json()['access_token']}"}
    base_id = stack.airtable.create_base("Bench workflows", tables=[
        {"name": "People", "fields": [{"name": "Name", "type": "singleLineText"}]},
        {"name": "Copies", "fields": [{"name": "Label", "type": "singleLineText"}]}])
    api_class(stack.airtable_token, endpoint_url=stack.airtable_url).table(
        base_id, "People").batch_create([{"Name": f"P{i}"} for i in range(3)])
    created = api.post(f"{url}/api/workflows", headers=headers, json={
        "name": "bench", "trigger": {"type": "manual"}, "steps": [
            {"id": "people", "type": "airtable.list_records",
             "config": {"base_id": base_id, "table": "People"}},
            {"id": "labels", "type": "transform",
             "config": {"items": "{{ steps.people.records }}",
                        "fields": {"Label": "{{ item.fields.Name }} ({{ input.source }})"}}},
            {"id": "copy", "type": "airtable.create_records",
             "config": {"base_id": base_id, "table": "Copies",
                        "records": "{{ steps.labels.records }}"}}]})
    created.raise_for_status()
    workflow_id = created.json()["id"]

    class _Prefixed:
        def post(self, path: str, **kw: Any) -> Any:
            return api.post(url + path, timeout=60, **kw)

        def get(self, path: str, **kw: Any) -> Any:
            return api.get(url + path, timeout=60, **kw)

    client = _Prefixed()
    cold, _ = _run(client, headers, workflow_id)
    seen, recorded, in_steps, last = [], [], [], {}
    for _ in range(RUNS):
        elapsed, last = _run(client, headers, workflow_id)
        seen.append(elapsed)
        recorded.append(last["duration_ms"])
        in_steps.append(sum(s["duration_ms"] for s in last["steps"]))
    history = stack.client("stepfunctions").get_execution_history(
        executionArn=_arn(stack, last["id"]), maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history
               if e["type"].endswith("StateEntered")]
    steps = len(last["steps"])
    overhead = statistics.median(r - s for r, s in zip(recorded, in_steps, strict=True))
    return [
        Row("workflow execution latency, 3 steps, first run (cold workers)", f"{cold:.0f} ms"),
        Row(f"workflow execution latency, 3 steps, median of {RUNS} (client: execute -> "
            f"succeeded)", f"{median(seen):.0f} ms",
            reference=f"{median(in_steps):.0f} ms inside the steps",
            ratio=round(median(seen) / max(median(in_steps), 1.0), 2),
            note=f"recorded start -> finish {median(recorded):.0f} ms, machine overhead "
                 f"{overhead:.0f} ms"),
        Row("workflow state transitions per step", f"{len(entered) / steps:.2f}",
            reference=f"{len(entered)} states entered for {steps} steps: "
                      f"{' '.join(entered)}",
            goal="2 per step + 1", met=len(entered) <= 2 * steps + 1),
    ]


def _arn(stack: Any, execution_id: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text(
                "SELECT state_machine_execution FROM workflow_executions WHERE id = :id"),
                {"id": execution_id}).scalar_one())
    finally:
        engine.dispose()
