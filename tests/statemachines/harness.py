"""What every state machine test stands on: moto executing state machines in process, with the
environment, KMS key, Airtable token secret, cache table and event bus the tasks read, and a
member whose workspace uses the default Airtable connection."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


@dataclass
class Moto:
    """The mocked account: a boto3 session on it and a role for functions and machines."""

    session: Any
    role: str

    def function(self, name: str) -> str:
        """A Lambda function's ARN; the test routes its invocations (moto runs no code here)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("app.py", "")
        return str(self.session.client("lambda").create_function(
            FunctionName=name, Runtime="python3.11", Role=self.role,
            Handler="app.lambda_handler", Code={"ZipFile": buffer.getvalue()})["FunctionArn"])

    def machine(self, name: str, asl: str, functions: dict[str, str], **options: Any) -> str:
        """A state machine from statemachines/<asl>.asl.json with its `${...}` ARNs filled in."""
        definition = (ROOT / "statemachines" / f"{asl}.asl.json").read_text()
        for placeholder, arn in functions.items():
            definition = definition.replace("${" + placeholder + "}", arn)
        return str(self.session.client("stepfunctions").create_state_machine(
            name=name, definition=definition, roleArn=self.role, **options)["stateMachineArn"])


@contextmanager
def moto_for_tasks(name: str, database_url: str, airtable_url: str, token: str,
                   **env: str) -> Iterator[Moto]:
    """moto with state machines executed, and the task environment (`name` names the event bus
    `<name>-tests` and the cache table `<name>-cache`; `env` adds or overrides variables).

    Everything it changes (the environment, the cached clients and settings, moto's Lambda
    invocation) is as it was afterwards.
    """
    import boto3
    from moto import mock_aws
    from moto.awslambda.models import LambdaFunction

    from common.core import aws, secrets
    from common.core.observability import metrics
    from common.core.settings import get_settings

    saved = dict(os.environ)
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION, "DATABASE_URL": database_url,
        "EVENT_BUS_NAME": f"{name}-tests", "JWT_SECRET_ARN": "unused",
        "CACHE_TABLE_NAME": f"{name}-cache", "UPLOADS_BUCKET_NAME": "unused",
        "DIAGNOSTICS_STATE_MACHINE_ARN": "unused",
        "AIRTABLE_ENDPOINT_URL": airtable_url, "AIRTABLE_RATE_LIMIT": "0",
        "POWERTOOLS_METRICS_DISABLED": "true", **env})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    # The template's POWERTOOLS_METRICS_NAMESPACE, for a Metrics object made at import time.
    namespace, metrics.provider.namespace = metrics.provider.namespace, "PyAirtable"
    invoke = LambdaFunction._invoke_lambda
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        aws.client.cache_clear()
        secrets._providers.clear()
        session = boto3.session.Session(region_name=REGION)
        key = session.client("kms").create_key()["KeyMetadata"]["KeyId"]
        token_arn = session.client("secretsmanager").create_secret(
            Name="airtable", SecretString=json.dumps({"token": token}))["ARN"]
        session.client("dynamodb").create_table(
            TableName=f"{name}-cache", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        session.client("events").create_event_bus(Name=f"{name}-tests")
        role = session.client("iam").create_role(
            RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        os.environ.update({"TOKEN_KEY_ID": key, "AIRTABLE_TOKEN_SECRET_ARN": token_arn})
        get_settings.cache_clear()
        try:
            yield Moto(session, role)
        finally:
            LambdaFunction._invoke_lambda = invoke
            metrics.provider.namespace = namespace
            aws.client.cache_clear()
            secrets._providers.clear()
            os.environ.clear()
            os.environ.update(saved)
            get_settings.cache_clear()


def handler_of(folder: str) -> Any:
    """functions/<folder>/app.py's `lambda_handler`, loaded under a name of its own."""
    path = ROOT / "functions" / folder / "app.py"
    spec = importlib.util.spec_from_file_location(f"{folder}_app", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


def member(prefix: str) -> tuple[str, str]:
    """A new user, owner of a personal workspace that uses the default Airtable connection."""
    from common.core.db import UnitOfWork
    from common.core.models import AirtableConnection, User, Workspace, WorkspaceMember

    with UnitOfWork() as uow:
        user = User(email=f"{prefix}-{uuid.uuid4().hex[:8]}@example.com", password_hash="x",
                    username=f"{prefix}{uuid.uuid4().hex[:6]}", preferences={"theme": "dark"})
        uow.session.add(user)
        uow.flush()
        workspace = Workspace(name="Personal", personal_of=user.id)
        uow.session.add(workspace)
        uow.flush()
        uow.session.add(WorkspaceMember(workspace_id=workspace.id, user_id=user.id, role="owner"))
        uow.session.add(AirtableConnection(workspace_id=workspace.id, user_id=user.id,
                                           name="Default", uses_default=True, token_last4=""))
        uow.commit()
        return user.id, workspace.id
