"""The local router applies the template's authorizer identity sources, stage throttling and
API Gateway's payload limit, answering with API Gateway's own bodies."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from local.runtime.intrinsics import Resolver
from local.runtime.router import Gateway, HttpApi, Throttle, TokenBucket
from local.runtime.template import load_stack
from local.runtime.workers import Invocation

ACCOUNT = "123456789012"
AUTHORIZER_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:authorizer"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:service"

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: $default
{stage}
      Auth:
        DefaultAuthorizer: Gate
        Authorizers:
          Gate:
            FunctionArn: {authorizer}
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
            Identity:
{identity}
              ReauthorizeEvery: 0
  Service:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: service/
      Handler: app.handler
      Runtime: python3.11
      Events:
        Private: {{Type: HttpApi, Properties: {{ApiId: !Ref Api, Method: GET, Path: /private}}}}
        Other: {{Type: HttpApi, Properties: {{ApiId: !Ref Api, Method: GET, Path: /other}}}}
"""


class _Spec:
    def __init__(self, arn: str) -> None:
        self.logical_id = arn.rsplit(":", 1)[-1]


class _Provisioned:
    def function_by_arn(self, arn: str) -> _Spec:
        return _Spec(arn)


class RecordingLambdas:
    """Stands in for the worker pools: records each invocation, answers as told."""

    def __init__(self, authorized: bool = True, permitted: bool = True,
                 answer: Invocation | None = None, seconds: float = 0.0) -> None:
        self.provisioned = _Provisioned()
        self.authorized = authorized
        self.permitted = permitted
        self.answer = answer  # the service function's answer (default: its authorizer context)
        self.seconds = seconds  # how long the service function runs
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def timeout(self, arn: str) -> float:
        return 60.0  # the service's Timeout, longer than API Gateway waits

    def permits(self, arn: str, principal: str, source_arn: str) -> bool:
        assert principal == "apigateway.amazonaws.com"
        return self.permitted

    def invoke(self, arn: str, event: dict[str, Any], **_: Any) -> Invocation:
        self.calls.append((arn, event))
        if arn != AUTHORIZER_ARN and self.seconds:
            time.sleep(self.seconds)
        if arn != AUTHORIZER_ARN and self.answer is not None:
            return self.answer
        if arn == AUTHORIZER_ARN:
            payload: Any = {"isAuthorized": self.authorized, "context": {"user_id": "u1"}}
        else:
            payload = {"statusCode": 200, "body": json.dumps(event["requestContext"]
                                                             .get("authorizer"))}
        return Invocation(payload=payload, error=None, duration_ms=1.0, cold=False)

    def invoked(self, arn: str) -> list[dict[str, Any]]:
        return [event for called, event in self.calls if called == arn]


def _api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, identity: str,
         stage: str = "") -> HttpApi:
    """The HttpApi the runtime would build from this SAM template (translated by SAM)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    (tmp_path / "service").mkdir()
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE.format(identity=identity, stage=stage, authorizer=AUTHORIZER_ARN),
                    encoding="utf-8")
    stack = load_stack(path, "t", {}, "us-east-1", ACCOUNT)
    resolver = Resolver(stack.parameters, stack.conditions)
    resolver.attrs["Service"] = {"Arn": FUNCTION_ARN}
    resolver.refs["Api"] = "localapi"
    resources = stack.resources
    body = resolver.resolve(resources["Api"]["Properties"]["Body"])
    stage_props = next((resolver.resolve(r["Properties"]) for r in resources.values()
                        if r["Type"] == "AWS::ApiGatewayV2::Stage"), None)
    return HttpApi(body, stage_props)


def _get(gateway: Gateway, path: str, headers: dict[str, str] | None = None,
         ) -> tuple[int, dict[str, Any]]:
    status, _, body, _ = gateway.handle("GET", path, (headers or {}).items(), b"", "127.0.0.1")
    return status, json.loads(body)


def test_a_missing_identity_source_is_401_without_calling_the_authorizer(tmp_path, monkeypatch):
    api = _api(tmp_path, monkeypatch, "              Headers: [X-Tenant-Token]")
    lambdas = RecordingLambdas()
    gateway = Gateway(api, lambdas, log=lambda _: None)  # type: ignore[arg-type]
    # Authorization means nothing to this template: only its identity source counts.
    assert _get(gateway, "/private", {"Authorization": "Bearer x"}) == (
        401, {"message": "Unauthorized"})
    assert _get(gateway, "/private", {"X-Tenant-Token": ""}) == (401, {"message": "Unauthorized"})
    assert lambdas.calls == []


def test_present_identity_sources_reach_the_authorizer_and_its_context_the_function(
        tmp_path, monkeypatch):
    api = _api(tmp_path, monkeypatch, "              Headers: [X-Tenant-Token]\n"
                                      "              QueryStrings: [tenant]")
    lambdas = RecordingLambdas()
    gateway = Gateway(api, lambdas, log=lambda _: None)  # type: ignore[arg-type]
    assert _get(gateway, "/private", {"X-Tenant-Token": "t1"})[0] == 401  # no ?tenant=
    status, body = _get(gateway, "/private?tenant=acme", {"X-Tenant-Token": "t1"})
    assert (status, body) == (200, {"lambda": {"user_id": "u1"}})
    [auth_event] = lambdas.invoked(AUTHORIZER_ARN)
    assert auth_event["type"] == "REQUEST"
    assert sorted(auth_event["identitySource"]) == ["acme", "t1"]


def test_credentials_the_authorizer_refuses_are_403(tmp_path, monkeypatch):
    api = _api(tmp_path, monkeypatch, "              Headers: [Authorization]")
    lambdas = RecordingLambdas(authorized=False)
    gateway = Gateway(api, lambdas, log=lambda _: None)  # type: ignore[arg-type]
    assert _get(gateway, "/private", {"Authorization": "Bearer nope"}) == (
        403, {"message": "Forbidden"})
    assert lambdas.invoked(FUNCTION_ARN) == []


def test_stage_default_route_throttling_answers_429_per_route(tmp_path, monkeypatch):
    stage = ("      DefaultRouteSettings:\n"
             "        ThrottlingBurstLimit: 2\n"
             "        ThrottlingRateLimit: 0.001")
    api = _api(tmp_path, monkeypatch, "              Headers: [Authorization]", stage)
    assert api.default_throttle == Throttle(rate=0.001, burst=2)
    gateway = Gateway(api, RecordingLambdas(), log=lambda _: None)  # type: ignore[arg-type]
    auth = {"Authorization": "Bearer ok"}
    assert [_get(gateway, "/private", auth)[0] for _ in range(2)] == [200, 200]
    assert _get(gateway, "/private", auth) == (429, {"message": "Too Many Requests"})
    # Throttling comes before authorization: requests without credentials count too.
    assert _get(gateway, "/private") == (429, {"message": "Too Many Requests"})
    assert _get(gateway, "/other", auth)[0] == 200  # each route has its own bucket


def test_token_bucket_refills_at_the_rate_up_to_the_burst():
    now = [0.0]
    bucket = TokenBucket(Throttle(rate=2, burst=3), clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] = 0.5  # one token back
    assert [bucket.take(), bucket.take()] == [True, False]
    now[0] = 100.0  # never more than the burst
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_a_body_over_10_mb_is_413_before_any_function_runs(tmp_path, monkeypatch):
    api = _api(tmp_path, monkeypatch, "              Headers: [Authorization]")
    lambdas = RecordingLambdas()
    server = Gateway(api, lambdas, log=lambda _: None).serve("127.0.0.1", 0)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/private"
        response = requests.get(url, data=b"x" * (10 * 1024 * 1024 + 1),
                                headers={"Authorization": "Bearer ok"}, timeout=30)
        assert response.status_code == 413
        assert response.json() == {"message": "Request Entity Too Large"}
        assert lambdas.calls == []
        # Under API Gateway's 10 MB, a body whose event is over Lambda's 6 MB is 413 too.
        over_lambda = requests.get(url, data=b"x" * (7 * 1024 * 1024),
                                   headers={"Authorization": "Bearer ok"}, timeout=30)
        assert over_lambda.status_code == 413
        assert over_lambda.json() == {"message": "Request Entity Too Large"}
        assert lambdas.invoked(FUNCTION_ARN) == []
        # A binary body reaches the function base64-encoded: 5 MB of it no longer fits, 4 MB does.
        binary = {"Authorization": "Bearer ok", "Content-Type": "application/octet-stream"}
        assert requests.get(url, data=b"x" * (5 * 1024 * 1024), headers=binary,
                            timeout=30).status_code == 413
        assert requests.get(url, data=b"x" * (4 * 1024 * 1024), headers=binary,
                            timeout=30).status_code == 200
    finally:
        server.shutdown()
        server.server_close()


def test_a_response_over_lambdas_6_mb_is_502_with_api_gateways_body(tmp_path, monkeypatch):
    from local.runtime.limits import response_too_large

    api = _api(tmp_path, monkeypatch, "              Headers: [Authorization]")
    too_large = Invocation(None, response_too_large(7 * 1024 * 1024), 1.0, False)
    gateway = Gateway(api, RecordingLambdas(answer=too_large), log=lambda _: None)  # type: ignore[arg-type]
    assert _get(gateway, "/private", {"Authorization": "Bearer ok"}) == \
        (502, {"message": "Internal Server Error"})


def test_a_function_slower_than_the_integration_timeout_is_503(tmp_path, monkeypatch):
    api = _api(tmp_path, monkeypatch, "              Headers: [Authorization]")
    gateway = Gateway(api, RecordingLambdas(seconds=1.0), log=lambda _: None)  # type: ignore[arg-type]
    gateway.integration_timeout = 0.1  # API Gateway's 30 s, scaled down
    assert _get(gateway, "/private", {"Authorization": "Bearer ok"}) == \
        (503, {"message": "Service Unavailable"})


def test_a_route_whose_function_grants_api_gateway_no_invoke_permission_is_500(
        tmp_path, monkeypatch):
    api = _api(tmp_path, monkeypatch, "              Headers: [Authorization]")
    lambdas = RecordingLambdas(permitted=False)
    gateway = Gateway(api, lambdas, log=lambda _: None)  # type: ignore[arg-type]
    assert _get(gateway, "/private", {"Authorization": "Bearer ok"}) == \
        (500, {"message": "Internal Server Error"})
    assert lambdas.calls == []
