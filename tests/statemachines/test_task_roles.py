"""A Task state invokes its Lambda with the machine's role: without lambda:InvokeFunction on the
function the task fails with Lambda.AccessDeniedException, as on AWS (the local IAM check of
local/runtime/iam/machines.py, on moto's interpreter)."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from collections.abc import Iterator

import boto3
import pytest

from local.runtime.iam.hook import Role
from local.runtime.iam.machines import install_task_role_check
from local.runtime.iam.policy import Policy

REGION, ACCOUNT = "us-east-1", "123456789012"
DEFINITION = {"StartAt": "Work", "States": {"Work": {
    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "worker", "Payload.$": "$"}, "End": True}}}


@pytest.fixture
def moto() -> Iterator[boto3.session.Session]:
    from moto import mock_aws
    from moto.awslambda.models import LambdaFunction

    saved = dict(os.environ)
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    invoke = LambdaFunction._invoke_lambda
    LambdaFunction._invoke_lambda = lambda fn, event=None: (json.dumps({"done": True}), False, "")
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            yield boto3.session.Session(region_name=REGION)
    finally:
        LambdaFunction._invoke_lambda = invoke
        os.environ.clear()
        os.environ.update(saved)


def _run(session: boto3.session.Session, allowed: str) -> dict:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "")
    role_arn = session.client("iam").create_role(RoleName="machine",
                                                 AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    session.client("lambda").create_function(
        FunctionName="worker", Runtime="python3.11", Role=role_arn, Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()})
    sfn = session.client("stepfunctions")
    machine = sfn.create_state_machine(name="m", definition=json.dumps(DEFINITION),
                                       roleArn=role_arn)["stateMachineArn"]
    role = Role(name="machine", logical_id="MachineRole", function_name="m",
                function_logical_id="Machine", region=REGION, account=ACCOUNT,
                policy=Policy.of({"p": {"Statement": [{"Effect": "Allow",
                                                       "Action": "lambda:InvokeFunction",
                                                       "Resource": allowed}]}}))
    undo = install_task_role_check({machine: role})
    try:
        execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
        for _ in range(100):
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                break
            time.sleep(0.05)
        history = sfn.get_execution_history(executionArn=execution)["events"]
    finally:
        undo()
    return {"status": described["status"],
            "failures": [e["taskFailedEventDetails"] for e in history
                         if e["type"] == "TaskFailed"]}


def test_a_task_whose_machine_role_may_not_invoke_the_function_fails_access_denied(moto):
    outcome = _run(moto, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other*")
    assert outcome["status"] == "FAILED"
    failure, = outcome["failures"]
    assert failure["error"] == "Lambda.AccessDeniedException"
    assert "is not authorized to perform: lambda:InvokeFunction on resource: " \
           f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:worker" in failure["cause"]


def test_a_task_the_machine_role_allows_runs(moto):
    outcome = _run(moto, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:worker*")
    assert outcome == {"status": "SUCCEEDED", "failures": []}
