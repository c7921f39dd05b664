"""The local runtime's pure parts: route selection, schedules, intrinsic functions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from local.runtime.intrinsics import Resolver, dependencies
from local.runtime.router import HttpApi, Route
from local.runtime.schedule import Schedule

ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}"
URI = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{}/invocations"


def _api(*routes: tuple[str, str, str]) -> HttpApi:
    paths: dict = {}
    for method, path, fn in routes:
        verb = "x-amazon-apigateway-any-method" if method == "ANY" else method.lower()
        paths.setdefault(path, {})[verb] = {
            "x-amazon-apigateway-integration": {"uri": URI.format(ARN.format(fn))},
            "security": [{"NONE": []}]}
    return HttpApi({"paths": paths})


def test_exact_route_beats_greedy_and_method_beats_any():
    api = _api(("ANY", "/api/auth/{proxy+}", "private"), ("POST", "/api/auth/login", "login"),
               ("ANY", "/api/auth/login", "any-login"), ("ANY", "$default", "fallback"))
    assert api.find("POST", "/api/auth/login")[0].function_arn.endswith("login")
    assert api.find("GET", "/api/auth/login")[0].function_arn.endswith("any-login")
    route, params = api.find("GET", "/api/auth/sessions/abc")
    assert route.key == "ANY /api/auth/{proxy+}" and params == {"proxy": "sessions/abc"}
    assert api.find("GET", "/elsewhere")[0].key == "$default"


def test_greedy_path_needs_at_least_one_segment_and_params_match_one():
    route = Route("GET", "/api/files/{proxy+}", ARN.format("f"), None)
    assert route.match("GET", "/api/files") is None
    assert route.match("GET", "/api/files/a/b") == {"proxy": "a/b"}
    hook = Route("POST", "/api/workflows/hooks/{workflow_id}", ARN.format("w"), None)
    assert hook.match("POST", "/api/workflows/hooks/wf1") == {"workflow_id": "wf1"}
    assert hook.match("POST", "/api/workflows/hooks/wf1/extra") is None
    assert hook.match("GET", "/api/workflows/hooks/wf1") is None


def test_no_route_and_no_default_means_none():
    assert _api(("GET", "/a", "f")).find("GET", "/b") is None


@pytest.mark.parametrize(("expression", "now", "expected"), [
    ("rate(15 minutes)", datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
     datetime(2026, 1, 1, 12, 15, tzinfo=UTC)),
    ("cron(0/15 * * * ? *)", datetime(2026, 1, 1, 12, 7, 30, tzinfo=UTC),
     datetime(2026, 1, 1, 12, 15, tzinfo=UTC)),
    ("cron(30 9 ? * MON-FRI *)", datetime(2026, 11, 27, 10, 0, tzinfo=UTC),  # a Friday
     datetime(2026, 11, 30, 9, 30, tzinfo=UTC)),
    ("cron(0 0 1 JAN ? *)", datetime(2026, 6, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
])
def test_schedule_expressions_fire_when_eventbridge_would(expression, now, expected):
    assert Schedule.parse(expression).next_after(now) == expected


@pytest.mark.parametrize("expression", ["rate(0 minutes)", "rate(5 weeks)", "cron(* * *)",
                                        "cron(61 * * * ? *)", "every 5 minutes"])
def test_invalid_schedule_expressions_are_rejected(expression):
    with pytest.raises(ValueError):
        Schedule.parse(expression)


def test_intrinsics_resolve_refs_attributes_subs_and_conditions():
    resolver = Resolver({"Stage": "dev", "AWS::Region": "us-east-1", "Empty": ""},
                        {"IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]},
                         "HasEmpty": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Empty"}, ""]}]}})
    resolver.refs["Queue"] = "https://queue"
    resolver.attrs["Fn"] = {"Arn": "arn:fn"}
    value = {"A": {"Fn::Sub": "${Stage}-${Fn.Arn}-${AWS::Region}"},
             "B": {"Fn::If": ["IsDev", {"Ref": "Queue"}, "no"]},
             "C": {"Fn::If": ["HasEmpty", "x", {"Ref": "AWS::NoValue"}]},
             "D": {"Fn::Join": [",", ["a", {"Ref": "Stage"}]]},
             "E": [{"Fn::GetAtt": ["Fn", "Arn"]}, {"Fn::Select": [1, ["x", "y"]]}]}
    assert resolver.resolve(value) == {"A": "dev-arn:fn-us-east-1", "B": "https://queue",
                                       "D": "a,dev", "E": ["arn:fn", "y"]}


def test_dependencies_are_found_in_refs_getatts_and_subs():
    value = {"Fn::Sub": ["${Bucket}/${Fn.Arn}/${AWS::Region}/${Local}", {"Local": {"Ref": "X"}}]}
    assert dependencies(value) == {"Bucket", "Fn", "AWS::Region", "X"}
