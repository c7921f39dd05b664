"""No role holds a permission nobody reviewed: each role's grants in the translated template are
exactly what iam-allowlist.yaml (beside the template) lists."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from local.runtime.iam.roles import granted_actions
from local.runtime.template import load_stack

ROOT = Path(__file__).resolve().parents[2]
# Every optional permission present: the token secret, the mail identity.
PARAMETERS = {"DatabaseSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db",
              "AirtableTokenSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:at",
              "CreateMailIdentity": "true",
              # The template's rule: invite-only registration (the default) needs an admin.
              "AdminEmails": "admin@example.com"}


@pytest.fixture(scope="module")
def granted() -> dict[str, dict[str, list[str]]]:
    import os

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # SAM's translator wants one
    stack = load_stack(ROOT / "template.yaml", "pyairtable", PARAMETERS, "us-east-1",
                       "123456789012")
    return granted_actions(stack.resources)


@pytest.fixture(scope="module")
def allowlist() -> dict[str, dict[str, list[str]]]:
    return yaml.safe_load((ROOT / "iam-allowlist.yaml").read_text(encoding="utf-8"))


def test_every_role_and_template_policy_is_in_the_allowlist(granted, allowlist) -> None:
    assert sorted(granted) == sorted(allowlist), \
        "roles or managed policies added or removed: update iam-allowlist.yaml"


def test_each_role_is_granted_exactly_the_reviewed_actions(granted, allowlist) -> None:
    differences = {}
    for role, grants in granted.items():
        listed = allowlist.get(role) or {}
        for key in ("managed", "boundary", "actions", "not_actions"):
            extra = set(grants.get(key, [])) - set(listed.get(key) or [])
            missing = set(listed.get(key) or []) - set(grants.get(key, []))
            if extra or missing:
                differences[f"{role}.{key}"] = {"not reviewed": sorted(extra),
                                                "no longer granted": sorted(missing)}
    assert differences == {}


def test_no_role_can_change_the_buckets_lifecycle_or_scan_the_cache(granted) -> None:
    actions = {a for grants in granted.values() for a in grants["actions"]}
    assert not actions & {"s3:PutLifecycleConfiguration", "dynamodb:Scan",
                          "dynamodb:BatchWriteItem", "s3:*", "dynamodb:*"}


def test_without_a_vpc_every_function_role_is_bounded_to_no_network_interfaces(granted) -> None:
    functions = [role for role, grants in granted.items()
                 if "AWSLambdaVPCAccessExecutionRole" in grants.get("managed", [])]
    assert functions and all(granted[role].get("boundary") == ["NoNetworkInterfaces"]
                             for role in functions)
    assert "ec2:CreateNetworkInterface" in granted["NoNetworkInterfaces"]["not_actions"]
