"""Read template.yaml and expand it with SAM's own translator, as `sam validate` does."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samcli.yamlhelper import yaml_parse

# Keys that name local paths; SAM's translator only accepts S3 locations there.
_LOCAL_PATH_KEYS = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}


class _NoManagedPolicies:
    """The template names no AWS managed policy by name, so no IAM lookup is needed."""

    def load(self) -> dict[str, str]:
        return {}


@dataclass
class Stack:
    """The translated CloudFormation template plus what translation hides (local paths)."""

    root: Path
    name: str
    sam: dict[str, Any]
    resources: dict[str, dict[str, Any]]
    parameters: dict[str, Any]
    conditions: dict[str, Any]
    outputs: dict[str, Any]
    local_paths: dict[str, Path] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)


def load_stack(template_path: Path, stack_name: str, parameters: dict[str, str],
               region: str, account_id: str) -> Stack:
    """Parse and translate the template; local paths are remembered per logical id."""
    from samtranslator.translator.transform import transform

    sam = yaml_parse(template_path.read_text(encoding="utf-8"))
    fragment = copy.deepcopy(sam)
    local_paths: dict[str, Path] = {}
    for logical_id, resource in fragment.get("Resources", {}).items():
        key = _LOCAL_PATH_KEYS.get(resource.get("Type", ""))
        props = resource.get("Properties", {})
        if key and isinstance(props.get(key), str):
            local_paths[logical_id] = (template_path.parent / props[key]).resolve()
            props[key] = f"s3://local-runtime/{logical_id}"
    values = {**_parameter_defaults(sam), **parameters, "AWS::Region": region,
              "AWS::AccountId": account_id, "AWS::StackName": stack_name,
              "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
    refuse_broken_rules(sam, values)
    cfn = transform(fragment, values, _NoManagedPolicies())
    return Stack(root=template_path.parent, name=stack_name, sam=sam,
                 resources=cfn["Resources"], parameters=values,
                 conditions=cfn.get("Conditions", {}), outputs=cfn.get("Outputs", {}),
                 local_paths=local_paths, mappings=cfn.get("Mappings", {}))


def refuse_broken_rules(sam: dict[str, Any], values: dict[str, Any]) -> None:
    """What CloudFormation does with the template's `Rules`: a rule whose condition holds and
    one of whose assertions does not refuses the parameters, with the assertion's words."""
    from local.runtime.intrinsics import Resolver

    resolver = Resolver(values, sam.get("Conditions", {}))
    for name, rule in sam.get("Rules", {}).items():
        if "RuleCondition" in rule and not resolver.resolve(rule["RuleCondition"]):
            continue
        for assertion in rule.get("Assertions", []):
            if not resolver.resolve(assertion["Assert"]):
                raise ValueError(f"Template rule {name}: "
                                 f"{assertion.get('AssertDescription', 'assertion failed')}")


def _parameter_defaults(sam: dict[str, Any]) -> dict[str, Any]:
    return {name: spec["Default"] for name, spec in sam.get("Parameters", {}).items()
            if "Default" in spec}
