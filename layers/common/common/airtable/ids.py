"""Airtable identifiers, checked before any work: a three-letter prefix plus 14 alphanumerics.

The Annotated types validate path, query and body values in pydantic/Powertools (422
`validation_error` before a handler runs); `require` does the same for values that arrive
otherwise (comma-separated `?ids=`, service calls), raising `ValidationFailed`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from common.core.errors import ValidationFailed

PREFIXES = {"base": "app", "table": "tbl", "field": "fld", "record": "rec", "view": "viw"}
_SUFFIX = "[A-Za-z0-9]{14}"
PATTERNS = {kind: f"^{prefix}{_SUFFIX}$" for kind, prefix in PREFIXES.items()}
_COMPILED = {kind: re.compile(pattern) for kind, pattern in PATTERNS.items()}
# Airtable's own limit on table, field and view names.
NAME_MAX = 255

BaseId = Annotated[str, StringConstraints(pattern=PATTERNS["base"])]
TableId = Annotated[str, StringConstraints(pattern=PATTERNS["table"])]
FieldId = Annotated[str, StringConstraints(pattern=PATTERNS["field"])]
RecordId = Annotated[str, StringConstraints(pattern=PATTERNS["record"])]
ViewId = Annotated[str, StringConstraints(pattern=PATTERNS["view"])]


def is_id(kind: str, value: object) -> bool:
    """Whether `value` is a well-formed id of `kind` (base, table, field, record, view)."""
    return isinstance(value, str) and _COMPILED[kind].match(value) is not None


def _name(value: str) -> str:
    # Anything that is not a well-formed id is a name; names never hold control characters.
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("a name must not contain control characters")
    return value


# A table, field or view may be named by its id or by its name (Airtable accepts both in
# URLs); a name that happens to start with `tbl` stays a name.
TableRef = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX),
                     AfterValidator(_name)]
FieldRef = TableRef
ViewRef = TableRef


def require(kind: str, value: object, field: str) -> str:
    """`value` when it is a well-formed id of `kind`, else `ValidationFailed` naming `field`."""
    if not is_id(kind, value):
        raise ValidationFailed(
            f"{field} is not an Airtable {kind} id.",
            details=[{"field": field, "problem": f"expected {PREFIXES[kind]} followed by 14 "
                                                 "letters or digits"}])
    return str(value)


def record_ids(values: Iterable[str], field: str = "ids") -> list[str]:
    """Record ids from repeated and/or comma-separated values, each checked, at least one."""
    ids = [i for value in values for i in value.split(",") if i]
    if not ids:
        raise ValidationFailed("Give the ids.", details=[{"field": field, "problem": "missing"}])
    bad = [f"{field}[{n}]" for n, i in enumerate(ids) if not is_id("record", i)]
    if bad:
        raise ValidationFailed(f"{field} holds values that are not Airtable record ids.",
                               details=[{"field": b, "problem": "expected rec followed by 14 "
                                                                "letters or digits"}
                                        for b in bad])
    return ids
