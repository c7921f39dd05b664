"""AWS's payload limits, enforced locally: Lambda's 6 MB responses, and the calls a function
makes over EventBridge's, Step Functions' and Lambda's request limits."""

from __future__ import annotations

import json
import os

import boto3
import pytest

from local.runtime.iam.hook import Role, register
from local.runtime.iam.policy import Policy
from local.runtime.limits import call_refusal, put_events_size
from local.runtime.provision import FunctionSpec
from local.runtime.workers import FunctionPool

_LARGE = '''
def lambda_handler(event, context):
    return {"statusCode": 200, "body": "x" * event["bytes"]}
'''


def test_a_response_over_6_mb_is_lambdas_response_size_error(tmp_path) -> None:
    (tmp_path / "app.py").write_text(_LARGE)
    spec = FunctionSpec(logical_id="Fn", name="fn", arn="arn:aws:lambda:us-east-1:1:function:fn",
                        code_dir=tmp_path, handler="app.lambda_handler", layer_dirs=[],
                        environment={}, timeout=30)
    pool = FunctionPool(spec, {"PATH": os.environ.get("PATH", "")},
                        log_path=str(tmp_path / "workers.log"))
    try:
        too_large = pool.invoke({"bytes": 7 * 1024 * 1024})
        fits = pool.invoke({"bytes": 5 * 1024 * 1024})
    finally:
        pool.close()
    assert too_large.payload is None
    assert too_large.error["errorType"] == "Function.ResponseSizeTooLarge"
    assert fits.error is None and len(fits.payload["body"]) == 5 * 1024 * 1024


def test_put_events_over_256_kb_in_total_is_refused_as_eventbridge_refuses_it() -> None:
    entry = {"Source": "pyairtable", "DetailType": "file.uploaded",
             "Detail": json.dumps({"pad": "x" * 100_000})}
    assert put_events_size([entry, entry]) < 256 * 1024
    assert call_refusal("events", "PutEvents", {"Entries": [entry, entry]}) is None
    assert call_refusal("events", "PutEvents", {"Entries": [entry] * 3}) == (
        "ValidationException", 400, "Total size of the entries in the request is over the limit.")


@pytest.mark.parametrize(("prefix", "operation", "params", "code"), [
    ("states", "StartExecution", {"input": json.dumps({"x": "y" * 262_144})},
     "ValidationException"),
    ("lambda", "Invoke", {"Payload": b"x" * (6 * 1024 * 1024 + 1)}, "RequestTooLargeException"),
    ("lambda", "Invoke", {"Payload": b"x" * (256 * 1024 + 1), "InvocationType": "Event"},
     "RequestTooLargeException"),
])
def test_requests_over_a_services_payload_limit_are_refused(prefix, operation, params,
                                                            code) -> None:
    assert call_refusal(prefix, operation, params)[0] == code


def test_the_worker_hook_answers_an_oversized_call_with_the_services_error() -> None:
    role = Role(name="r", logical_id="R", function_name="f", function_logical_id="F",
                policy=Policy.of({"p": {"Statement": [{"Effect": "Allow", "Action": "events:*",
                                                       "Resource": "*"}]}}),
                region="us-east-1", account="123456789012")
    session = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s",
                                    region_name="us-east-1")
    register(session._session, role)
    events = session.client("events", endpoint_url="http://127.0.0.1:9")
    entry = {"Source": "s", "DetailType": "d", "Detail": json.dumps({"pad": "x" * 200_000})}
    with pytest.raises(events.exceptions.ClientError) as refused:
        events.put_events(Entries=[entry, entry])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
