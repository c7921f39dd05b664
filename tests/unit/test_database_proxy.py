"""The optional RDS Proxy (UseRdsProxy): what the SAM-translated template creates with it and
without it, and how common.core.db signs in through it (an IAM token per new connection, over
TLS)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from common.core import db
from local.runtime.intrinsics import Resolver
from local.runtime.template import Stack, load_stack

ROOT = Path(__file__).resolve().parents[2]
BASE = {"DatabaseSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db",
        "AdminEmails": "admin@example.com"}
WITH_PROXY = {**BASE, "UseRdsProxy": "true", "SubnetIds": "subnet-0a,subnet-0b",
              "SecurityGroupIds": "sg-0a", "DatabaseInstanceId": "pyairtable-db"}
PROXY_RESOURCES = {"DatabaseProxy": "AWS::RDS::DBProxy",
                   "DatabaseProxyTargetGroup": "AWS::RDS::DBProxyTargetGroup",
                   "DatabaseProxyRole": "AWS::IAM::Role",
                   "DatabaseProxyConnect": "AWS::IAM::ManagedPolicy"}
PROXY_ARN = "arn:aws:rds:us-east-1:123456789012:db-proxy:prx-0123456789abcdef0"
# The functions that do not connect through common.core.db: no IAM sign-in to the proxy for them.
DIRECT = {"AuthorizerFunction", "MigrationsFunction"}


def _stack(parameters: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Stack:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # SAM's translator wants one
    return load_stack(ROOT / "template.yaml", "pyat", parameters, "us-east-1", "123456789012")


def _resolver(stack: Stack) -> Resolver:
    """Conditions and intrinsics as CloudFormation would evaluate them for these parameters."""
    resolver = Resolver(stack.parameters, stack.conditions, stack.mappings)
    resolver.refs["DatabaseProxyConnect"] = "arn:aws:iam::123456789012:policy/connect"
    resolver.attrs["DatabaseProxy"] = {"Endpoint": "pyat-db.proxy-abc.us-east-1.rds.amazonaws.com",
                                       "DBProxyArn": PROXY_ARN}
    return resolver


def _created(stack: Stack) -> set[str]:
    resolver = _resolver(stack)
    return {lid for lid, r in stack.resources.items()
            if not r.get("Condition") or resolver.condition(r["Condition"])}


def _database_functions(stack: Stack) -> dict[str, dict[str, Any]]:
    """Each Lambda function that reads the database secret, by its SAM logical id."""
    return {lid: r for lid, r in stack.resources.items()
            if r["Type"] == "AWS::Lambda::Function"
            and "DATABASE_SECRET_ARN" in r["Properties"]["Environment"]["Variables"]}


def test_the_proxy_its_targets_role_and_connect_policy_exist_only_with_use_rds_proxy(
        monkeypatch):
    with_proxy = _stack(WITH_PROXY, monkeypatch)
    assert {lid: with_proxy.resources[lid]["Type"] for lid in PROXY_RESOURCES} == PROXY_RESOURCES
    assert set(PROXY_RESOURCES) <= _created(with_proxy)
    for parameters in (BASE, {**WITH_PROXY, "UseRdsProxy": "false"}):
        assert not set(PROXY_RESOURCES) & _created(_stack(parameters, monkeypatch))


def test_the_proxy_requires_iam_and_tls_and_reads_only_the_database_secret(monkeypatch):
    stack = _stack(WITH_PROXY, monkeypatch)
    resolver = _resolver(stack)
    resolver.refs["DatabaseProxy"] = "pyat-db"
    resolver.attrs["DatabaseProxyRole"] = {"Arn": "arn:aws:iam::123456789012:role/proxy"}
    proxy = resolver.resolve(stack.resources["DatabaseProxy"]["Properties"])
    assert proxy["EngineFamily"] == "POSTGRESQL" and proxy["RequireTLS"] is True
    assert proxy["Auth"] == [{"AuthScheme": "SECRETS", "SecretArn": BASE["DatabaseSecretArn"],
                              "IAMAuth": "REQUIRED"}]
    targets = resolver.resolve(stack.resources["DatabaseProxyTargetGroup"]["Properties"])
    assert targets["DBInstanceIdentifiers"] == ["pyairtable-db"]
    statements = resolver.resolve(stack.resources["DatabaseProxyRole"]["Properties"])[
        "Policies"][0]["PolicyDocument"]["Statement"]
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        ("secretsmanager:GetSecretValue", BASE["DatabaseSecretArn"]),
        ("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/*")]
    assert statements[1]["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}


def test_functions_on_common_db_get_the_endpoint_and_rds_db_connect_on_this_proxy_only(
        monkeypatch):
    stack = _stack(WITH_PROXY, monkeypatch)
    resolver = _resolver(stack)
    connect = resolver.resolve(stack.resources["DatabaseProxyConnect"]["Properties"])
    assert connect["PolicyDocument"]["Statement"] == [{
        "Effect": "Allow", "Action": "rds-db:connect",
        "Resource": "arn:aws:rds-db:us-east-1:123456789012:dbuser:prx-0123456789abcdef0/*"}]
    functions = _database_functions(stack)
    assert {"UsersFunction", "SagaTasksFunction"} | DIRECT <= set(functions)
    for lid, function in functions.items():
        host = resolver.resolve(
            function["Properties"]["Environment"]["Variables"]["DATABASE_PROXY_HOST"])
        assert host == "pyat-db.proxy-abc.us-east-1.rds.amazonaws.com", lid
        role = stack.resources[function["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
        conditional = {"Fn::If": ["UseProxy", {"Ref": "DatabaseProxyConnect"},
                                  {"Ref": "AWS::NoValue"}]}
        assert (conditional in role["ManagedPolicyArns"]) is (lid not in DIRECT), lid


def test_without_the_proxy_the_functions_get_an_empty_endpoint(monkeypatch):
    stack = _stack(BASE, monkeypatch)
    resolver = _resolver(stack)
    for function in _database_functions(stack).values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert resolver.resolve(variables["DATABASE_PROXY_HOST"]) == ""


@pytest.mark.parametrize(("missing", "named"), [("SubnetIds", "SubnetIds"),
                                                ("DatabaseInstanceId", "DatabaseInstanceId")])
def test_use_rds_proxy_is_refused_without_subnets_or_an_instance(monkeypatch, missing, named):
    with pytest.raises(ValueError, match=rf"RdsProxyNeedsAVpcAndAnInstance: .*{named}"):
        _stack({**WITH_PROXY, missing: ""}, monkeypatch)


class _Connected(Exception):
    """Raised instead of connecting, once the connection's parameters are known."""


class _FakeRds:
    """Signs tokens as boto3's RDS client would, locally; counts them."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def generate_db_auth_token(self, **kwargs: Any) -> str:
        self.calls.append(kwargs)
        return f"token-{len(self.calls)}"


def test_each_new_connection_through_the_proxy_signs_in_with_a_fresh_iam_token(monkeypatch):
    monkeypatch.setenv("DATABASE_PROXY_HOST", "pyat-db.proxy-abc.us-east-1.rds.amazonaws.com")
    monkeypatch.setenv("DATABASE_TLS", "off")  # the proxy requires TLS whatever this says
    rds = _FakeRds()
    monkeypatch.setattr(db, "_rds", lambda: rds)
    engine = db._engine("postgresql+pg8000://app:secret-password@db.internal:5433/pyairtable")
    seen: list[dict[str, Any]] = []

    def capture(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        seen.append(dict(cparams))
        raise _Connected

    event.listen(engine, "do_connect", capture)  # after common.core.db's own listener
    for _ in range(2):
        with pytest.raises(_Connected):
            engine.connect()
    assert [p["password"] for p in seen] == ["token-1", "token-2"]
    host = "pyat-db.proxy-abc.us-east-1.rds.amazonaws.com"
    assert rds.calls == [{"DBHostname": host, "Port": 5432, "DBUsername": "app"}] * 2
    first = seen[0]
    assert (first["host"], first["port"], first["user"], first["database"]) == (
        host, 5432, "app", "pyairtable")
    context = first["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert "secret-password" not in engine.url.render_as_string(hide_password=False)
    # The autocommit reader is built from the engine's URL: it signs in the same way.
    reader = db._reader_of(engine)
    event.listen(reader, "do_connect", capture)
    with pytest.raises(_Connected):
        reader.connect()
    assert (seen[-1]["host"], seen[-1]["password"]) == (host, "token-3")
    db._reader_of.cache_clear()


def test_without_the_proxy_the_secrets_password_is_used_and_no_token_signed(monkeypatch):
    monkeypatch.delenv("DATABASE_PROXY_HOST", raising=False)
    monkeypatch.setenv("DATABASE_TLS", "off")
    monkeypatch.setattr(db, "_rds", lambda: pytest.fail("no token without a proxy"))
    engine = db._engine("postgresql+pg8000://app:secret-password@db.internal:5433/pyairtable")
    seen: list[dict[str, Any]] = []

    def capture(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        seen.append(dict(cparams))
        raise _Connected

    event.listen(engine, "do_connect", capture)
    with pytest.raises(_Connected):
        engine.connect()
    assert (seen[0]["host"], seen[0]["port"], seen[0]["password"]) == (
        "db.internal", 5433, "secret-password")
