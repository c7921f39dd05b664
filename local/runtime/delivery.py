"""Every way a Lambda gets invoked locally: moto's own calls, plus what moto does not deliver."""

from __future__ import annotations

import base64
import copy
import gzip
import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from local.runtime import limits
from local.runtime.iam.invoke import Caller, InvokePermissions
from local.runtime.provision import Provisioned
from local.runtime.schedule import Schedule
from local.runtime.workers import FunctionPool, Invocation

Log = Callable[[str], None]
ASYNC_RETRY_DELAYS = (0.5, 1.0)
_REGION, _ACCOUNT = "us-east-1", "123456789012"


class Dispatcher:
    """Routes invocations to function pools; asynchronous sources go through a thread pool."""

    def __init__(self, provisioned: Provisioned, pools: dict[str, FunctionPool], log: Log,
                 sqs: Any = None) -> None:
        self.provisioned = provisioned
        self.pools = pools
        self.log = log
        self.sqs = sqs  # sends to on-failure destinations
        # One queue per function, as Lambda's asynchronous invocations are queued: a backlog of
        # one function (onboarding sagas waiting for Airtable) never delays another's events.
        self._async: dict[str, ThreadPoolExecutor] = {}
        self._async_lock = threading.Lock()
        self._pending: set[Future[Invocation]] = set()
        self._invoke_permissions = InvokePermissions(provisioned.permissions)

    def timeout(self, function: str) -> float:
        """The function's Timeout in seconds (as the template sets it, or a test shortened it)."""
        return self.pools[self.provisioned.function_by_arn(function).name].timeout

    def permits(self, function: str, principal: str, source_arn: str) -> bool:
        """Whether the template's Lambda permissions let a service invoke `function` for one of
        its resources, as Lambda checks before running it; a refusal is logged."""
        refusal = self._invoke_permissions.refusal(
            function, Caller(principal, source_arn, _ACCOUNT))
        if refusal is not None:
            self.log(f"invoke denied: {refusal}")
        return refusal is None

    def invoke(self, function: str, event: Any, *, source: str = "direct",
               quiet: bool = False) -> Invocation:
        """Invoke synchronously (RequestResponse); `quiet` when the caller logs the outcome."""
        spec = self.provisioned.function_by_arn(function)
        result = self.pools[spec.name].invoke(event)
        if quiet:
            return result
        state = "error " + str(result.error.get("errorType")) if result.error else "ok"
        self.log(f"{source:>12} -> {spec.logical_id} {state} "
                 f"{result.duration_ms:.0f}ms{' (cold)' if result.cold else ''}")
        return result

    def invoke_async(self, function: str, event: Any, *, source: str,
                     quiet: bool = False) -> Future[Invocation]:
        """Invoke without waiting (S3, EventBridge, schedules), retrying failures as Lambda does.

        Lambda retries a failed asynchronous invocation (twice, or the function's
        MaximumRetryAttempts), then sends it to its on-failure destination; locally the pauses
        are short (0.5 s, 1 s) instead of one and two minutes.
        """
        name = self.provisioned.function_by_arn(function).name
        if limits.payload_size(event) > limits.ASYNC_PAYLOAD_BYTES:
            # Lambda refuses to queue an asynchronous event over 256 KB: it never runs.
            self.log(f"{source:>12} -> {name} refused: event over {limits.ASYNC_PAYLOAD_BYTES} "
                     "bytes (Lambda's asynchronous payload limit)")
            refused: Future[Invocation] = Future()
            refused.set_result(Invocation(None, {"errorType": "RequestTooLargeException"}, 0.0,
                                          False))
            return refused
        with self._async_lock:
            if name not in self._async:
                self._async[name] = ThreadPoolExecutor(
                    max_workers=self.pools[name].max_workers, thread_name_prefix=f"async:{name}")
            executor = self._async[name]
        future = executor.submit(self._with_retries, function, event, source, quiet)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    def _with_retries(self, function: str, event: Any, source: str,
                      quiet: bool = False) -> Invocation:
        spec = self.provisioned.function_by_arn(function)
        config = self.provisioned.invoke_configs.get(spec.name, {})
        retries = config.get("retries", len(ASYNC_RETRY_DELAYS))
        for attempt in range(retries + 1):
            last = attempt == retries
            result = self.invoke(function, event, source=source, quiet=quiet and not last)
            if result.error is None:
                return result
            if quiet and not last:
                self.log(f"{source:>12} -> {function} error {result.error.get('errorType')}")
            if not last:
                time.sleep(ASYNC_RETRY_DELAYS[min(attempt, len(ASYNC_RETRY_DELAYS) - 1)])
        if config.get("on_failure") and self.sqs is not None:
            self.sqs.send_message(QueueUrl=config["on_failure"], MessageBody=json.dumps(
                _failure_record(spec.arn, event, result, retries + 1), default=str))
            self.log(f"{source:>12} -> {spec.logical_id} retries exhausted: on-failure queue")
        return result

    def drain(self, timeout: float = 30.0) -> None:
        """Wait for the asynchronous invocations in flight (tests use this)."""
        deadline = time.monotonic() + timeout
        for future in list(self._pending):
            future.result(timeout=max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        with self._async_lock:
            executors = list(self._async.values())
        for executor in executors:
            executor.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ moto hooks
    def install_moto_hooks(self) -> Callable[[], None]:
        """Patch moto's four delivery points; returns a function that undoes the patches."""
        from moto.awslambda.models import LambdaBackend, LambdaFunction
        from moto.events.models import Rule
        from moto.s3 import notifications

        dispatcher = self
        originals = (LambdaFunction._invoke_lambda, Rule.send_to_targets,
                     notifications._invoke_awslambda, LambdaBackend.send_log_event)

        def _invoke_lambda(fn: Any, event: Any = None) -> tuple[str, bool, str]:
            return dispatcher.invoke(fn.function_arn, event or {}, source="lambda").moto_result()

        def _s3_notification(account_id: str, event_body: Any, fn_arn: str,
                             region_name: str) -> None:
            # S3 invokes its targets asynchronously; moto would run them inside PutObject.
            bucket = f"arn:aws:s3:::{event_body['Records'][0]['s3']['bucket']['name']}"
            if dispatcher.permits(fn_arn, "s3.amazonaws.com", bucket):
                dispatcher.invoke_async(fn_arn, event_body, source="s3")

        def send_to_targets(rule: Any, event: dict[str, Any], transform_input: bool = True) -> None:
            lambdas = [t for t in rule.targets if ":lambda:" in t["Arn"]]
            if lambdas and rule.event_pattern.matches_event(event):
                for target in lambdas:
                    payload = json.loads(target["Input"]) if target.get("Input") else event
                    if dispatcher.permits(target["Arn"], "events.amazonaws.com", rule.arn):
                        dispatcher.invoke_async(target["Arn"], payload, source="eventbridge")
            others = [t for t in rule.targets if ":lambda:" not in t["Arn"]]
            if others:
                clone = copy.copy(rule)
                clone.targets = others
                originals[1](clone, event, transform_input)

        def send_log_event(backend: Any, function_arn: str, filter_name: str,
                           log_group_name: str, log_stream_name: str, log_events: Any) -> None:
            # CloudWatch Logs invokes its subscription targets asynchronously (moto would run
            # them inside PutLogEvents); quietly, since every request's log lines cause one.
            data = {"messageType": "DATA_MESSAGE", "owner": backend.account_id,
                    "logGroup": log_group_name, "logStream": log_stream_name,
                    "subscriptionFilters": [filter_name], "logEvents": log_events}
            payload = base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()
            group = f"arn:aws:logs:{_REGION}:{backend.account_id}:log-group:{log_group_name}:*"
            if dispatcher.permits(function_arn, "logs.amazonaws.com", group):
                dispatcher.invoke_async(function_arn, {"awslogs": {"data": payload}},
                                        source="logs", quiet=True)

        LambdaFunction._invoke_lambda = _invoke_lambda
        Rule.send_to_targets = send_to_targets
        notifications._invoke_awslambda = _s3_notification
        LambdaBackend.send_log_event = send_log_event

        def undo() -> None:
            (LambdaFunction._invoke_lambda, Rule.send_to_targets,
             notifications._invoke_awslambda, LambdaBackend.send_log_event) = originals

        return undo


def _failure_record(function_arn: str, event: Any, result: Invocation,
                    attempts: int) -> dict[str, Any]:
    """What Lambda sends to an on-failure destination once an event's retries are exhausted."""
    return {"version": "1.0", "timestamp": datetime.now(UTC).isoformat(),
            "requestContext": {"requestId": str(uuid.uuid4()),
                               "functionArn": f"{function_arn}:$LATEST",
                               "condition": "RetriesExhausted",
                               "approximateInvokeCount": attempts},
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                                "functionError": "Unhandled"},
            "responsePayload": result.error}


class Scheduler(threading.Thread):
    """Fires the template's Schedule events (moto stores schedules but never fires them)."""

    def __init__(self, provisioned: Provisioned, dispatcher: Dispatcher) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.dispatcher = dispatcher
        self.rules = {r["name"]: (Schedule.parse(r["expression"]), r["targets"])
                      for r in provisioned.schedules}
        self._next = {name: sched.next_after(datetime.now(UTC))
                      for name, (sched, _) in self.rules.items()}
        self._stop = threading.Event()

    def fire(self, name: str, when: datetime | None = None) -> list[Future[Invocation]]:
        """Deliver rule `name`'s scheduled event now, as EventBridge would at its time."""
        _, targets = self.rules[name]
        when = when or datetime.now(UTC)
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                 "source": "aws.events", "account": "123456789012",
                 "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us-east-1",
                 "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{name}"],
                 "detail": {}}
        rule_arn = event["resources"][0]
        return [self.dispatcher.invoke_async(
            t["Arn"], json.loads(t["Input"]) if t.get("Input") else event, source="schedule")
            for t in targets
            if self.dispatcher.permits(t["Arn"], "events.amazonaws.com", rule_arn)]

    def run(self) -> None:
        while not self._stop.wait(1.0):
            now = datetime.now(UTC)
            for name, due in list(self._next.items()):
                if due <= now:
                    self.fire(name, due)
                    self._next[name] = self.rules[name][0].next_after(now)

    def stop(self) -> None:
        self._stop.set()


class QueuePoller(threading.Thread):
    """Lambda's SQS event source mapping: batches, partial failures, retries and redrive."""

    def __init__(self, mapping: dict[str, Any], sqs: Any, dispatcher: Dispatcher,
                 retry_delay: int) -> None:
        super().__init__(name=f"sqs:{mapping['function']}", daemon=True)
        self.mapping = mapping
        self.sqs = sqs
        self.dispatcher = dispatcher
        self.retry_delay = retry_delay
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception as e:  # the poller must survive a moto hiccup, as Lambda's does
                self.dispatcher.log(f"sqs poller error: {type(e).__name__}: {e}")
                self._stop.wait(1.0)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Receive one batch and deliver it; returns how many messages were received."""
        url = self.mapping["queue_url"]
        received = self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=self.mapping["batch_size"],
            WaitTimeSeconds=wait_seconds, AttributeNames=["All"],
            MessageAttributeNames=["All"]).get("Messages", [])
        if not received:
            return 0
        event = {"Records": [self._record(m) for m in received]}
        result = self.dispatcher.invoke(self.mapping["function"], event, source="sqs")
        failed: set[str] = {m["MessageId"] for m in received}
        if result.error is None:
            reported = (result.payload or {}).get("batchItemFailures", []) \
                if self.mapping["report_failures"] and isinstance(result.payload, dict) else []
            failed = {f["itemIdentifier"] for f in reported}
        for message in received:
            if message["MessageId"] in failed:
                # Local shortcut: retry after `retry_delay` instead of the queue's full
                # visibility timeout; the receive count (and so the redrive) is moto's.
                self.sqs.change_message_visibility(QueueUrl=url,
                                                   ReceiptHandle=message["ReceiptHandle"],
                                                   VisibilityTimeout=self.retry_delay)
            else:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(received)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"], "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs",
                "eventSourceARN": self.mapping["queue_arn"], "awsRegion": "us-east-1"}

    def stop(self) -> None:
        self._stop.set()
