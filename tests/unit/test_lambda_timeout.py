"""A function that runs past its Timeout is killed as Lambda kills it: the caller gets Lambda's
timeout error, the worker process is gone, and the next invocation runs in a fresh one."""

from __future__ import annotations

import os
from pathlib import Path

from local.runtime.provision import FunctionSpec
from local.runtime.workers import FunctionPool

_APP = '''
import os, pathlib, time

def lambda_handler(event, context):
    marker = pathlib.Path(event["marker"])
    marker.write_text("started")
    time.sleep(event.get("seconds", 0))
    marker.write_text("finished")  # never reached when the worker is killed first
    return {"pid": os.getpid(), "left_ms": context.get_remaining_time_in_millis()}
'''


def _pool(tmp_path: Path, timeout: int) -> FunctionPool:
    (tmp_path / "app.py").write_text(_APP)
    spec = FunctionSpec(logical_id="Fn", name="fn", arn="arn:aws:lambda:us-east-1:1:function:fn",
                        code_dir=tmp_path, handler="app.lambda_handler", layer_dirs=[],
                        environment={}, timeout=timeout)
    env = {"PATH": os.environ.get("PATH", ""), "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
           "AWS_DEFAULT_REGION": "us-east-1"}
    return FunctionPool(spec, env, max_workers=2, log_path=str(tmp_path / "workers.log"))


def test_an_invocation_past_its_timeout_is_killed_and_the_next_runs_in_a_new_worker(tmp_path):
    pool = _pool(tmp_path, timeout=1)
    marker = tmp_path / "marker"
    try:
        pool.prewarm()
        first = pool._all[0].process
        result = pool.invoke({"marker": str(marker), "seconds": 30})
        assert result.payload is None
        assert result.error["errorType"] == "Sandbox.Timedout"
        assert result.error["errorMessage"].endswith("Task timed out after 1.00 seconds")
        assert not first.is_alive()  # killed, not left to finish in the background
        assert marker.read_text() == "started"  # stopped mid-work
        again = pool.invoke({"marker": str(marker)})
        assert again.error is None and again.cold
        assert again.payload["pid"] != first.pid
        assert marker.read_text() == "finished"
    finally:
        pool.close()


def test_the_timeout_can_be_changed_like_the_function_configuration(tmp_path):
    pool = _pool(tmp_path, timeout=60)
    try:
        assert pool.timeout == 60
        pool.timeout = 1
        result = pool.invoke({"marker": str(tmp_path / "m"), "seconds": 30})
        assert result.error["errorType"] == "Sandbox.Timedout"
        pool.timeout = 60
        fine = pool.invoke({"marker": str(tmp_path / "m")})
        assert fine.error is None and 0 < fine.payload["left_ms"] <= 60_000
    finally:
        pool.close()
