"""The saga machines in moto's interpreter, their task Lambda called in this process.

Real: the ASL files (Retry, Catch, Choice, loops), functions/saga_tasks/app.py and everything it
calls, PostgreSQL (or SQLite), the Airtable emulator behind pyairtable and the shared limiter.
`SagaMachines.faults` makes the Lambda boundary raise a named error before the real task runs,
as a Lambda that failed would: the only way to get a 503 or a throttle on cue.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from local.airtable_emulator import AirtableEmulator

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
TOKEN = "patSAGAS000000.test"
MACHINES = {"airtable_transaction": "airtable-transaction",
            "user_onboarding": "user-onboarding",
            "airtable_integration": "airtable-integration"}
CONTACTS = [{"name": "Name", "type": "singleLineText"}, {"name": "Email", "type": "email"},
            {"name": "Score", "type": "number", "options": {"precision": 0}}]
DEALS = [{"name": "Deal", "type": "singleLineText"},
         {"name": "Amount", "type": "currency", "options": {"precision": 2, "symbol": "$"}}]


class _Context:
    function_name = "saga-tasks"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:saga-tasks"
    aws_request_id = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass
class SagaMachines:
    """What a test drives: Step Functions, the emulator, a member and their base."""

    sfn: Any
    emulator: AirtableEmulator
    user_id: str
    workspace_id: str
    sample_base_id: str
    handler: Any
    # action (or "action:step") -> errors to raise, one per invocation, before the real task
    faults: dict[str, list[Exception | None]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)

    def new_base(self) -> str:
        """A fresh base with Contacts and Deals, two rows each.

        The bases exist from the start: a connection lists its bases once and sees a new one
        only after a while (common.airtable.connections.RELIST_SECONDS).
        """
        base_id = self.bases.pop()
        api = _api(self.emulator)
        api.table(base_id, "Contacts").batch_create([
            {"Name": "Ada", "Email": "ada@example.com", "Score": 90},
            {"Name": "Grace", "Email": "grace@example.com", "Score": 80}])
        api.table(base_id, "Deals").batch_create([{"Deal": "Engines", "Amount": 100.0},
                                                  {"Deal": "Compilers", "Amount": 250.5}])
        return base_id

    def new_member(self) -> str:
        """Another user with a personal workspace that reaches every base; returns the id."""
        return _member()[0]

    def invoke(self, event: dict[str, Any]) -> tuple[str, bool, str]:
        """The task Lambda as moto's Step Functions calls it (payload, is error, logs)."""
        key = event.get("action", "")
        self.calls.append(f"{key}:{event['step']}" if "step" in event else key)
        for name in (f"{key}:{event.get('step')}", key):
            if self.faults.get(name):
                error = self.faults[name].pop(0)
                if error is not None:  # None lets this invocation run for real
                    return _error(error), True, ""
                break
        try:
            return json.dumps(self.handler(event, _Context()), default=str), False, ""
        except Exception as e:  # reported as Lambda reports a function error: by type name
            return _error(e), True, ""

    def start(self, kind: str, data: dict[str, Any]) -> str:
        """Start a saga the way POST /api/sagas does; returns its id."""
        from common.sagas import service

        return service.create(kind, self.workspace_id, self.user_id, data)

    def wait(self, saga_id: str, timeout: float = 60) -> dict[str, Any]:
        """The saga once its executions have ended."""
        from common.db import UnitOfWork
        from common.models import Saga

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with UnitOfWork() as uow:
                saga = uow.session.get(Saga, saga_id)
                arns = [a for a in (saga.execution_arn, saga.compensation_arn) if a]
                status, owner = saga.status, saga.created_by
            running = [a for a in arns
                       if self.sfn.describe_execution(executionArn=a)["status"] == "RUNNING"]
            if arns and not running and status not in ("running", "compensating"):
                return self.view(saga_id, owner)
            time.sleep(0.1)
        raise AssertionError(f"saga {saga_id} still running after {timeout}s")

    def view(self, saga_id: str, user_id: str | None = None) -> dict[str, Any]:
        """GET /api/sagas/{id} as the member (or `user_id`) sees it."""
        from common.sagas import service

        return service.get(user_id or self.user_id, saga_id)

    def states(self, execution_arn: str) -> list[str]:
        """The states an execution entered, in order (each one a state transition)."""
        events = self.sfn.get_execution_history(executionArn=execution_arn,
                                                maxResults=1000)["events"]
        return [e["stateEnteredEventDetails"]["name"] for e in events
                if e["type"].endswith("StateEntered")]

    def records(self, base_id: str, table: str) -> dict[str, dict[str, Any]]:
        """What the emulator holds: record id -> fields."""
        return {r["id"]: r["fields"] for r in _api(self.emulator).table(base_id, table).all()}


def _api(emulator: AirtableEmulator) -> Any:
    from pyairtable import Api

    return Api(TOKEN, endpoint_url=emulator.url)


def _error(error: Exception) -> str:
    return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)})


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "")
    return buffer.getvalue()


def _task_handler() -> Any:
    path = ROOT / "functions" / "saga_tasks" / "app.py"
    spec = importlib.util.spec_from_file_location("saga_tasks_app", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


def _member() -> tuple[str, str]:
    from common.db import UnitOfWork
    from common.models import AirtableConnection, User, Workspace, WorkspaceMember

    with UnitOfWork() as uow:
        user = User(email=f"saga-{uuid.uuid4().hex[:8]}@example.com", password_hash="x",
                    username=f"saga{uuid.uuid4().hex[:6]}", preferences={"theme": "dark"})
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


@pytest.fixture(scope="module")
def sagas(database_url: str) -> Iterator[SagaMachines]:
    """moto with the three saga machines, the emulator, a member with the default connection."""
    import boto3
    from moto import mock_aws
    from moto.awslambda.models import LambdaFunction

    from common import aws, secrets
    from common.airtable.client import shared_limiter
    from common.sagas import service
    from common.settings import get_settings

    emulator = AirtableEmulator(tokens={TOKEN: "usrSAGAS000000001"}, rate_limit=None).start()
    saved = dict(os.environ)
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION, "DATABASE_URL": database_url,
        "EVENT_BUS_NAME": "saga-tests", "JWT_SECRET_ARN": "unused",
        "CACHE_TABLE_NAME": "saga-cache", "UPLOADS_BUCKET_NAME": "unused",
        "NOTIFICATIONS_QUEUE_URL": "unused", "DIAGNOSTICS_STATE_MACHINE_ARN": "unused",
        "AIRTABLE_ENDPOINT_URL": emulator.url, "AIRTABLE_RATE_LIMIT": "0",
        "POWERTOOLS_METRICS_DISABLED": "true"})
    # The template's POWERTOOLS_METRICS_NAMESPACE, for a Metrics object made at import time.
    from common.observability import metrics

    namespace, metrics.provider.namespace = metrics.provider.namespace, "PyAirtable"
    os.environ.pop("AWS_ENDPOINT_URL", None)
    original = LambdaFunction._invoke_lambda
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        aws.client.cache_clear()
        secrets._providers.clear()
        session = boto3.session.Session(region_name=REGION)
        key = session.client("kms").create_key()["KeyMetadata"]["KeyId"]
        token_arn = session.client("secretsmanager").create_secret(
            Name="airtable", SecretString=json.dumps({"token": TOKEN}))["ARN"]
        session.client("dynamodb").create_table(
            TableName="saga-cache", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        session.client("events").create_event_bus(Name="saga-tests")
        role = session.client("iam").create_role(
            RoleName="sagas", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        function_arn = session.client("lambda").create_function(
            FunctionName="saga-tasks", Runtime="python3.11", Role=role,
            Handler="app.lambda_handler", Code={"ZipFile": _zip()})["FunctionArn"]
        sfn = session.client("stepfunctions")
        arns = {}
        for kind, name in MACHINES.items():
            definition = (ROOT / "statemachines" / f"{kind}.asl.json").read_text().replace(
                "${SagaTasksFunctionArn}", function_arn)
            arns[kind] = sfn.create_state_machine(
                name=name, definition=definition, roleArn=role,
                type="EXPRESS" if kind == "user_onboarding" else "STANDARD")["stateMachineArn"]
        sample_base_id = emulator.seed_demo()
        bases = [emulator.create_base(f"Sagas {n}", tables=[
            {"name": "Contacts", "fields": CONTACTS}, {"name": "Deals", "fields": DEALS}])
            for n in range(32)]
        os.environ.update({
            "TOKEN_KEY_ID": key, "AIRTABLE_TOKEN_SECRET_ARN": token_arn,
            "SAGA_STATE_MACHINES": ",".join(f"{k}={v}" for k, v in arns.items()),
            "ONBOARDING_SAMPLE_BASE_ID": sample_base_id})
        get_settings.cache_clear()
        shared_limiter.cache_clear()
        service.state_machines.cache_clear()
        user_id, workspace_id = _member()
        machines = SagaMachines(sfn, emulator, user_id, workspace_id, sample_base_id,
                                _task_handler(), bases=bases)
        LambdaFunction._invoke_lambda = lambda fn, event=None: machines.invoke(event or {})
        try:
            yield machines
        finally:
            LambdaFunction._invoke_lambda = original
            metrics.provider.namespace = namespace
            aws.client.cache_clear()
            secrets._providers.clear()
            os.environ.clear()
            os.environ.update(saved)
            get_settings.cache_clear()
            shared_limiter.cache_clear()
            service.state_machines.cache_clear()
            emulator.stop()


@pytest.fixture(autouse=True)
def _no_leftover_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sagas" in request.fixturenames:
        machines: SagaMachines = request.getfixturevalue("sagas")
        machines.faults.clear()
        machines.calls.clear()
