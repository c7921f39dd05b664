"""Secrets Manager failing is an upstream error (502 in the envelope), never a 500, and the
answer names neither the secret nor AWS's message."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from common.core import secrets
from common.core.aws import client
from common.core.errors import UpstreamError
from common.core.http import create_app

MISSING = "arn:aws:secretsmanager:us-east-1:123456789012:secret:pyairtable/missing-AbCdEf"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client.cache_clear()
        secrets._providers.clear()
        yield
    client.cache_clear()
    secrets._providers.clear()


def test_a_secret_that_cannot_be_read_is_an_upstream_error(aws):
    with pytest.raises(UpstreamError):
        secrets.secret_text(MISSING)


def test_a_secret_that_is_not_json_is_an_upstream_error(aws):
    arn = boto3.client("secretsmanager").create_secret(Name="plain",
                                                       SecretString="not json")["ARN"]
    with pytest.raises(UpstreamError):
        secrets.secret_json(arn)


def test_a_route_whose_secret_fails_answers_502_without_details(aws):
    app = create_app("test")

    @app.get("/needs-secret")
    def needs_secret() -> dict:
        return secrets.secret_json(MISSING)

    response = app.resolve({
        "version": "2.0", "routeKey": "$default", "rawPath": "/needs-secret",
        "rawQueryString": "", "headers": {}, "isBase64Encoded": False,
        "requestContext": {"http": {"method": "GET", "path": "/needs-secret"},
                           "requestId": "r1", "stage": "$default"}}, {})
    assert response["statusCode"] == 502
    assert json.loads(response["body"])["error"]["code"] == "upstream_error"
    assert "missing" not in response["body"] and "ResourceNotFound" not in response["body"]
