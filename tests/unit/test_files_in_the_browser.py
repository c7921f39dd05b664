"""What a browser needs of the uploads bucket: S3's answer to a CORS preflight (moto's is not),
the page's CSP naming the bucket's origin exactly as the app presigns on AWS, and the bucket's
CORS allowing the UI's origins."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from moto import mock_aws

from local.runtime.cdn import local_bucket_origins
from local.runtime.intrinsics import Resolver
from local.runtime.s3_cors import Rule, install_moto_preflight, preflight
from local.runtime.template import load_stack

ROOT = Path(__file__).resolve().parents[2]
UI = "https://d111111abcdef8.cloudfront.net"
UPLOADS = Rule(methods=("PUT",), origins=(UI, "http://127.0.0.1:3000"), headers=("content-type",),
               max_age=600)


def test_a_preflight_from_an_allowed_origin_is_answered_from_the_matching_rule():
    status, headers, _ = preflight([UPLOADS], UI, "PUT", "Content-Type")
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == UI
    assert headers["Access-Control-Allow-Methods"] == "PUT"
    assert headers["Access-Control-Allow-Headers"] == "content-type"
    assert headers["Access-Control-Max-Age"] == "600"


@pytest.mark.parametrize(("origin", "method", "headers"), [
    ("https://evil.example", "PUT", "content-type"),
    (UI, "DELETE", "content-type"),
    (UI, "PUT", "content-type, x-amz-acl"),
])
def test_a_preflight_outside_every_rule_is_forbidden(origin, method, headers):
    status, _, body = preflight([UPLOADS], origin, method, headers)
    assert status == 403
    assert "CORSResponse" in body


def test_a_bucket_without_cors_forbids_every_preflight():
    status, _, body = preflight([], UI, "PUT", None)
    assert (status, "CORS is not enabled" in body) == (403, True)


def test_the_first_matching_rule_answers_and_wildcards_match():
    rules = [Rule(methods=("GET",), origins=("*",)),
             Rule(methods=("PUT",), origins=("https://*.example.com",), headers=("*",))]
    status, headers, _ = preflight(rules, "https://app.example.com", "PUT", "content-type")
    assert (status, headers["Access-Control-Allow-Origin"]) == (200, "https://app.example.com")
    assert preflight(rules, "https://x.org", "GET", None)[1][
        "Access-Control-Allow-Origin"] == "*"


@mock_aws
def test_moto_answers_a_presigned_urls_preflight_as_s3_does():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="uploads")
    s3.put_bucket_cors(Bucket="uploads", CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["PUT"], "AllowedOrigins": [UI], "AllowedHeaders": ["content-type"]}]})
    url = s3.generate_presigned_url("put_object", Params={
        "Bucket": "uploads", "Key": "a.csv", "ContentType": "text/csv", "ContentLength": 3})
    undo = install_moto_preflight()
    try:
        allowed = requests.options(url, headers={
            "Origin": UI, "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type"}, timeout=5)
        refused = requests.options(url, headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"},
            timeout=5)
    finally:
        undo()
    assert (allowed.status_code, allowed.headers["Access-Control-Allow-Origin"]) == (200, UI)
    assert refused.status_code == 403


@pytest.fixture(scope="module")
def stack():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        return load_stack(ROOT / "template.yaml", "pyairtable", {"DatabaseSecretArn": "arn:db",
                                                                   "AdminEmails": "a@example.com"},
                          "eu-west-1", "123456789012")


def _resolved(stack, value):
    return Resolver(stack.parameters, stack.conditions).resolve(value)


def test_the_csp_allows_the_bucket_origin_the_app_presigns_on_aws(stack, monkeypatch):
    from common.core import aws

    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws.client.cache_clear()
    aws._session.cache_clear()
    try:
        url = aws.client("s3").generate_presigned_url("put_object", Params={
            "Bucket": "pyairtable-uploads-123456789012", "Key": "uploads/a.csv",
            "ContentType": "text/csv", "ContentLength": 3})
    finally:
        aws.client.cache_clear()
        aws._session.cache_clear()
    presigned = urlsplit(url)
    assert "X-Amz-Signature=" in presigned.query  # SigV4, which every region accepts
    policy = _resolved(stack, stack.resources["WebHeadersPolicy"]["Properties"])
    csp = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"][
        "ContentSecurityPolicy"]["ContentSecurityPolicy"]
    connect = next(d for d in csp.split(";") if d.strip().startswith("connect-src")).split()
    assert f"{presigned.scheme}://{presigned.netloc}" in connect


def test_the_bucket_lets_the_ui_put_uploads_from_its_origins(stack):
    bucket = stack.resources["UploadsBucket"]["Properties"]
    [rule] = bucket["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedMethods"] == ["PUT"]
    assert rule["AllowedOrigins"] == [{"Fn::Sub": "https://${WebDistribution.DomainName}"},
                                      {"Ref": "WebUrl"}]


def test_locally_the_csp_names_the_bucket_where_the_browser_reaches_it():
    csp = ("default-src 'none'; connect-src 'self' https://b.s3.us-east-1.amazonaws.com; "
           "img-src 'self'")
    policy = {"SecurityHeadersConfig": {"ContentSecurityPolicy": {
        "ContentSecurityPolicy": csp, "Override": True}}}
    local = local_bucket_origins(policy, {"https://b.s3.us-east-1.amazonaws.com":
                                          "http://127.0.0.1:5000"})
    assert local["SecurityHeadersConfig"]["ContentSecurityPolicy"] == {
        "ContentSecurityPolicy": "default-src 'none'; connect-src 'self' http://127.0.0.1:5000; "
                                 "img-src 'self'", "Override": True}
