"""Each function runs in worker processes of its own, like a Lambda execution environment."""

from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing
import os
import queue
import sys
import threading
import time
import traceback
import uuid
import warnings
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from local.runtime import limits
from local.runtime.iam.hook import Role
from local.runtime.provision import FunctionSpec

# Workers are forked from a server that imported the heavy third-party packages once, instead
# of each importing them again (20 functions x ~0.7 s of imports kept `make dev` waiting ~14 s
# on 2 cores, and a pool growing under a burst paid it per worker). Only packages that read no
# environment at import are preloaded: a worker sets its function's environment, then imports
# the function's own code (and the layer's `common`) as a Lambda environment would.
_PRELOAD = ["sqlalchemy", "sqlalchemy.orm", "sqlalchemy.dialects.postgresql", "pg8000",
            "pydantic", "boto3", "botocore.client", "jwt", "pyairtable",
            "aws_lambda_powertools.event_handler", "aws_lambda_powertools.logging",
            "aws_lambda_powertools.metrics"]
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(_PRELOAD)


def start_fork_server() -> None:
    """Start the workers' fork server (and its imports) ahead of the first worker."""
    from multiprocessing import forkserver

    forkserver.ensure_running()


@dataclass
class Invocation:
    """What one invocation returned."""

    payload: Any
    error: dict[str, Any] | None
    duration_ms: float
    cold: bool

    def moto_result(self) -> tuple[str, bool, str]:
        """The triple moto's `LambdaFunction._invoke_lambda` returns."""
        body = self.error if self.error is not None else self.payload
        return json.dumps(body, default=str), self.error is not None, ""


class LambdaContext:
    """The fields of Lambda's context object that handlers and Powertools read."""

    def __init__(self, spec: dict[str, Any], request_id: str, deadline: float) -> None:
        self.function_name = spec["name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec["arn"]
        self.memory_limit_in_mb = 512
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{spec['name']}"
        self.log_stream_name = "local"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _worker_main(spec: dict[str, Any], env: dict[str, str], conn: Connection,
                 log_path: str | None) -> None:
    """Entry point of a worker process: import the handler once, then serve invocations."""
    # Without a log file the copy goes to the runtime's stderr, as `sam local invoke` prints a
    # function's logs: stdout carries only the response (an EMF line there broke `invoke`).
    sink = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if log_path \
        else os.dup(2)
    os.environ.clear()
    os.environ.update(env)
    if spec.get("role"):
        # Before any boto3 session exists: each one the function (or its log agent) makes
        # checks its calls against the function's role, as IAM does on AWS.
        from local.runtime.iam.hook import install

        install(spec["role"])
    agent = _LogAgent(spec["name"], sink)
    agent.start()
    # Powertools warns on every invocation without metrics; locally that is only noise.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    sys.path[:0] = [spec["code_dir"], *spec["layer_dirs"]]
    module_name, handler_name = spec["handler"].rsplit(".", 1)
    try:
        handler = getattr(importlib.import_module(module_name), handler_name)
    except Exception as e:  # an init error is reported on every invocation, as Lambda does
        init_error = _error_body(e)
        handler = None
    conn.send(("ready", None))  # initialised: the pool may hand this worker requests now
    while True:
        try:
            request_id, event, deadline = conn.recv()
        except (EOFError, KeyboardInterrupt):
            agent.drain()
            return
        if handler is None:
            conn.send((None, init_error))
            continue
        try:
            result = handler(event, LambdaContext(spec, request_id, deadline))
            text = json.dumps(result, default=str)  # ASCII: its length is its size in bytes
            if len(text) > limits.SYNC_PAYLOAD_BYTES:
                conn.send((None, limits.response_too_large(len(text))))
            else:
                conn.send((json.loads(text), None))
        except Exception as e:  # the function's error goes back to the caller, as Lambda does
            conn.send((None, _error_body(e)))
        finally:
            sys.stdout.flush()
            sys.stderr.flush()


class _LogAgent:
    """What Lambda does with a function's output: every line of stdout and stderr goes to the
    log group `/aws/lambda/<name>` (moto's CloudWatch Logs, whose subscriptions then deliver
    it), and a copy goes to the runtime's own log."""

    BATCH_SECONDS = 0.2

    def __init__(self, function_name: str, sink: int) -> None:
        self.group = f"/aws/lambda/{function_name}"
        self.stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.sink = sink
        self.lines: queue.SimpleQueue[tuple[int, str]] = queue.SimpleQueue()

    def start(self) -> None:
        read, write = os.pipe()
        os.dup2(write, 1)
        os.dup2(write, 2)
        os.close(write)
        self.copier = threading.Thread(target=self._copy, args=(read,), name="log-copy",
                                       daemon=True)
        self.copier.start()
        threading.Thread(target=self._ship, name="log-ship", daemon=True).start()

    def drain(self) -> None:
        """Copy what the function printed last before the process ends (its last lines are
        often the error that explains why)."""
        sys.stdout.flush()
        sys.stderr.flush()
        os.close(1)
        os.close(2)
        self.copier.join(timeout=1)

    def _copy(self, read: int) -> None:
        pending = b""
        while chunk := os.read(read, 65536):
            view = memoryview(chunk)
            while view:
                view = view[os.write(self.sink, view):]
            *complete, pending = (pending + chunk).split(b"\n")
            stamp = int(time.time() * 1000)
            for line in complete:
                if line.strip():
                    self.lines.put((stamp, line.decode("utf-8", "replace")))

    def _ship(self) -> None:
        import boto3

        logs = boto3.session.Session().client("logs")
        # Declared in the template (with its subscription), or made by a sibling worker.
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=self.group)
        logs.create_log_stream(logGroupName=self.group, logStreamName=self.stream)
        while True:
            batch = [self.lines.get()]
            until = time.monotonic() + self.BATCH_SECONDS
            while len(batch) < 1000 and (left := until - time.monotonic()) > 0:
                try:
                    batch.append(self.lines.get(timeout=left))
                except queue.Empty:
                    break
            try:
                logs.put_log_events(logGroupName=self.group, logStreamName=self.stream,
                                    logEvents=[{"timestamp": t, "message": m} for t, m in batch])
            except Exception as e:  # the copy in the runtime's log is still there
                os.write(self.sink, f"log agent: {type(e).__name__}: {e}\n".encode())


def _error_body(e: BaseException) -> dict[str, Any]:
    return {"errorType": type(e).__name__, "errorMessage": str(e),
            "stackTrace": traceback.format_exception(e)[-5:]}


class _Worker:
    def __init__(self, spec: FunctionSpec, env: dict[str, str], log_path: str | None,
                 role: Role | None = None) -> None:
        self.conn, child = _CONTEXT.Pipe()
        payload = {"name": spec.name, "arn": spec.arn, "handler": spec.handler,
                   "code_dir": str(spec.code_dir), "layer_dirs": [str(p) for p in spec.layer_dirs],
                   "role": role}
        self.process = _CONTEXT.Process(target=_worker_main, args=(payload, env, child, log_path),
                                        name=f"lambda:{spec.name}", daemon=True)
        self.process.start()
        child.close()
        self.used = False

    def wait_ready(self) -> bool:
        """Block until the worker has imported its handler; False if it died first."""
        try:
            return bool(self.conn.recv())
        except (EOFError, OSError):
            return False

    def call(self, event: Any, timeout: float) -> tuple[Any, dict[str, Any] | None]:
        request_id = str(uuid.uuid4())
        self.conn.send((request_id, event, time.time() + timeout))
        if not self.conn.poll(timeout):
            # As Lambda does: the execution environment is killed mid-work (whatever it was
            # writing stays half done) and the next invocation gets a fresh one.
            self.stop()
            return None, {"errorType": "Sandbox.Timedout",
                          "errorMessage": f"{request_id} Task timed out after {timeout:.2f} "
                                          "seconds"}
        return self.conn.recv()

    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self, grace: float = 0) -> None:
        # An idle worker whose pipe is closed ends by itself within `grace`, after copying its
        # last output; a busy or stuck one is killed, as Lambda kills a timed-out environment.
        self.process.join(timeout=grace)
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


class FunctionPool:
    """Warm workers of one function; a busy pool starts another worker, as Lambda scales out.

    A request never waits for a cold start while a warm worker can serve it: when every worker
    has been busy for `grow_after` seconds of its wait, the pool starts one more in the
    background (one at a time, up to `max_workers`) and the request takes whichever is free
    first, a warm worker finishing or the new one once its handler is imported. Unlike Lambda,
    which has a machine per environment, the workers share this machine's cores: a burst of
    short requests is served sooner by the warm worker in turn than by new workers that must
    first import and connect (ten aggregate health checks right after start took 11 s while
    every pool grew to four workers); long requests still grow the pool.
    """

    def __init__(self, spec: FunctionSpec, env: dict[str, str], *, max_workers: int = 4,
                 grow_after: float = 0.25, log_path: str | None = None,
                 role: Role | None = None) -> None:
        self.spec = spec
        self.env = env
        # The execution role each worker enforces (None: calls are not checked).
        self.role = role
        self.max_workers = max_workers
        self.grow_after = grow_after
        self.log_path = log_path
        # The template's Timeout; tests shorten it as UpdateFunctionConfiguration would.
        self.timeout = float(spec.timeout)
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self._starting = 0
        self._booting: list[_Worker] = []
        self._cond = threading.Condition()
        self._closed = False

    def prewarm(self) -> None:
        """Start one worker ahead of the first request and wait until it is initialised."""
        with self._cond:
            if self._all or self._starting:
                return
            self._starting += 1
        self._start_worker()

    def provision(self, count: int) -> None:
        """Hold `count` initialised workers (Lambda's provisioned concurrency), waiting for them."""
        count = min(count, self.max_workers)
        while True:
            with self._cond:
                if len(self._all) + self._starting >= count:
                    break
                self._starting += 1
            self._start_worker()
        with self._cond:
            while len(self._all) < count and self._starting:
                self._cond.wait(timeout=1)

    def invoke(self, event: Any) -> Invocation:
        """Run the handler once with `event` in an idle worker."""
        worker = self._acquire()
        cold = not worker.used
        started = time.perf_counter()
        try:
            payload, error = worker.call(event, self.timeout)
        except (EOFError, OSError, BrokenPipeError) as e:
            payload, error = None, {"errorType": "Runtime.ExitError", "errorMessage": str(e)}
            worker.stop()
        worker.used = True
        self._release(worker)
        return Invocation(payload, error, (time.perf_counter() - started) * 1000, cold)

    def _acquire(self) -> _Worker:
        asked = time.monotonic()
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the runtime is stopping")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        return worker
                    self._all.remove(worker)
                until_growth = self.grow_after - (time.monotonic() - asked)
                if (not self._starting and len(self._all) < self.max_workers
                        and (not self._all or until_growth <= 0)):
                    self._starting += 1
                    threading.Thread(target=self._start_worker, daemon=True,
                                     name=f"start:{self.spec.name}").start()
                self._cond.wait(timeout=until_growth if 0 < until_growth < 1 else 1)

    def _start_worker(self) -> None:
        """Start a worker, wait for its handler's import, then offer it as idle."""
        worker, ready = None, False
        try:
            worker = _Worker(self.spec, self.env, self.log_path, self.role)
            with self._cond:
                self._booting.append(worker)
            ready = worker.wait_ready()
        finally:
            with self._cond:
                self._starting -= 1
                if worker in self._booting:
                    self._booting.remove(worker)
                if worker is not None and ready and not self._closed:
                    self._all.append(worker)
                    self._idle.append(worker)
                elif worker is not None:
                    worker.stop()
                self._cond.notify_all()

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            if worker.alive():
                self._idle.append(worker)
            elif worker in self._all:
                self._all.remove(worker)
            self._cond.notify()

    def close(self) -> None:
        """Stop every worker."""
        with self._cond:
            self._closed = True
            workers = [*self._all, *self._booting]
            self._all, self._idle = [], []
            self._cond.notify_all()
        for worker in workers:  # every worker drains its output at once, then each is joined
            worker.conn.close()
        for worker in workers:
            worker.stop(grace=2)
