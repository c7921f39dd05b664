"""What the template refuses or sets up for a first deploy: invite-only registration needs an
admin email, an API domain needs a certificate (both refused as CloudFormation's `Rules` refuse
them, locally too), and with an API domain /api is reached through CloudFront only."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.runtime.intrinsics import Resolver
from local.runtime.template import load_stack

ROOT = Path(__file__).resolve().parents[2]
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0000"


def _stack(monkeypatch, **parameters):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return load_stack(ROOT / "template.yaml", "pyat", {"DatabaseSecretArn": "arn:db",
                      "AdminEmails": "boss@example.com", **parameters},
                      "us-east-1", "123456789012")


def test_invite_only_registration_without_an_admin_email_is_refused(monkeypatch):
    with pytest.raises(ValueError, match="AdminEmails"):
        _stack(monkeypatch, Registration="invite", AdminEmails="")
    assert _stack(monkeypatch, Registration="invite").parameters["Registration"] == "invite"
    assert _stack(monkeypatch, Registration="open", AdminEmails="").resources


def test_an_api_domain_without_a_certificate_is_refused(monkeypatch):
    with pytest.raises(ValueError, match="ApiCertificateArn"):
        _stack(monkeypatch, ApiDomainName="api.example.com")


def _api_and_origin(stack):
    resolver = Resolver(stack.parameters, stack.conditions)
    resolver.refs["HttpApi"] = "abc123"
    [server] = stack.resources["HttpApi"]["Properties"]["Body"]["servers"]
    disabled = resolver.resolve(server["x-amazon-apigateway-endpoint-configuration"][
        "disableExecuteApiEndpoint"])
    origins = stack.resources["WebDistribution"]["Properties"]["DistributionConfig"]["Origins"]
    origin = next(o for o in origins if o["Id"] == "api")
    return disabled, resolver.resolve(origin["DomainName"])


def test_with_an_api_domain_the_execute_api_endpoint_is_off_and_cloudfront_uses_the_domain(
        monkeypatch):
    stack = _stack(monkeypatch, ApiDomainName="api.example.com", ApiCertificateArn=CERTIFICATE)
    assert _api_and_origin(stack) == (True, "api.example.com")
    assert stack.resources["ApiDomainMapping"]["Condition"] == "HasApiDomain"


def test_without_one_cloudfront_reaches_the_api_at_its_execute_api_endpoint(monkeypatch):
    assert _api_and_origin(_stack(monkeypatch)) == (
        False, "abc123.execute-api.us-east-1.amazonaws.com")
