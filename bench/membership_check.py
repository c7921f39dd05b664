"""The cost of the workspace access rule on an Airtable route, in-process.

Compares, per request, finding the connection for a base the new way (the caller's
connections joined with their memberships, plus the check that the connection reaches the
base) against the old way (the caller's first connection, one query), with a warm process:
`python -m bench.membership_check` (DATABASE_URL as for the tests).
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

RUNS = 300
ENV = {"EVENT_BUS_NAME": "bus", "JWT_SECRET_ARN": "jwt", "CACHE_TABLE_NAME": "bench-cache",
       "UPLOADS_BUCKET_NAME": "uploads",
       "DIAGNOSTICS_STATE_MACHINE_ARN": "sm", "TOKEN_KEY_ID": "key",
       "DEFAULT_CONNECTION": "every_workspace", "AWS_DEFAULT_REGION": "us-east-1",
       "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
TOKEN = "patBENCH00000000.bench"


def _median_ms(action: Any) -> float:
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure() -> dict[str, float]:
    """Median milliseconds of each way, and the difference."""
    from moto import mock_aws

    from local.airtable_emulator import AirtableEmulator

    os.environ.update(ENV)
    emulator = AirtableEmulator(tokens={TOKEN: "usrBENCH000000001"}, rate_limit=None).start()
    mocked = mock_aws()
    mocked.start()
    try:
        return _measure(emulator)
    finally:
        mocked.stop()
        emulator.stop()


def _measure(emulator: Any) -> dict[str, float]:
    import boto3

    secret = boto3.client("secretsmanager").create_secret(
        Name="bench-airtable", SecretString=f'{{"token": "{TOKEN}"}}')["ARN"]
    os.environ.update({**ENV, "AIRTABLE_ENDPOINT_URL": emulator.url,
                       "AIRTABLE_TOKEN_SECRET_ARN": secret})
    boto3.client("events").create_event_bus(Name="bus")
    boto3.client("dynamodb").create_table(
        TableName="bench-cache", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")
    from sqlalchemy import select

    from common.airtable import connections
    from common.core.db import UnitOfWork
    from common.core.models import AirtableConnection, User
    from common.workspaces import service as workspaces
    from tests.conftest import reset_database

    reset_database(os.environ["DATABASE_URL"])
    base_id = emulator.create_base("Bench", tables=[{"name": "T", "fields": [
        {"name": "Name", "type": "singleLineText"}]}])
    with UnitOfWork() as uow:
        user = User(email="bench@example.com", password_hash="x", preferences={})
        uow.session.add(user)
        uow.flush()
        workspaces.create_personal(uow, user)
        uow.commit()
        user_id = user.id

    def new_way() -> None:
        with UnitOfWork() as uow:
            connections.for_base(uow, user_id, base_id, "editor")

    def old_way() -> None:
        with UnitOfWork() as uow:
            uow.session.scalars(select(AirtableConnection).where(
                AirtableConnection.user_id == user_id).order_by(
                AirtableConnection.created_at).limit(1)).first()

    new_way()  # warm: the base list is cached and the process remembers the base
    old, new = _median_ms(old_way), _median_ms(new_way)
    return {"old_ms": round(old, 3), "new_ms": round(new, 3), "extra_ms": round(new - old, 3)}


if __name__ == "__main__":
    figures = measure()
    print(f"connection lookup, median of {RUNS}: old {figures['old_ms']} ms, "
          f"with the access rule {figures['new_ms']} ms, extra {figures['extra_ms']} ms")
