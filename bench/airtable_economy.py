"""Airtable requests per operation and write throughput into one base, in-process: the layer's
own services against the Airtable emulator enforcing 5 requests/s per base, moto for DynamoDB
(the read cache) and KMS (connection tokens), the limiter's slots in DATABASE_URL."""

from __future__ import annotations

import math
import os
import statistics
import time
from typing import Any

from bench.report import Row

TOKEN = "patBENCHECONOMY0000.bench"
ENV = {"EVENT_BUS_NAME": "bus", "JWT_SECRET_ARN": "jwt", "CACHE_TABLE_NAME": "bench-cache",
       "UPLOADS_BUCKET_NAME": "uploads",
       "DIAGNOSTICS_STATE_MACHINE_ARN": "sm", "TOKEN_KEY_ID": "key",
       "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench",
       "AWS_SECRET_ACCESS_KEY": "bench", "POWERTOOLS_METRICS_DISABLED": "true"}
WRITE_SIZES = (1, 10, 25, 95)
THROUGHPUT_RECORDS = 500  # the most one request may write (records.MAX_RECORDS)
PHYSICAL_LIMIT = 50.0  # 5 requests/s x 10 records per request
THROUGHPUT_GOAL = 0.97


def measure() -> list[Row]:
    """Every row of this part."""
    from moto import mock_aws

    from local.airtable_emulator import AirtableEmulator

    os.environ.pop("AWS_ENDPOINT_URL", None)
    emulator = AirtableEmulator(tokens={TOKEN: "usrBENCHECONOMY01"}, rate_limit=5).start()
    os.environ.update({**ENV, "AIRTABLE_ENDPOINT_URL": emulator.url})
    mocked = mock_aws()
    mocked.start()
    try:
        return _measure(emulator)
    finally:
        mocked.stop()
        emulator.stop()


def _measure(emulator: Any) -> list[Row]:
    import boto3

    from common.core.migrate import upgrade

    upgrade(os.environ["DATABASE_URL"])
    key_id = boto3.client("kms").create_key()["KeyMetadata"]["KeyId"]
    os.environ["TOKEN_KEY_ID"] = key_id
    boto3.client("dynamodb").create_table(
        TableName="bench-cache", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")
    from common.airtable.connections import Access
    from common.airtable.crypto import decrypt_token, encrypt_token
    from common.core.aws import client

    decrypts = {"n": 0}
    client("kms").meta.events.register("before-call.kms.Decrypt",
                                       lambda **_: decrypts.__setitem__("n", decrypts["n"] + 1))
    ciphertext = encrypt_token(TOKEN, "usr-bench")

    def access() -> Access:
        # As a request builds it: the token decrypts only when Airtable must be called.
        return Access("bench-connection", lambda: decrypt_token(ciphertext, "usr-bench"))

    base = emulator.create_base("Bench", tables=[
        {"name": "Rows", "fields": [{"name": "Name", "type": "singleLineText"}]}])
    rows = _writes(emulator, base, access)
    rows += _reads(emulator, base, access, decrypts)
    emulator.reset_rate_limits()
    rows.append(_throughput(emulator, access))
    return rows


def _sent(emulator: Any, base: str) -> int:
    return len(emulator.requests_for(base))


def _writes(emulator: Any, base: str, access: Any) -> list[Row]:
    from common.airtable import records

    counts = []
    for n in WRITE_SIZES:
        before = _sent(emulator, base)
        records.create(access(), base, "Rows", [{"fields": {"Name": f"w{i}"}} for i in range(n)],
                       typecast=False)
        counts.append((n, _sent(emulator, base) - before))
    ok = all(sent == math.ceil(n / 10) for n, sent in counts)
    return [Row("Airtable requests to write N records",
                ", ".join(f"N={n}: {sent}" for n, sent in counts),
                ", ".join(f"{math.ceil(n / 10)}" for n, _ in counts), None, "ceil(N/10)", ok)]


def _reads(emulator: Any, base: str, access: Any, decrypts: dict[str, int]) -> list[Row]:
    from common.airtable import records, schema

    hits, misses, repeat_sent = [], [], []
    for size in range(5, 15):
        started = time.perf_counter()
        miss = records.list_page(access(), base, "Rows", {"page_size": size}, None)
        misses.append((time.perf_counter() - started) * 1000)
        before = _sent(emulator, base)
        started = time.perf_counter()
        hit = records.list_page(access(), base, "Rows", {"page_size": size}, None)
        hits.append((time.perf_counter() - started) * 1000)
        repeat_sent.append(_sent(emulator, base) - before)
        assert (miss.hit, hit.hit) == (False, True)
    schema.base_schema(access(), base)
    before, decrypts["n"] = _sent(emulator, base), 0
    cached = schema.base_schema(access(), base)
    schema_sent, schema_decrypts = _sent(emulator, base) - before, decrypts["n"]
    hit_ms, miss_ms = statistics.median(hits), statistics.median(misses)
    return [
        Row("Airtable requests for a repeated read within the TTL", str(max(repeat_sent)),
            "first read: 1", None, "0", max(repeat_sent) == 0, "10 page sizes"),
        Row("cached read (hit) vs first read (miss), in-process", f"{hit_ms:.2f} ms",
            f"miss {miss_ms:.2f} ms", round(hit_ms / miss_ms, 2), "< 1", hit_ms < miss_ms),
        Row("schema read from cache: Airtable requests, KMS decrypts",
            f"{schema_sent} requests, {schema_decrypts} decrypts", "", None, "0 and 0",
            cached.hit and schema_sent == 0 and schema_decrypts == 0),
    ]


def _throughput(emulator: Any, access: Any) -> Row:
    from common.airtable import records

    base = emulator.create_base("Throughput", tables=[
        {"name": "Rows", "fields": [{"name": "Name", "type": "singleLineText"}]}])
    rows = [{"fields": {"Name": f"row {i}"}} for i in range(THROUGHPUT_RECORDS)]
    started = time.perf_counter()
    records.create(access(), base, "Rows", rows, typecast=False)
    elapsed = time.perf_counter() - started
    statuses = [entry[-1] for entry in emulator.requests_for(base)]
    rate = THROUGHPUT_RECORDS / elapsed
    refused = sum(1 for s in statuses if s == 429)
    ratio = rate / PHYSICAL_LIMIT
    return Row(f"records written per second into one base ({THROUGHPUT_RECORDS} records)",
               f"{rate:.1f}/s, {refused} x 429", f"{PHYSICAL_LIMIT:.0f}/s (5 req/s x 10)",
               round(ratio, 3), f">= {THROUGHPUT_GOAL} and 0 x 429",
               ratio >= THROUGHPUT_GOAL and refused == 0, f"{len(statuses)} requests")
