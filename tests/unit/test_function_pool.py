"""A function's worker pool: one worker warmed ahead, and a pool busy for a while grows in the
background while requests go to the warm workers (no request waits for a handler's import)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from local.runtime.provision import FunctionSpec
from local.runtime.workers import FunctionPool

_APP = '''
import os, pathlib, time
# Workers started after the test creates the marker import "forever" (until the pool stops).
if pathlib.Path(os.environ["SLOW_MARKER"]).exists():
    time.sleep(120)

def lambda_handler(event, context):
    time.sleep(event.get("seconds", 0))
    return os.getpid()
'''


def _pool(tmp_path: Path, grow_after: float = 0.0) -> FunctionPool:
    (tmp_path / "app.py").write_text(_APP)
    spec = FunctionSpec(logical_id="Fn", name="fn", arn="arn:aws:lambda:us-east-1:1:function:fn",
                        code_dir=tmp_path, handler="app.lambda_handler", layer_dirs=[],
                        environment={}, timeout=60)
    env = {"PATH": os.environ.get("PATH", ""), "SLOW_MARKER": str(tmp_path / "slow"),
           "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_DEFAULT_REGION": "us-east-1"}
    return FunctionPool(spec, env, max_workers=3, grow_after=grow_after,
                        log_path=str(tmp_path / "workers.log"))


def _together(pool: FunctionPool, count: int) -> list:
    """`count` requests of 50 ms sent at once; their results."""
    results = []
    threads = [threading.Thread(target=lambda: results.append(pool.invoke({"seconds": 0.05})))
               for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_prewarm_starts_one_initialised_worker_that_serves_the_first_request(tmp_path):
    pool = _pool(tmp_path)
    try:
        pool.prewarm()
        pool.prewarm()  # already warm: no second worker
        assert len(pool._all) == 1 and len(pool._idle) == 1
        result = pool.invoke({})
        assert result.error is None and result.payload == pool._all[0].process.pid
    finally:
        pool.close()


def test_concurrent_requests_are_served_by_the_warm_worker_while_the_pool_grows(tmp_path):
    pool = _pool(tmp_path)
    try:
        pool.prewarm()
        warm_pid = pool._all[0].process.pid
        (tmp_path / "slow").touch()  # any worker started from now on never becomes ready
        results = _together(pool, 6)
        assert [r.payload for r in results] == [warm_pid] * 6
        assert pool._starting == 1  # one more worker on its way, in the background
    finally:
        pool.close()


def test_short_requests_take_the_warm_worker_in_turn_without_growing_the_pool(tmp_path):
    pool = _pool(tmp_path, grow_after=30.0)
    try:
        pool.prewarm()
        warm_pid = pool._all[0].process.pid
        results = _together(pool, 4)
        assert [r.payload for r in results] == [warm_pid] * 4
        assert (len(pool._all), pool._starting) == (1, 0)
    finally:
        pool.close()
