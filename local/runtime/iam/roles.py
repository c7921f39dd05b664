"""A role's policy documents as the translated template defines them, resolved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# AWS managed policies are not in the template, only their ARNs: their documents ship here.
_MANAGED = Path(__file__).with_name("managed_policies.json")


def managed_policies() -> dict[str, dict[str, Any]]:
    """The managed policy documents known locally, by ARN."""
    return json.loads(_MANAGED.read_text(encoding="utf-8"))


def role_documents(properties: dict[str, Any], template_policies: dict[str, Any] | None = None
                   ) -> dict[str, dict[str, Any]]:
    """Every policy document of a resolved `AWS::IAM::Role`, by policy name or managed policy
    name; `template_policies` are the template's own managed policies, by ARN."""
    known = {**managed_policies(), **(template_policies or {})}
    documents: dict[str, dict[str, Any]] = {}
    for arn in properties.get("ManagedPolicyArns", []):
        if arn not in known:
            raise ValueError(f"managed policy {arn} is not known locally: add its document to "
                             f"{_MANAGED.relative_to(_MANAGED.parents[3])}")
        documents[arn.rsplit("/", 1)[-1]] = known[arn]
    for inline in properties.get("Policies", []):
        documents[inline["PolicyName"]] = inline["PolicyDocument"]
    return documents


def boundary_document(properties: dict[str, Any], template_policies: dict[str, Any] | None = None
                      ) -> dict[str, Any] | None:
    """The permissions boundary of a resolved role (a managed policy's document), if it has one."""
    arn = properties.get("PermissionsBoundary")
    if not arn:
        return None
    known = {**managed_policies(), **(template_policies or {})}
    if arn not in known:
        raise ValueError(f"permissions boundary {arn} is not known locally")
    return known[arn]


def granted_actions(resources: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """Each role of a translated template with the managed policies it attaches and the actions
    its own policies allow (both branches of a condition: what it may ever be granted), and
    each managed policy the template defines with its actions."""
    out: dict[str, dict[str, list[str]]] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::IAM::ManagedPolicy":  # the template's own
            document = {"PolicyDocument": resource["Properties"]["PolicyDocument"]}
            out[logical_id] = {"actions": sorted(_allowed_actions([document]))}
            excepted = _allowed_actions([document], key="NotAction")
            if excepted:
                out[logical_id]["not_actions"] = sorted(excepted)
        if resource["Type"] != "AWS::IAM::Role":
            continue
        props = resource.get("Properties", {})
        managed = [_policy_name(arn) for arn in _leaves(props.get("ManagedPolicyArns", []))]
        out[logical_id] = {"managed": sorted(set(managed)),
                           "actions": sorted(_allowed_actions(props.get("Policies", [])))}
        boundaries = [_policy_name(b) for b in _leaves(props.get("PermissionsBoundary", []))]
        if boundaries:
            out[logical_id]["boundary"] = sorted(set(boundaries))
    return out


def _policy_name(arn: Any) -> str:
    if isinstance(arn, dict) and "Ref" in arn:
        return str(arn["Ref"])  # one of the template's own managed policies
    return str(arn).rsplit("/", 1)[-1]


def _leaves(value: Any) -> list[Any]:
    """The values a possibly conditional list holds (`Fn::If` branches both, no `NoValue`)."""
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, dict) and "Fn::If" in value:
        return _leaves(value["Fn::If"][1:])
    if value == {"Ref": "AWS::NoValue"}:
        return []
    return [value]


def _allowed_actions(policies: Any, key: str = "Action") -> set[str]:
    actions: set[str] = set()
    for policy in _leaves(policies):
        for statement in _leaves(policy.get("PolicyDocument", {}).get("Statement", [])):
            if statement.get("Effect") == "Allow":
                actions.update(str(a) for a in _leaves(statement.get(key, [])))
    return actions
