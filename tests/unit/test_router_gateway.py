"""The local router applies the template's authorizer identity sources, stage throttling and
API Gateway's payload limit, answering with API Gateway's own bodies."""

from __future__ import annotations

import json
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

    def __init__(self, authorized: bool = True) -> None:
        self.provisioned = _Provisioned()
        self.authorized = authorized
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def invoke(self, arn: str, event: dict[str, Any], **_: Any) -> Invocation:
        self.calls.append((arn, event))
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
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/private"
        response = requests.get(url, data=b"x" * (10 * 1024 * 1024 + 1),
                                headers={"Authorization": "Bearer ok"}, timeout=30)
        assert response.status_code == 413
        assert response.json() == {"message": "Request Entity Too Large"}
        assert lambdas.calls == []
        just_fits = requests.get(url, data=b"x" * (10 * 1024 * 1024),
                                 headers={"Authorization": "Bearer ok"}, timeout=30)
        assert just_fits.status_code == 200
    finally:
        server.shutdown()
        server.server_close()
