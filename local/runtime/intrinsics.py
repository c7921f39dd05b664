"""Resolve CloudFormation intrinsic functions against values the provisioner has produced."""

from __future__ import annotations

import re
from typing import Any

_SUB_VAR = re.compile(r"\$\{([^}!]+)\}")


class Resolver:
    """Ref/GetAtt/Sub/Join/If/Select/Split/Equals/Not/And/Or/FindInMap over parameters,
    mappings and resources."""

    def __init__(self, parameters: dict[str, Any], conditions: dict[str, Any],
                 mappings: dict[str, Any] | None = None) -> None:
        self.refs: dict[str, Any] = dict(parameters)
        self.attrs: dict[str, dict[str, Any]] = {}
        self.mappings = mappings or {}
        self._condition_defs = conditions
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        """The value of a named condition."""
        if name not in self._conditions:
            self._conditions[name] = bool(self.resolve(self._condition_defs[name]))
        return self._conditions[name]

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic replaced; `AWS::NoValue` entries are dropped."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            handler = _FUNCTIONS.get(key)
            if handler:
                return handler(self, arg)
        out = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _NO_VALUE}

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        return self.refs[name]

    def get_att(self, logical_id: str, attribute: str) -> Any:
        return self.attrs[logical_id][attribute]

    def sub(self, arg: Any) -> str:
        template, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        variables = {k: self.resolve(v) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self.ref(name))

        return _SUB_VAR.sub(replace, template)


class _NoValue:
    pass


_NO_VALUE = _NoValue()


def _get_att(r: Resolver, arg: Any) -> Any:
    logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
    return r.get_att(logical_id, r.resolve(attribute))


def _if(r: Resolver, arg: list[Any]) -> Any:
    return r.resolve(arg[1] if r.condition(arg[0]) else arg[2])


_FUNCTIONS = {
    "Ref": lambda r, a: r.ref(a),
    "Fn::GetAtt": _get_att,
    "Fn::Sub": lambda r, a: r.sub(a),
    "Fn::Join": lambda r, a: a[0].join(str(v) for v in r.resolve(a[1])),
    "Fn::If": _if,
    "Fn::Select": lambda r, a: r.resolve(a[1])[int(r.resolve(a[0]))],
    "Fn::Split": lambda r, a: r.resolve(a[1]).split(a[0]),
    "Fn::Equals": lambda r, a: r.resolve(a[0]) == r.resolve(a[1]),
    "Fn::Not": lambda r, a: not r.resolve(a[0]),
    "Fn::And": lambda r, a: all(r.resolve(v) for v in a),
    "Fn::Or": lambda r, a: any(r.resolve(v) for v in a),
    "Condition": lambda r, a: r.condition(a),
    # Rules only; a CommaDelimitedList parameter is held as its text here.
    "Fn::EachMemberEquals": lambda r, a: all(
        v == r.resolve(a[1]) for v in _members(r.resolve(a[0]))),
    "Fn::FindInMap": lambda r, a: r.mappings[r.resolve(a[0])][r.resolve(a[1])][r.resolve(a[2])],
}


def _members(value: Any) -> list[Any]:
    return value.split(",") if isinstance(value, str) else list(value)


def dependencies(value: Any) -> set[str]:
    """Logical ids a value refers to (Ref, GetAtt, ${X} and ${X.Attr} in Sub)."""
    found: set[str] = set()
    if isinstance(value, list):
        for v in value:
            found |= dependencies(v)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg.split(".")[0] if isinstance(arg, str) else arg[0])
            elif key == "Fn::Sub":
                template, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                found |= {m.split(".")[0] for m in _SUB_VAR.findall(template)} - set(local)
                found |= dependencies(local)
            else:
                found |= dependencies(arg)
    return found
