"""Titles of notifications per event type: the only per-type code a new event type may need.

A type without a template gets a title made from its name (`file.import.finished` ->
"File import finished"); an event may also carry its own `title` and `body`.
"""

from __future__ import annotations

import string
from typing import Any

TITLES: dict[str, str] = {
    "saga.compensated": "Saga {saga_id} failed and was rolled back",
    "saga.failed": "Saga {saga_id} failed",
    "saga.succeeded": "Saga {saga_id} finished",
    "workflow.execution.failed": "Workflow {workflow_name} failed",
    "workflow.execution.finished": "Workflow {workflow_name} finished",
    "file.import.finished": "Import of {filename} finished",
    "file.import.failed": "Import of {filename} failed",
    "file.export.finished": "Export {export_id} is ready",
    "user.password_changed": "Your password was changed",
    "user.registered": "Welcome to PyAirtable",
    "user.locked_out": "Sign-in to your account was locked after failed attempts",
    "user.refresh_reused": "A spent sign-in token was reused; the session was revoked",
    "user.role_changed": "Your role is now {role}",
    "user.deactivated": "Your account was deactivated",
    "api_key.created": "API key {name} was created",
    "api_key.revoked": "An API key was revoked",
}


class _Fields(dict):
    """Event fields for a template; a missing one reads as "?" instead of failing."""

    def __missing__(self, key: str) -> str:
        return "?"


def title(event_type: str, detail: dict[str, Any]) -> str:
    """The notification's title (at most 200 characters)."""
    if isinstance(detail.get("title"), str) and detail["title"].strip():
        text = detail["title"].strip()
    elif event_type in TITLES:
        fields = _Fields({k: v for k, v in detail.items() if isinstance(v, str | int | float)})
        # Only our own templates are formatted, with plain values: no attribute or index access.
        text = string.Formatter().vformat(TITLES[event_type], (), fields)
    else:
        text = event_type.replace(".", " ").replace("_", " ").capitalize()
    return text[:200]


def body(detail: dict[str, Any]) -> str:
    """The notification's body, when the event brings one."""
    value = detail.get("body")
    return value[:4000] if isinstance(value, str) else ""
