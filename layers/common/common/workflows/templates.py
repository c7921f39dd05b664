"""`{{ path }}` templates in step configs: found at save time, resolved when a step runs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

# No braces inside: "{{ a }} and {{ b }}" is two templates, never one from a to b.
TEMPLATE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
# A path is dotted names (Airtable field names may hold spaces) with optional [n] indexes.
_SEGMENT = re.compile(r"([^.\[\]{}]+)((?:\[\d+\])*)")
_INDEX = re.compile(r"\[(\d+)\]")


class TemplateError(ValueError):
    """A template that cannot be parsed."""


def parse_path(path: str) -> list[str | int]:
    """`steps.list.records[0].fields.Name` -> ['steps', 'list', 'records', 0, 'fields', 'Name']."""
    parts: list[str | int] = []
    for text in path.split("."):
        match = _SEGMENT.fullmatch(text.strip())
        if not match:
            raise TemplateError(f"invalid template path: {path!r}")
        parts.append(match.group(1).strip())
        parts += [int(i) for i in _INDEX.findall(match.group(2))]
    return parts


def references(value: Any, where: str = "") -> Iterator[tuple[str, list[str | int]]]:
    """Every template path in a config value, with the config location it appears at."""
    if isinstance(value, str):
        for match in TEMPLATE.finditer(value):
            yield where, parse_path(match.group(1))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from references(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from references(item, f"{where}[{i}]")


def lookup(context: dict[str, Any], path: list[str | int]) -> Any:
    """The value at `path`, or None where it leads nowhere (Airtable omits empty cells)."""
    value: Any = context
    for part in path:
        if isinstance(part, int) and isinstance(value, list):
            value = value[part] if -len(value) <= part < len(value) else None
        elif isinstance(value, dict):
            value = value.get(str(part))
        else:
            return None
    return value


def render(value: Any, context: dict[str, Any]) -> Any:
    """`value` with its templates replaced; a string that is one template keeps the value's type."""
    if isinstance(value, str):
        whole = TEMPLATE.fullmatch(value.strip())
        if whole:
            return lookup(context, parse_path(whole.group(1)))
        return TEMPLATE.sub(lambda m: _as_text(lookup(context, parse_path(m.group(1)))), value)
    if isinstance(value, dict):
        return {key: render(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, context) for item in value]
    return value


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
