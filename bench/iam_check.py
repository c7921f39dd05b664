"""The cost of local IAM enforcement per AWS call, in-process.

Each call a worker makes is checked against its role before botocore sends it: this measures
the check alone (the FilesFunction role as the translated template defines it) and a whole
stubbed botocore call with and without the hook: `python -m bench.iam_check`.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.report import ROOT, Row

RUNS = 2000
# Calls FilesFunction's role allows (resources named as _files_role resolves them).
CALLS = [("s3", "PutObject", {"Bucket": "pyairtable-uploads-123456789012", "Key": "uploads/a"}),
         ("dynamodb", "GetItem", {"TableName": "CacheTable", "Key": {"pk": {"S": "k"}}}),
         ("events", "PutEvents", {"Entries": [{"Source": "pyairtable", "DetailType": "x",
                                               "Detail": "{}", "EventBusName": "EventBus"}]}),
         ("states", "StartExecution", {
             "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:"
                                "FileImportStateMachine", "input": "{}"})]


def _median_us(action: Any) -> float:
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1e6)
    return statistics.median(samples)


def _files_role() -> Any:
    from local.runtime.iam.hook import Role
    from local.runtime.iam.policy import Policy
    from local.runtime.iam.roles import role_documents
    from local.runtime.intrinsics import Resolver
    from local.runtime.template import load_stack

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    stack = load_stack(Path(ROOT) / "template.yaml", "pyairtable",
                       {"DatabaseSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:"
                                             "secret:db",
                        "Registration": "open"},  # invite needs AdminEmails (a template rule)
                       "us-east-1", "123456789012")
    resolver = Resolver(stack.parameters, stack.conditions)
    for lid in stack.resources:  # a reference resolves to its logical id: enough to match
        resolver.refs.setdefault(lid, lid)
        attrs = resolver.attrs.setdefault(lid, defaultdict(lambda lid=lid: lid))  # any attribute
        # The proxy's id is read out of its ARN (Fn::Select 6 of Fn::Split ':').
        attrs.setdefault("DBProxyArn", f"arn:aws:rds:us-east-1:123456789012:db-proxy:{lid}")
    resolver.attrs["CacheTable"]["Arn"] = "arn:aws:dynamodb:us-east-1:123456789012:table/" \
                                          "CacheTable"
    template_policies = {lid: resolver.resolve(r["Properties"]["PolicyDocument"])
                         for lid, r in stack.resources.items()
                         if r["Type"] == "AWS::IAM::ManagedPolicy"}
    props = resolver.resolve(stack.resources["FilesFunctionRole"]["Properties"])
    return Role(name="FilesFunctionRole", logical_id="FilesFunctionRole",
                function_name="files", function_logical_id="FilesFunction",
                policy=Policy.of(role_documents(props, template_policies)), region="us-east-1",
                account="123456789012")


def _stubbed_call(role: Any) -> Any:
    import boto3
    from botocore.stub import Stubber

    from local.runtime.iam.hook import register

    session = boto3.session.Session(aws_access_key_id="b", aws_secret_access_key="b",
                                    region_name="us-east-1")
    if role is not None:
        register(session._session, role)
    events = session.client("events", endpoint_url="http://127.0.0.1:9")
    stubber = Stubber(events)
    entries = CALLS[2][2]["Entries"]
    for _ in range(RUNS):
        stubber.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{}]})
    stubber.activate()
    return lambda: events.put_events(Entries=entries)


def measure() -> list[Row]:
    """The check's median microseconds per call kind, and the whole call with and without it."""
    role = _files_role()
    refused = [(p, o) for p, o, a in CALLS if role.refusal(p, o, a)]
    assert not refused, f"the bench measures allowed calls: {refused}"
    rows = [Row(f"IAM check of {prefix}:{operation}, µs per call",
                f"{_median_us(lambda p=prefix, o=operation, a=params: role.refusal(p, o, a)):.1f}"
                " µs", note=f"median of {RUNS}, FilesFunction's role")
            for prefix, operation, params in CALLS]
    without = _median_us(_stubbed_call(None))
    with_check = _median_us(_stubbed_call(role))
    rows.append(Row("a stubbed PutEvents call with the IAM hook, µs",
                    f"{with_check:.0f} µs", f"without {without:.0f} µs",
                    round(with_check / without, 2), "", None, f"median of {RUNS}"))
    return rows


if __name__ == "__main__":
    for row in measure():
        print(f"{row.figure:55} {row.value:>10}  {row.reference} {row.ratio or ''}")
