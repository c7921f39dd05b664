"""The saga machines in moto's interpreter, their task Lambda called in this process.

Real: the ASL files (Retry, Catch, Choice, loops), functions/saga_tasks/app.py and everything it
calls, PostgreSQL (or SQLite), the Airtable emulator behind pyairtable and the shared limiter.
`SagaMachines.faults` makes the Lambda boundary raise a named error before the real task runs,
as a Lambda that failed would: the only way to get a 503 or a throttle on cue.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from local.airtable_emulator import AirtableEmulator
from tests.statemachines.harness import REGION, handler_of, member, moto_for_tasks

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
        return member("saga")[0]

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
        from common.core.db import UnitOfWork
        from common.sagas import service

        return service.create(UnitOfWork(), kind, self.workspace_id, self.user_id, data)

    def wait(self, saga_id: str, timeout: float = 60) -> dict[str, Any]:
        """The saga once its executions have ended."""
        from common.core.db import UnitOfWork
        from common.core.models import Saga

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
        from common.core.db import UnitOfWork
        from common.sagas import service

        return service.get(saga_id, UnitOfWork(), self.member(user_id)).model_dump(mode="json")

    def member(self, user_id: str | None = None) -> Any:
        """The member (or `user_id`) as the API's caller."""
        from common.core.identity import Identity

        return Identity(user_id=user_id or self.user_id, role="member")

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


@pytest.fixture(scope="module")
def sagas(database_url: str) -> Iterator[SagaMachines]:
    """moto with the three saga machines, the emulator, a member with the default connection."""
    from moto.awslambda.models import LambdaFunction

    from common.airtable.client import shared_limiter
    from common.core.settings import get_settings
    from common.sagas import service

    emulator = AirtableEmulator(tokens={TOKEN: "usrSAGAS000000001"}, rate_limit=None).start()
    try:
        with moto_for_tasks("saga", database_url, emulator.url, TOKEN) as aws:
            tasks = {"SagaTasksFunctionArn": aws.function("saga-tasks")}
            arns = {kind: aws.machine(name, kind, tasks, type="EXPRESS" if kind ==
                                      "user_onboarding" else "STANDARD")
                    for kind, name in MACHINES.items()}
            sample_base_id = emulator.seed_demo()
            bases = [emulator.create_base(f"Sagas {n}", tables=[
                {"name": "Contacts", "fields": CONTACTS}, {"name": "Deals", "fields": DEALS}])
                for n in range(32)]
            os.environ.update({
                "SAGA_STATE_MACHINES": ",".join(f"{k}={v}" for k, v in arns.items()),
                "ONBOARDING_SAMPLE_BASE_ID": sample_base_id})
            get_settings.cache_clear()
            shared_limiter.cache_clear()
            service.state_machines.cache_clear()
            user_id, workspace_id = member("saga")
            machines = SagaMachines(aws.session.client("stepfunctions"), emulator, user_id,
                                    workspace_id, sample_base_id, handler_of("saga_tasks"),
                                    bases=bases)
            LambdaFunction._invoke_lambda = lambda fn, event=None: machines.invoke(event or {})
            try:
                yield machines
            finally:
                shared_limiter.cache_clear()
                service.state_machines.cache_clear()
    finally:
        emulator.stop()


@pytest.fixture(autouse=True)
def _no_leftover_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sagas" in request.fixturenames:
        machines: SagaMachines = request.getfixturevalue("sagas")
        machines.faults.clear()
        machines.calls.clear()
