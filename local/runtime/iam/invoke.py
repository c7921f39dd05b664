"""Lambda's resource policy: which service may invoke a function (AWS::Lambda::Permission)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local.runtime.iam.policy import matches


@dataclass(frozen=True)
class Caller:
    """A service invoking a function on behalf of one of its resources."""

    principal: str  # e.g. events.amazonaws.com
    source_arn: str
    source_account: str


class InvokePermissions:
    """The template's `AWS::Lambda::Permission` resources, as Lambda checks them."""

    def __init__(self, permissions: list[dict[str, Any]]) -> None:
        self.permissions = permissions

    def allows(self, function_arn: str, caller: Caller) -> bool:
        """Whether some permission lets `caller` invoke the function."""
        name = _function_name(function_arn)
        return any(self._grants(p, name, caller) for p in self.permissions)

    def refusal(self, function_arn: str, caller: Caller) -> str | None:
        """None when allowed, else why (as the runtime logs it)."""
        if self.allows(function_arn, caller):
            return None
        return (f"{caller.principal} is not allowed to invoke {_function_name(function_arn)} "
                f"for {caller.source_arn}: no AWS::Lambda::Permission in the template grants it")

    @staticmethod
    def _grants(permission: dict[str, Any], name: str, caller: Caller) -> bool:
        if _function_name(str(permission["FunctionName"])) != name:
            return False
        if permission.get("Action") not in {"lambda:InvokeFunction", "lambda:*"}:
            return False
        if permission.get("Principal") != caller.principal:
            return False
        source_arn = permission.get("SourceArn")
        if source_arn and not matches(str(source_arn), caller.source_arn):
            return False
        account = permission.get("SourceAccount")
        return not account or str(account) == caller.source_account


def _function_name(name_or_arn: str) -> str:
    return name_or_arn.split(":function:")[-1].split(":")[0]
