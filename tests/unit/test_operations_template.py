"""What an operator gets from the SAM-translated template: alarms, logs, dead letters, dashboard."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from local import operations_template
from local.runtime.template import load_stack

ROOT = Path(__file__).resolve().parents[2]
ALARM = "AWS::CloudWatch::Alarm"


@pytest.fixture(scope="module")
def resources() -> dict[str, dict[str, Any]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        stack = load_stack(ROOT / "template.yaml", "pyat", {
            "DatabaseSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db",
            "AdminEmails": "admin@example.com"},
            "us-east-1", "123456789012")
    return stack.resources


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in resources.items() if r["Type"] == kind}


def _alarms(resources: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in _of_type(resources, ALARM).values()]


def _metrics_of(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """Every metric an alarm reads (its own, or those of its metric math)."""
    if "MetricName" in alarm:
        return [{k: alarm[k] for k in ("Namespace", "MetricName", "Dimensions") if k in alarm}]
    return [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m]


def _watching(resources: dict[str, Any], dimension: str, value: Any) -> list[dict[str, Any]]:
    return [(metric["MetricName"], alarm) for alarm in _alarms(resources)
            for metric in _metrics_of(alarm)
            if {"Name": dimension, "Value": value} in metric.get("Dimensions", [])]


def test_the_generated_section_is_what_the_script_writes():
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert operations_template.section_of(text) == operations_template.generate(text), \
        "run `make operations-template`"


def test_every_function_has_error_throttle_and_duration_alarms(resources):
    for lid, fn in _of_type(resources, "AWS::Lambda::Function").items():
        watched = dict(_watching(resources, "FunctionName", {"Ref": lid}))
        assert {"Errors", "Throttles", "Duration"} <= watched.keys(), lid
        timeout_ms = fn["Properties"]["Timeout"] * 1000
        assert watched["Duration"]["Threshold"] == int(timeout_ms * 0.8), lid


def test_every_alarm_notifies_the_topic_and_says_what_to_do_in_its_name(resources):
    for alarm in _alarms(resources):
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        name = alarm["AlarmName"]["Fn::Sub"]
        assert re.search(r"-(read|check|inspect|open|replay|add)-", name), name


def test_every_dead_letter_queue_has_a_not_empty_alarm(resources):
    queues = _of_type(resources, "AWS::SQS::Queue")
    dead_letters = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                    for q in queues.values() if "RedrivePolicy" in q["Properties"]}
    destinations = {c["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
                    ["Fn::GetAtt"][0]
                    for c in _of_type(resources, "AWS::Lambda::EventInvokeConfig").values()}
    assert dead_letters and destinations
    for queue in dead_letters | destinations:
        watched = _watching(resources, "QueueName", {"Fn::GetAtt": [queue, "QueueName"]})
        assert [alarm["Threshold"] for name, alarm in watched
                if name == "ApproximateNumberOfMessagesVisible"] == [0], queue


def test_every_state_machine_alarms_on_failed_executions_and_logs(resources):
    groups = _of_type(resources, "AWS::Logs::LogGroup")
    for lid, machine in _of_type(resources, "AWS::StepFunctions::StateMachine").items():
        watched = {name for name, _ in _watching(resources, "StateMachineArn", {"Ref": lid})}
        assert {"ExecutionsFailed", "ExecutionsTimedOut"} <= watched, lid
        logging = machine["Properties"]["LoggingConfiguration"]
        express = machine["Properties"].get("StateMachineType") == "EXPRESS"
        assert logging["Level"] == ("ALL" if express else "ERROR"), lid
        assert logging["IncludeExecutionData"] is False
        [destination] = logging["Destinations"]
        assert destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0] in groups


def test_every_log_group_expires_and_every_function_has_one(resources):
    groups = _of_type(resources, "AWS::Logs::LogGroup")
    for lid, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, lid
    names = {json.dumps(g["Properties"]["LogGroupName"]) for g in groups.values()}
    for lid in _of_type(resources, "AWS::Lambda::Function"):
        assert json.dumps({"Fn::Sub": f"/aws/lambda/${{{lid}}}"}) in names, lid


def test_the_http_api_writes_an_access_log_without_tokens(resources):
    [stage] = _of_type(resources, "AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["AccessLogSettings"]
    line = json.loads(settings["Format"])
    assert {"requestId", "routeKey", "status", "latency", "callerId"} <= line.keys()
    assert "authorization" not in settings["Format"].lower()
    assert settings["DestinationArn"]["Fn::GetAtt"][0] in _of_type(resources,
                                                                    "AWS::Logs::LogGroup")


def _async_targets(resources: dict[str, Any]) -> set[str]:
    """Functions that EventBridge, S3 or CloudWatch Logs invoke asynchronously."""
    targets = {t["Arn"]["Fn::GetAtt"][0] for r in _of_type(resources, "AWS::Events::Rule")
               .values() for t in r["Properties"]["Targets"]}
    targets |= {c["Function"]["Fn::GetAtt"][0] for b in _of_type(resources, "AWS::S3::Bucket")
                .values() for c in b["Properties"].get("NotificationConfiguration", {})
                .get("LambdaConfigurations", [])}
    targets |= {f["Properties"]["DestinationArn"]["Fn::GetAtt"][0]
                for f in _of_type(resources, "AWS::Logs::SubscriptionFilter").values()}
    return targets


def test_every_asynchronous_invoke_has_an_on_failure_destination(resources):
    configs = {c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
               for c in _of_type(resources, "AWS::Lambda::EventInvokeConfig").values()}
    targets = _async_targets(resources)
    assert {"HousekeepingFunction", "FilesProcessorFunction", "UsageAggregatorFunction",
            "SagaTasksFunction"} <= targets
    for lid in targets:
        assert "Destination" in configs[lid]["DestinationConfig"]["OnFailure"], lid
    for lid, rule in _of_type(resources, "AWS::Events::Rule").items():
        for target in rule["Properties"]["Targets"]:
            assert "Arn" in target["DeadLetterConfig"], lid


def _emitted_metric_names() -> list[re.Pattern[str]]:
    """Names the code passes to Powertools metrics (constants and f-strings resolved)."""
    patterns: list[re.Pattern[str]] = []
    for path in [*(ROOT / "layers/common/common").rglob("*.py"), *(ROOT / "functions").rglob(
            "*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {t.id: n.value.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                     and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
                     for t in n.targets if isinstance(t, ast.Name)}
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            func = call.func.attr if isinstance(call.func, ast.Attribute) else \
                getattr(call.func, "id", "")
            name = next((k.value for k in call.keywords if k.arg == "name"), None) \
                if func in ("add_metric", "single_metric") else \
                (call.args[0] if func in ("_per_base", "own_line") and call.args else None)
            if isinstance(name, ast.Constant):
                patterns.append(re.compile(re.escape(name.value)))
            elif isinstance(name, ast.Name) and name.id in constants:
                patterns.append(re.compile(re.escape(constants[name.id])))
            elif isinstance(name, ast.JoinedStr):
                patterns.append(re.compile("".join(
                    re.escape(v.value) if isinstance(v, ast.Constant) else r"\w+"
                    for v in name.values)))
    return patterns


def _platform_metrics_read(resources: dict[str, Any]) -> set[str]:
    names = {m["MetricName"] for alarm in _alarms(resources) for m in _metrics_of(alarm)
             if m.get("Namespace") == operations_template.NAMESPACE}
    names |= {n for alarm in _alarms(resources) for m in alarm.get("Metrics", [])
              for n in re.findall(r"SUM\((\w+)\)", str(m.get("Expression", "")))}
    [dashboard] = _of_type(resources, "AWS::CloudWatch::Dashboard").values()
    body = json.loads(dashboard["Properties"]["DashboardBody"]["Fn::Sub"])
    for widget in body["widgets"]:
        for row in widget["properties"].get("metrics", []):
            if row[0] == operations_template.NAMESPACE:
                names.add(row[1])
            elif isinstance(row[0], dict):
                names |= set(re.findall(r'MetricName="(\w+)"', row[0]["expression"]))
    return names


def test_alarms_and_dashboard_read_only_metrics_the_code_emits(resources):
    emitted = _emitted_metric_names()
    read = _platform_metrics_read(resources)
    assert {"Requests", "Responses5xx", "ApiLatency", "AirtableRequests", "Airtable429s",
            "EventsLost"} <= read
    for name in read:
        assert any(p.fullmatch(name) for p in emitted), f"{name} is read but never emitted"


def test_the_dashboard_shows_every_machine_queue_and_service(resources):
    [dashboard] = _of_type(resources, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    for lid in [*_of_type(resources, "AWS::StepFunctions::StateMachine"),
                *_of_type(resources, "AWS::SQS::Queue")]:
        assert f"${{{lid}" in body, lid
    assert "@initDuration" in body


def test_public_auth_routes_and_heavy_starts_have_their_own_throttles(resources):
    [stage] = _of_type(resources, "AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["RouteSettings"]
    [api] = _of_type(resources, "AWS::ApiGatewayV2::Api").values()
    routes = {f"{method.upper()} {path}" for path, operations in api["Properties"]["Body"]
              ["paths"].items() for method in operations}
    assert set(settings) <= routes, set(settings) - routes  # a typo would throttle nothing
    for route in ("POST /api/auth/login", "POST /api/auth/register", "POST /api/sagas",
                  "POST /api/files/{file_id}/import"):
        assert settings[route]["ThrottlingRateLimit"] in (
            {"Ref": "AuthRouteRateLimit"}, {"Ref": "StartRouteRateLimit"}), route


def test_import_export_and_saga_tasks_have_reserved_concurrency(resources):
    for lid in ("FileJobsFunction", "SagaTasksFunction"):
        reserved = resources[lid]["Properties"]["ReservedConcurrentExecutions"]
        assert reserved["Fn::If"][1]["Ref"].endswith("ReservedConcurrency"), lid
