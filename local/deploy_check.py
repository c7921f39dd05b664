"""`make deploy-check`'s policy part: deploy/policy.guard (CloudFormation Guard, through
cfn-guard-rs) over the template as SAM translates it, resource by resource. A finding listed in
deploy/accepted-findings.yaml (rule, resource, reason) passes; any other fails the check. An
accepted finding that no longer occurs is reported, to be removed from the list."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

# The raw report: cfn_guard_rs's own parser of it fails on a rule with `or`.
from cfn_guard_rs.cfn_guard_rs import run_checks_rs

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "deploy" / "policy.guard"
ACCEPTED = ROOT / "deploy" / "accepted-findings.yaml"
# Every optional resource in: a VPC, an Airtable token secret, a mail identity, an RDS Proxy.
PARAMETERS = {"DatabaseSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db",
              "AirtableTokenSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:at",
              "SubnetIds": "subnet-0123456789abcdef0", "SecurityGroupIds": "sg-0123456789abcdef0",
              "CreateMailIdentity": "true", "AdminEmails": "admin@example.com",
              "UseRdsProxy": "true", "DatabaseInstanceId": "pyairtable-db"}


def translated_resources() -> dict[str, dict[str, Any]]:
    """The template's resources after the SAM transform (what CloudFormation deploys)."""
    from local.runtime.template import load_stack

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return load_stack(ROOT / "template.yaml", "pyairtable", PARAMETERS, "us-east-1",
                      "123456789012").resources


def findings(resources: dict[str, dict[str, Any]], rules: str) -> set[tuple[str, str]]:
    """(rule, logical id) for each rule a resource does not comply with."""
    found = set()
    for logical_id, resource in resources.items():
        raw = run_checks_rs(json.dumps({"Resources": {logical_id: resource}}), rules, False)
        try:
            report = json.loads(raw)
        except json.JSONDecodeError as e:
            # cfn-guard-rs cuts the start off a long report (a rule failing on a large parent
            # value): compare a leaf instead.
            raise RuntimeError(f"Guard's report on {logical_id} is unreadable") from e
        found |= {(clause["Rule"]["name"], logical_id) for clause in report["not_compliant"]
                  if "Rule" in clause}
    return found


def accepted() -> dict[tuple[str, str], str]:
    """(rule, logical id) -> why it is accepted."""
    entries = yaml.safe_load(ACCEPTED.read_text()) or []
    return {(e["rule"], e["resource"]): e["reason"] for e in entries}


def main() -> int:
    """Print the findings; 1 when one is not accepted."""
    found = findings(translated_resources(), RULES.read_text())
    known = accepted()
    new = sorted(found - known.keys())
    gone = sorted(known.keys() - found)
    for rule, resource in new:
        print(f"FINDING  {rule}: {resource}")
    for rule, resource in gone:
        print(f"STALE    {rule}: {resource} is accepted in {ACCEPTED.name} but no longer found "
              "(remove the entry)")
    print(f"policy: {len(found)} findings, {len(found & known.keys())} accepted with a reason, "
          f"{len(new)} not accepted, {len(gone)} stale")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
