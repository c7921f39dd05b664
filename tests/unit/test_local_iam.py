"""Local IAM: policy evaluation, the resource each call is authorized on, and the worker hook."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from local.runtime.iam.calls import requests_for
from local.runtime.iam.hook import Role, register
from local.runtime.iam.policy import Policy, Request, matches
from local.runtime.iam.roles import role_documents

REGION, ACCOUNT = "us-east-1", "123456789012"
BUCKET_POLICY = {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                                "Resource": "arn:aws:s3:::uploads/*"}]}


def _policy(*statements: dict) -> Policy:
    return Policy.of({"inline": {"Statement": list(statements)}})


def test_an_action_on_a_resource_no_statement_names_is_refused() -> None:
    policy = Policy.of({"p": BUCKET_POLICY})
    assert policy.decide(Request("s3:GetObject", "arn:aws:s3:::uploads/a/b.csv")).allowed
    assert not policy.decide(Request("s3:DeleteObject", "arn:aws:s3:::uploads/a.csv")).allowed
    assert not policy.decide(Request("s3:GetObject", "arn:aws:s3:::other/a.csv")).allowed


def test_wildcards_in_actions_ignore_case_and_in_resources_do_not() -> None:
    policy = _policy({"Effect": "Allow", "Action": "dynamodb:*Item",
                      "Resource": "arn:aws:dynamodb:*:*:table/Cache"})
    assert policy.decide(Request("DynamoDB:GetItem", "arn:aws:dynamodb:us-east-1:1:table/Cache"))\
        .allowed
    assert not policy.decide(Request("dynamodb:Scan",
                                     "arn:aws:dynamodb:us-east-1:1:table/Cache")).allowed
    assert not policy.decide(Request("dynamodb:GetItem",
                                     "arn:aws:dynamodb:us-east-1:1:table/cache")).allowed
    assert matches("arn:aws:lambda:*:function:fn*", "arn:aws:lambda:r:1:function:fn-X:live")
    assert not matches("a?c", "abbc")


def test_an_explicit_deny_wins_over_any_allow() -> None:
    policy = _policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                     {"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteObject",
                      "Resource": "*"})
    decision = policy.decide(Request("s3:DeleteObject", "arn:aws:s3:::b/k"))
    assert not decision.allowed and decision.statement == "inline:NoDeletes"


def test_not_action_and_not_resource_allow_everything_else() -> None:
    policy = _policy({"Effect": "Allow", "NotAction": "s3:Delete*",
                      "NotResource": "arn:aws:s3:::secret/*"})
    assert policy.decide(Request("s3:GetObject", "arn:aws:s3:::b/k")).allowed
    assert not policy.decide(Request("s3:DeleteObject", "arn:aws:s3:::b/k")).allowed
    assert not policy.decide(Request("s3:GetObject", "arn:aws:s3:::secret/k")).allowed


def test_a_condition_on_a_key_the_call_carries_must_hold() -> None:
    policy = _policy({"Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": "*",
                      "Condition": {"StringEquals": {"ses:FromAddress": "no-reply@x.org"}}})
    resource = "arn:aws:ses:us-east-1:1:identity/no-reply@x.org"
    assert policy.decide(Request("ses:SendRawEmail", resource,
                                 {"ses:FromAddress": "no-reply@x.org"})).allowed
    assert not policy.decide(Request("ses:SendRawEmail", resource,
                                     {"ses:FromAddress": "ceo@x.org"})).allowed
    # A condition on a key the request does not carry does not hold (IfExists aside).
    assert not policy.decide(Request("ses:SendRawEmail", resource)).allowed


def test_condition_operators_if_exists_negation_and_set_qualifiers() -> None:
    lenient = _policy({"Effect": "Allow", "Action": "x:Y", "Resource": "*", "Condition": {
        "StringLikeIfExists": {"k": "a*"}, "StringNotEquals": {"n": ["bad", "worse"]},
        "ForAllValues:StringLike": {"ses:Recipients": "*@x.org"}}})
    assert lenient.decide(Request("x:Y", "*", {"n": "fine"})).allowed
    assert not lenient.decide(Request("x:Y", "*", {"n": "worse"})).allowed
    assert not lenient.decide(Request("x:Y", "*", {"n": "ok", "k": "b"})).allowed
    outsider = {"n": "ok", "ses:Recipients": ["a@x.org", "b@y.org"]}
    assert not lenient.decide(Request("x:Y", "*", outsider)).allowed


@pytest.mark.parametrize(("prefix", "operation", "params", "expected"), [
    ("s3", "PutObject", {"Bucket": "b", "Key": "uploads/1.csv"},
     [("s3:PutObject", "arn:aws:s3:::b/uploads/1.csv")]),
    ("s3", "HeadBucket", {"Bucket": "b"}, [("s3:ListBucket", "arn:aws:s3:::b")]),
    ("s3", "CreateMultipartUpload", {"Bucket": "b", "Key": "k"},
     [("s3:PutObject", "arn:aws:s3:::b/k")]),
    ("s3", "AbortMultipartUpload", {"Bucket": "b", "Key": "k", "UploadId": "u"},
     [("s3:AbortMultipartUpload", "arn:aws:s3:::b/k")]),
    ("s3", "CopyObject", {"Bucket": "b", "Key": "to", "CopySource": {"Bucket": "a", "Key": "f"}},
     [("s3:PutObject", "arn:aws:s3:::b/to"), ("s3:GetObject", "arn:aws:s3:::a/f")]),
    ("dynamodb", "Query", {"TableName": "Cache", "IndexName": "byUser"},
     [("dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/Cache/index/byUser")]),
    ("dynamodb", "TransactWriteItems",
     {"TransactItems": [{"Put": {"TableName": "T"}}, {"Delete": {"TableName": "T"}}]},
     [("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/T"),
      ("dynamodb:DeleteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/T")]),
    ("sqs", "SendMessageBatch", {"QueueUrl": "http://127.0.0.1:5000/123456789012/hooks"},
     [("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:hooks")]),
    ("states", "StopExecution", {"executionArn": "arn:aws:states:r:1:execution:m:e"},
     [("states:StopExecution", "arn:aws:states:r:1:execution:m:e")]),
    ("events", "PutEvents", {"Entries": [{"EventBusName": "bus"}, {"EventBusName": "bus"}]},
     [("events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/bus")]),
    ("events", "PutEvents", {"Entries": [{}]},
     [("events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/default")]),
    ("kms", "Decrypt", {"CiphertextBlob": b"0b7ca5b5-8b1a-4a57-a9a4-2d6e6a1f0a11" + b"x" * 40},
     [("kms:Decrypt",
       "arn:aws:kms:us-east-1:123456789012:key/0b7ca5b5-8b1a-4a57-a9a4-2d6e6a1f0a11")]),
    ("logs", "PutLogEvents", {"logGroupName": "/aws/lambda/f", "logStreamName": "s"},
     [("logs:PutLogEvents",
       "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:log-stream:s")]),
    ("lambda", "Invoke", {"FunctionName": "fn", "Qualifier": "live"},
     [("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:fn:live")]),
    ("ses", "SendRawEmail", {"Source": "PyAirtable <no-reply@x.org>", "Destinations": ["a@b.c"]},
     [("ses:SendRawEmail", "arn:aws:ses:us-east-1:123456789012:identity/no-reply@x.org")]),
    ("xray", "PutTraceSegments", {}, [("xray:PutTraceSegments", "*")]),
])
def test_each_call_is_authorized_on_the_resource_its_input_names(
        prefix: str, operation: str, params: dict, expected: list[tuple[str, str]]) -> None:
    requests = requests_for(prefix, operation, params, REGION, ACCOUNT)
    assert [(r.action, r.resource) for r in requests] == expected


def test_ses_calls_carry_the_sender_as_the_from_address_condition_key() -> None:
    request, = requests_for("ses", "SendRawEmail", {"Source": "Team <team@x.org>",
                                                    "Destinations": ["a@b.c"]}, REGION, ACCOUNT)
    assert request.context == {"ses:FromAddress": "team@x.org", "ses:Recipients": ["a@b.c"]}


def test_a_role_unites_its_inline_and_managed_policies_and_refuses_an_unknown_one() -> None:
    docs = role_documents({
        "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
        "Policies": [{"PolicyName": "Files", "PolicyDocument": BUCKET_POLICY}]})
    policy = Policy.of(docs)
    assert policy.decide(Request("logs:PutLogEvents", "arn:aws:logs:r:1:log-group:g")).allowed
    assert policy.decide(Request("s3:PutObject", "arn:aws:s3:::uploads/x")).allowed
    with pytest.raises(ValueError, match="AWSMadeUpPolicy is not known locally"):
        role_documents({"ManagedPolicyArns": ["arn:aws:iam::aws:policy/AWSMadeUpPolicy"]})


def _role() -> Role:
    return Role(name="stack-FilesFunctionRole-ABC", logical_id="FilesFunctionRole",
                function_name="stack-FilesFunction-XYZ", function_logical_id="FilesFunction",
                policy=Policy.of({"p": BUCKET_POLICY}), region=REGION, account=ACCOUNT)


def _client(service: str) -> object:
    session = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s",
                                    region_name=REGION)
    register(session._session, _role())
    # Nothing listens there: an allowed call fails to connect, a refused one never tries.
    return session.client(service, endpoint_url="http://127.0.0.1:9",
                          config=boto3.session.Config(retries={"max_attempts": 0},
                                                      connect_timeout=0.2))


def test_a_refused_call_raises_the_services_own_access_denied_error() -> None:
    s3 = _client("s3")
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket="uploads", Key="a.csv")
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "assumed-role/stack-FilesFunctionRole-ABC/stack-FilesFunction-XYZ" in error["Message"]
    assert "s3:DeleteObject on resource: arn:aws:s3:::uploads/a.csv" in error["Message"]
    assert "FilesFunction's Policies" in error["Message"]


def test_a_refusal_is_the_modeled_exception_of_json_services() -> None:
    sfn = _client("stepfunctions")
    with pytest.raises(sfn.exceptions.ClientError) as refused:
        sfn.describe_state_machine(stateMachineArn="arn:aws:states:us-east-1:1:stateMachine:m")
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "states:DescribeStateMachine" in str(refused.value)


def test_an_allowed_call_goes_out_to_the_service() -> None:
    from botocore.exceptions import EndpointConnectionError

    with pytest.raises(EndpointConnectionError):
        _client("s3").get_object(Bucket="uploads", Key="a.csv")


_CALLER = '''
import boto3

def lambda_handler(event, context):
    s3 = boto3.client("s3", region_name="us-east-1")
    try:
        s3.delete_object(Bucket="uploads", Key=event["key"])
    except s3.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    return "deleted"
'''


def test_a_workers_aws_calls_are_checked_against_its_functions_role(tmp_path) -> None:
    import os

    from local.runtime.provision import FunctionSpec
    from local.runtime.workers import FunctionPool

    (tmp_path / "app.py").write_text(_CALLER)
    spec = FunctionSpec(logical_id="FilesFunction", name="stack-FilesFunction-XYZ",
                        arn="arn:aws:lambda:us-east-1:1:function:fn", code_dir=tmp_path,
                        handler="app.lambda_handler", layer_dirs=[], environment={}, timeout=30)
    env = {"PATH": os.environ.get("PATH", ""), "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
           "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    log = tmp_path / "workers.log"
    pool = FunctionPool(spec, env, log_path=str(log), role=_role())
    try:
        result = pool.invoke({"key": "a.csv"})
    finally:
        pool.close()
    assert result.error is None and result.payload == "AccessDenied"
    assert "IAM denied: User: arn:aws:sts::123456789012:assumed-role/stack-FilesFunctionRole-ABC" \
        in log.read_text()


def test_a_permissions_boundary_caps_what_the_roles_policies_grant() -> None:
    granted = Policy.of({"vpc": {"Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
        "ec2:CreateNetworkInterface", "logs:PutLogEvents"]}]}})
    boundary = Policy.of({"NoNetworkInterfaces": {"Statement": [
        {"Effect": "Allow", "NotAction": "ec2:CreateNetworkInterface", "Resource": "*"}]}})
    role = Role(name="r", logical_id="R", function_name="f", function_logical_id="F",
                policy=granted, boundary=boundary, region=REGION, account=ACCOUNT)
    assert role.refusal("logs", "PutLogEvents", {}) is None
    refusal = role.refusal("ec2", "CreateNetworkInterface", {})
    assert refusal is not None
    assert "because no permissions boundary allows the ec2:CreateNetworkInterface action" \
        in refusal


def test_a_queue_mapping_needs_its_functions_role_to_poll_the_queue() -> None:
    from local.runtime.iam.mappings import mapping_refusal

    url = "http://127.0.0.1:5000/123456789012/hooks"
    bare = _role()
    assert "does not have permissions to call ReceiveMessage on SQS" in mapping_refusal(bare, url)
    poller = Role(name="r", logical_id="R", function_name="f", function_logical_id="F",
                  region=REGION, account=ACCOUNT, policy=Policy.of(role_documents({
                      "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/"
                                            "AWSLambdaSQSQueueExecutionRole"]})))
    assert mapping_refusal(poller, url) is None
