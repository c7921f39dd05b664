"""Idempotency as Powertools documents it: the invocation's deadline bounds an in-progress key,
and a failing store is an upstream error, never a 500."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from common.core import idempotency
from common.core.aws import client
from common.core.http import create_app
from common.core.lambda_handlers import http_handler
from common.core.observability import metrics
from common.core.settings import get_settings

TABLE = "cache"
_ENV = {"EVENT_BUS_NAME": "bus", "JWT_SECRET_ARN": "jwt", "CACHE_TABLE_NAME": TABLE,
        "UPLOADS_BUCKET_NAME": "uploads",
        "DIAGNOSTICS_STATE_MACHINE_ARN": "sm", "TOKEN_KEY_ID": "key",
        "DATABASE_URL": "sqlite://", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class Killed(BaseException):
    """Lambda ending a sandbox at its deadline: no `except Exception` gets to clean up."""


class Context:
    function_name = "things"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:things"
    memory_limit_in_mb = 128
    aws_request_id = "req"

    def __init__(self, remaining_ms: int) -> None:
        self.deadline = time.time() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


class PowertoolsClock:
    """Powertools' idempotency reads the time as `dt.datetime.now()` in its modules: this moves
    that time forward by hand, so a deadline passes without sleeping or racing a busy machine."""

    MODULES = ("base", "persistence.base", "persistence.dynamodb", "persistence.datarecord")

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import datetime as dt
        import importlib
        import types

        shift = self.shift = [dt.timedelta()]

        class Later(dt.datetime):
            @classmethod
            def now(cls, tz: Any = None) -> dt.datetime:  # type: ignore[override]
                return dt.datetime.now(tz) + shift[0]

        shim = types.SimpleNamespace(**{**vars(dt), "datetime": Later})
        for name in self.MODULES:
            module = importlib.import_module(
                f"aws_lambda_powertools.utilities.idempotency.{name}")
            monkeypatch.setattr(module, "dt", shim)

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass for Powertools (the invocations' own contexts stay put)."""
        import datetime as dt

        self.shift[0] += dt.timedelta(seconds=seconds)


def _reset_caches() -> None:
    for cached in (get_settings, client, idempotency._persistence, idempotency._once):
        cached.cache_clear()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in _ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr(metrics, "namespace", "Test")
    with mock_aws():
        _reset_caches()
        yield
    _reset_caches()


def _create_table() -> None:
    boto3.client("dynamodb").create_table(
        TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")


def _handler(work) -> Any:
    app = create_app("things")

    @app.post("/things")
    def create_thing():
        body = app.current_event.json_body
        return idempotency.run_once("things.create", "user-1",
                                    app.current_event.headers.get("idempotency-key"), body,
                                    lambda: work(body))

    return http_handler(app)


def _post(handler: Any, context: Context, key: str = "k1") -> dict[str, Any]:
    event = {"version": "2.0", "routeKey": "$default", "rawPath": "/things",
             "rawQueryString": "", "headers": {"idempotency-key": key},
             "body": json.dumps({"name": "x"}), "isBase64Encoded": False,
             "requestContext": {"http": {"method": "POST", "path": "/things"},
                                "requestId": "r", "stage": "$default"}}
    return handler(event, context)


def test_a_timed_out_request_holds_its_key_only_until_its_deadline(aws, monkeypatch):
    _create_table()
    clock = PowertoolsClock(monkeypatch)
    runs: list[str] = []

    def work(body: dict[str, Any]) -> dict[str, Any]:
        runs.append(body["name"])
        if len(runs) == 1:
            raise Killed
        return {"created": len(runs)}

    handler = _handler(work)
    with pytest.raises(Killed):
        _post(handler, Context(remaining_ms=60_000))
    # While the first invocation could still be running, a retry is told so.
    in_progress = _post(handler, Context(remaining_ms=10_000))
    assert in_progress["statusCode"] == 409
    clock.advance(30)  # half way to its deadline
    assert _post(handler, Context(remaining_ms=10_000))["statusCode"] == 409
    clock.advance(31)  # past the first invocation's deadline (not an hour later)
    retried = _post(handler, Context(remaining_ms=10_000))
    assert retried["statusCode"] == 200, retried
    assert json.loads(retried["body"]) == {"created": 2}
    replay = _post(handler, Context(remaining_ms=10_000))
    assert json.loads(replay["body"]) == {"created": 2} and len(runs) == 2


def test_config_and_persistence_are_built_once_per_process(aws):
    _create_table()
    handler = _handler(lambda body: {"ok": True})
    _post(handler, Context(remaining_ms=5_000), key="a")
    persistence, once = idempotency._persistence(), idempotency._once()
    context = Context(remaining_ms=5_000)
    _post(handler, context, key="b")
    assert idempotency._persistence() is persistence and idempotency._once() is once
    assert idempotency.config().lambda_context is context


def test_a_failing_idempotency_store_is_a_502_upstream_error(aws):
    # No table: every DynamoDB call fails.
    handler = _handler(lambda body: {"ok": True})
    response = _post(handler, Context(remaining_ms=5_000))
    assert response["statusCode"] == 502
    assert json.loads(response["body"])["error"]["code"] == "upstream_error"
