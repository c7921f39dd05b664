"""The local Parameters and Secrets extension answers as the AWS one: a function's own session
token, a secret its role may read, Secrets Manager's value; anything else refused."""

from __future__ import annotations

import http.client
import json

import boto3
import pytest
from moto import mock_aws

from local.runtime.iam.hook import Role
from local.runtime.iam.policy import Policy
from local.runtime.secrets_extension import SecretsExtension


@pytest.fixture
def extension():
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        readable = secrets.create_secret(Name="jwt", SecretString="k" * 40)["ARN"]
        other = secrets.create_secret(Name="other", SecretString="no")["ARN"]
        policy = Policy.of({"reads-jwt": {"Statement": [
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
             "Resource": readable}]}})
        role = Role(name="authorizer-role", logical_id="AuthorizerRole",
                    function_name="authorizer", function_logical_id="AuthorizerFunction",
                    policy=policy, region="us-east-1", account="123456789012")
        server = SecretsExtension(secrets, {"authorizer": role}.get)
        token = server.session_token("authorizer")
        yield server, token, readable, other
        server.close()


def _get(server, secret_id, token):
    connection = http.client.HTTPConnection("localhost", server.port, timeout=5)
    headers = {"X-Aws-Parameters-Secrets-Token": token} if token else {}
    connection.request("GET", f"/secretsmanager/get?secretId={secret_id}", headers=headers)
    response = connection.getresponse()
    return response.status, response.read().decode()


def test_a_secret_the_role_may_read_comes_back_as_get_secret_value_gives_it(extension):
    server, token, readable, _ = extension
    status, body = _get(server, readable, token)
    assert status == 200
    assert json.loads(body)["SecretString"] == "k" * 40 and json.loads(body)["ARN"] == readable


def test_a_secret_the_role_may_not_read_is_refused_with_the_iam_reason(extension):
    server, token, _, other = extension
    status, body = _get(server, other, token)
    assert status == 400 and "AccessDeniedException" in body
    assert "secretsmanager:GetSecretValue" in body


@pytest.mark.parametrize("token", [None, "testing"])
def test_a_request_without_a_functions_session_token_is_refused(extension, token):
    server, _, readable, _ = extension
    assert _get(server, readable, token)[0] == 401
