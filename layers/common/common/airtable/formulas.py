"""Record filters as Airtable formulas, built by pyairtable so values can never become syntax."""

from __future__ import annotations

from typing import Any

from common.core.errors import ValidationFailed

# Operators of a structured filter condition (the web UI's grid filters), as formulas.
FILTER_OPERATORS = ("is", "is_not", "contains", "is_empty", "is_not_empty", "gt", "lt")


def _scalar(value: Any, where: str) -> Any:
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ValidationFailed("filter values must be strings, numbers, booleans or null.",
                               details=[{"field": where, "problem": "unsupported value type"}])
    return value


def _condition(item: Any, where: str) -> Any:
    """One `{field, op, value}` condition as a formula; values are quoted by pyairtable."""
    from pyairtable.formulas import BLANK, CONCATENATE, EQ, FIND, GT, LOWER, LT, NE, NOT, Field

    if not isinstance(item, dict) or not isinstance(item.get("field"), str) or not item["field"]:
        raise ValidationFailed("each filter condition needs a field name.",
                               details=[{"field": where, "problem": "missing field"}])
    op = item.get("op", "is")
    if op not in FILTER_OPERATORS:
        raise ValidationFailed(f"unknown filter operator {op!r}.",
                               details=[{"field": f"{where}.op",
                                         "problem": f"one of {', '.join(FILTER_OPERATORS)}"}])
    field, value = Field(item["field"]), _scalar(item.get("value"), f"{where}.value")
    if op == "is_empty":
        return EQ(field, BLANK())
    if op == "is_not_empty":
        return NOT(EQ(field, BLANK()))
    if value is None:
        raise ValidationFailed(f"the {op} operator needs a value.",
                               details=[{"field": f"{where}.value", "problem": "missing"}])
    if op == "contains":
        # Case-insensitive, and on the field as text (a number or a list of choices too).
        return GT(FIND(LOWER(str(value)), LOWER(CONCATENATE(field, ""))), 0)
    return {"is": EQ, "is_not": NE, "gt": GT, "lt": LT}[op](field, value)


def filter_formula(filters: dict[str, Any] | list[Any]) -> str:
    """An AND of conditions built by pyairtable.formulas: values can never become syntax.

    `filters` is either `{field: value}` (equalities) or a list of `{field, op, value}`."""
    from pyairtable.formulas import AND, BLANK, EQ, Field

    if not filters:
        raise ValidationFailed("filter must name at least one field.",
                               details=[{"field": "filter", "problem": "empty object"}])
    if isinstance(filters, list):
        conditions = [_condition(item, f"filter.{i}") for i, item in enumerate(filters)]
    else:
        conditions = [EQ(Field(name), BLANK() if (v := _scalar(value, f"filter.{name}")) is None
                         else v) for name, value in filters.items()]
    return str(conditions[0] if len(conditions) == 1 else AND(*conditions))
