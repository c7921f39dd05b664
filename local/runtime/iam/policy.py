"""IAM's policy evaluation for one role: an explicit Deny wins, else some Allow must match."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class Request:
    """One authorization question: may the role do `action` on `resource` in `context`?"""

    action: str
    resource: str
    context: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Decision:
    """The answer, with the statement that decided it (None: no statement allowed it)."""

    allowed: bool
    statement: str | None = None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@lru_cache(maxsize=4096)
def _pattern(glob: str, case_sensitive: bool) -> re.Pattern[str]:
    # IAM wildcards: `*` any run of characters (slashes and colons included), `?` one.
    flags = 0 if case_sensitive else re.IGNORECASE
    body = re.escape(glob).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(f"{body}\\Z", flags | re.DOTALL)


def matches(glob: str, value: str, *, case_sensitive: bool = True) -> bool:
    """Whether `value` matches an IAM wildcard pattern."""
    if "*" not in glob and "?" not in glob:
        return glob == value if case_sensitive else glob.lower() == value.lower()
    return _pattern(glob, case_sensitive).match(value) is not None


def _arn_matches(glob: str, value: str) -> bool:
    # ArnLike compares the six colon-separated parts one by one, so `*` never crosses a part
    # boundary before the resource part.
    want, got = glob.split(":", 5), value.split(":", 5)
    if len(want) != 6 or len(got) != 6:
        return False
    return all(matches(w, g) for w, g in zip(want, got, strict=True))


_OPERATORS: dict[str, Any] = {
    "StringEquals": lambda want, got: str(got) == want,
    "StringNotEquals": lambda want, got: str(got) != want,
    "StringEqualsIgnoreCase": lambda want, got: str(got).lower() == want.lower(),
    "StringNotEqualsIgnoreCase": lambda want, got: str(got).lower() != want.lower(),
    "StringLike": lambda want, got: matches(want, str(got)),
    "StringNotLike": lambda want, got: not matches(want, str(got)),
    "ArnEquals": lambda want, got: str(got) == want,
    "ArnNotEquals": lambda want, got: str(got) != want,
    "ArnLike": lambda want, got: _arn_matches(want, str(got)),
    "ArnNotLike": lambda want, got: not _arn_matches(want, str(got)),
    "Bool": lambda want, got: str(got).lower() == str(want).lower(),
    "NumericEquals": lambda want, got: float(got) == float(want),
    "NumericLessThan": lambda want, got: float(got) < float(want),
    "NumericLessThanEquals": lambda want, got: float(got) <= float(want),
    "NumericGreaterThan": lambda want, got: float(got) > float(want),
    "NumericGreaterThanEquals": lambda want, got: float(got) >= float(want),
}
# Negated operators hold when every value differs, the others when any value matches.
_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals",
            "ArnNotLike"}


def _condition_holds(operator: str, key: str, wanted: Any, context: dict[str, Any]) -> bool:
    if operator == "Null":
        absent = key not in context
        return all(absent == (str(w).lower() == "true") for w in _as_list(wanted))
    qualifier, _, operator = operator.rpartition(":")
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    if operator not in _OPERATORS:
        raise ValueError(f"condition operator {operator!r} is not supported locally")
    if key not in context:
        # ForAllValues over no values holds (an empty set has no value that fails).
        return if_exists or qualifier == "ForAllValues"
    test = _OPERATORS[operator]
    values = [str(w) for w in _as_list(wanted)]
    got = _as_list(context[key])
    if qualifier == "ForAllValues":
        return all(any(test(w, g) for w in values) for g in got)
    combine = all if operator in _NEGATED else any
    return any(combine(test(w, g) for w in values) for g in got)


@dataclass(frozen=True)
class Statement:
    """One statement of a policy document."""

    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    condition: dict[str, dict[str, Any]]
    label: str

    @classmethod
    def parse(cls, raw: dict[str, Any], label: str) -> Statement:
        return cls(effect=raw["Effect"], actions=tuple(_as_list(raw.get("Action"))),
                   not_actions=tuple(_as_list(raw.get("NotAction"))),
                   resources=tuple(str(r) for r in _as_list(raw.get("Resource"))),
                   not_resources=tuple(str(r) for r in _as_list(raw.get("NotResource"))),
                   condition=raw.get("Condition") or {},
                   label=f"{label}:{raw['Sid']}" if raw.get("Sid") else label)

    def applies(self, request: Request) -> bool:
        if self.actions:
            if not any(matches(a, request.action, case_sensitive=False) for a in self.actions):
                return False
        elif any(matches(a, request.action, case_sensitive=False) for a in self.not_actions):
            return False
        if self.resources:
            if not any(matches(r, request.resource) for r in self.resources):
                return False
        elif any(matches(r, request.resource) for r in self.not_resources):
            return False
        return all(_condition_holds(operator, key, wanted, request.context)
                   for operator, keys in self.condition.items()
                   for key, wanted in keys.items())


@dataclass
class Policy:
    """Every statement of a role (its inline policies and its managed policies)."""

    statements: list[Statement] = field(default_factory=list)

    @classmethod
    def of(cls, documents: dict[str, dict[str, Any]]) -> Policy:
        """A policy from documents by name (the name labels each statement in decisions)."""
        return cls([Statement.parse(raw, name) for name, document in documents.items()
                    for raw in _as_list(document.get("Statement"))])

    def decide(self, request: Request) -> Decision:
        """IAM's rule: an applicable Deny refuses, else an applicable Allow allows."""
        allowed_by = None
        for statement in self.statements:
            if statement.applies(request):
                if statement.effect == "Deny":
                    return Decision(False, statement.label)
                allowed_by = allowed_by or statement.label
        return Decision(allowed_by is not None, allowed_by)

    def actions(self) -> set[str]:
        """Every action an Allow statement names (as written, wildcards kept)."""
        return {a for s in self.statements if s.effect == "Allow" for a in s.actions}
