"""Titles, bodies and links of notifications per event type: sentences a person reads.

Each type has templates tried in order; the first whose every field the event carries is
used, so a title never shows a placeholder for a missing value. A type without a template
gets a title made from its name (`file.uploaded` -> "File uploaded"); an event may also carry
its own `title` and `body`. The product says "Transaction" to a person, never "Saga".
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

TITLES: dict[str, tuple[str, ...]] = {
    "saga.compensated": ("{what} failed on step {failed_step} and was rolled back",
                         "{what} failed and was rolled back",
                         "A transaction failed and was rolled back"),
    "saga.failed": ("{what} failed and could not be fully rolled back", "A transaction failed"),
    "saga.succeeded": ("{what} succeeded", "A transaction succeeded"),
    "workflow.execution.failed": ("Workflow '{workflow_name}' failed", "A workflow run failed"),
    "workflow.execution.finished": ("Workflow '{workflow_name}' finished",
                                    "A workflow run finished"),
    "file.import.finished": (
        "{filename} -> {table_name}: {outcome}", "Import of {filename}: {outcome}",
        "An import finished: {outcome}"),
    "file.export.finished": ("Export of {table_name} to {filename} is ready",
                             "Export of {table_name} is ready", "Your export is ready"),
    "user.password_changed": ("Your password was changed",),
    "user.registered": ("Welcome to PyAirtable",),
    "user.locked_out": ("Sign-in to your account was locked after failed attempts",),
    "user.refresh_reused": ("A spent sign-in token was reused; the session was revoked",),
    "user.role_changed": ("Your role is now {role}",),
    "user.deactivated": ("Your account was deactivated",),
    "api_key.created": ("API key '{name}' was created", "An API key was created"),
    "api_key.revoked": ("An API key was revoked",),
    "oauth.approved": ("{client_name} was connected to your account",
                       "An AI agent was connected to your account"),
    "oauth.revoked": ("An AI agent was disconnected from your account",),
}
# The web UI path of what an event is about, per type prefix (first match wins).
LINKS: tuple[tuple[str, str], ...] = (
    ("saga.", "/sagas/{saga_id}"),
    ("workflow.execution.", "/workflows/executions/{execution_id}"),
    ("file.import.", "/files/imports/{import_id}"),
    ("file.export.", "/files"),
    ("file.", "/files"),
    ("user.registered", "/bases/{demo_base_id}"),
    ("user.onboarded", "/bases/{demo_base_id}"),
    ("airtable.integration.", "/bases/{base_id}"),
    ("api_key.", "/settings"),
    ("oauth.", "/settings/sessions"),
    ("user.", "/settings"),
)


def _plain(detail: dict[str, Any]) -> dict[str, str]:
    """The event's plain values as text (nested values and empty strings are no fields)."""
    return {k: str(v) for k, v in detail.items()
            if isinstance(v, str | int | float) and not isinstance(v, bool) and str(v).strip()}


# What the sagas that are not transactions are called, as the subject of a sentence.
SAGA_NOUNS = {"user_onboarding": "Your account set-up",
              "airtable_integration": "Connecting the base"}


def _derived(event_type: str, detail: dict[str, Any]) -> dict[str, str]:
    extra = _DERIVED.get(event_type.split(".")[0] if event_type.startswith("saga.")
                         else event_type)
    return extra(detail) if extra else {}


def _saga_subject(detail: dict[str, Any]) -> dict[str, str]:
    kind, summary = detail.get("type"), detail.get("summary")
    if kind in SAGA_NOUNS:
        return {"what": SAGA_NOUNS[kind]}
    return {"what": f"Transaction '{summary}'"} if isinstance(summary, str) and summary else {}


def _import_outcome(detail: dict[str, Any]) -> dict[str, str]:
    if detail.get("status") == "failed":
        return {"outcome": "failed" + (f" ({detail['error']})" if detail.get("error") else "")}
    parts = [f"{detail.get('created') or 0} created"]
    if detail.get("updated"):
        parts.append(f"{detail['updated']} updated")
    parts.append(f"{detail.get('failed') or 0} rejected")
    return {"outcome": ", ".join(parts)}


def _export_filename(detail: dict[str, Any]) -> dict[str, str]:
    name = detail.get("table_name") or detail.get("table")
    return {"table_name": str(name)} if name else {}


_DERIVED: dict[str, Callable[[dict[str, Any]], dict[str, str]]] = {
    "saga": _saga_subject,
    "file.import.finished": _import_outcome,
    "file.export.finished": _export_filename,
}


def _fill(candidates: tuple[str, ...], fields: dict[str, str]) -> str | None:
    formatter = string.Formatter()
    for template in candidates:
        names = [name for _, name, _, _ in formatter.parse(template) if name]
        if all(name in fields for name in names):
            # Only our own templates are formatted, with plain values: no attribute access.
            return formatter.vformat(template, (), fields)
    return None


def title(event_type: str, detail: dict[str, Any]) -> str:
    """The notification's title (at most 200 characters)."""
    if isinstance(detail.get("title"), str) and detail["title"].strip():
        text = detail["title"].strip()
    else:
        fields = {**_plain(detail), **_derived(event_type, detail)}
        text = _fill(TITLES.get(event_type, ()), fields) or \
            event_type.replace(".", " ").replace("_", " ").capitalize()
    return text[:200]


def body(detail: dict[str, Any]) -> str:
    """The notification's body, when the event brings one."""
    value = detail.get("body")
    return value[:4000] if isinstance(value, str) else ""


def link(event_type: str, detail: dict[str, Any]) -> str | None:
    """The web UI path of what the event is about, when the event names it."""
    if isinstance(detail.get("link"), str) and detail["link"].startswith("/"):
        return detail["link"][:500]
    fields = _plain(detail)
    for prefix, template in LINKS:
        if event_type.startswith(prefix):
            return _fill((template,), fields)
    return None
