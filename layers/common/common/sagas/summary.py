"""A saga told in a few words a person reads: "create 2 Contacts, update 1 Contact"."""

from __future__ import annotations

from typing import Any

from common.airtable.ids import is_id

PLAIN = {"user_onboarding": "set up your account",
         "airtable_integration": "connect a base and copy its tables"}
SHOWN_OPERATIONS = 3


def summary(saga_type: str, data: dict[str, Any]) -> str:
    """What the saga does, from its input (a transaction may bring its own summary)."""
    if isinstance(data.get("summary"), str) and data["summary"].strip():
        return data["summary"].strip()[:200]
    if saga_type != "airtable_transaction":
        return PLAIN.get(saga_type, saga_type.replace("_", " "))
    parts = [f"{op.get('action', 'change')} {_count(len(op.get('records') or []), op.get('table'))}"
             for op in data.get("operations", [])]
    more = len(parts) - SHOWN_OPERATIONS
    text = ", ".join(parts[:SHOWN_OPERATIONS]) + (f" and {more} more" if more > 0 else "")
    return text or "an empty transaction"


def _count(n: int, table: Any) -> str:
    """`n` records of `table`, with the table's name as the noun when it is a plural."""
    name = str(table or "")
    if not name or is_id("table", name):
        return f"{n} record" + ("" if n == 1 else "s")
    if name.lower().endswith("ies"):
        singular = name[:-3] + ("Y" if name.isupper() else "y")
    elif name.lower().endswith("s") and not name.lower().endswith("ss"):
        singular = name[:-1]
    else:
        return f"{n} {name} record" + ("" if n == 1 else "s")
    return f"{n} {singular if n == 1 else name}"
