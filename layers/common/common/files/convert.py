"""A file's cell values converted to the type of the Airtable field they are written to.

CSV cells are strings and Airtable refuses `"5"` for a number field unless `typecast` is on,
which would also invent select options from typos. So every value is converted here, from the
field's type and options in the table's schema, before any request: a value that cannot be
converted rejects its row with a sentence naming the column, the value and the field type,
and the rows that convert are written without `typecast` (which is only sent when the user
asks for new select options).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as default_of
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from common.airtable.ids import is_id

TYPE_NAMES = {
    "singleLineText": "text", "multilineText": "long text", "richText": "rich text",
    "email": "email", "url": "URL", "phoneNumber": "phone number", "number": "number",
    "currency": "currency", "percent": "percent", "rating": "rating", "duration": "duration",
    "checkbox": "checkbox", "date": "date", "dateTime": "date and time",
    "singleSelect": "single select", "multipleSelects": "multiple select",
    "multipleRecordLinks": "linked record", "multipleAttachments": "attachment",
    "singleCollaborator": "user", "multipleCollaborators": "users", "barcode": "barcode",
}
TRUE_WORDS = {"true", "yes", "1", "y", "on", "checked", "x"}
FALSE_WORDS = {"false", "no", "0", "n", "off", "unchecked"}
# Dates are written day/month/year or month/day/year with /, - or . between the parts.
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})$")
_ISO_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp][Mm])?$")
_NAMED_DATES = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y",
                "%d-%b-%Y", "%d-%B-%Y")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^(https?://)?[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$", re.IGNORECASE)
_PHONE = re.compile(r"^\+?[\d\s().\-/]*\d[\d\s().\-/]*(\s*(x|ext\.?)\s*\d+)?$", re.IGNORECASE)
_CURRENCY_SIGNS = "$€£¥₹"
SHOWN_CHOICES = 8


class Unconvertible(ValueError):
    """A value that does not fit its field; the message is the sentence the person reads."""


@dataclass
class Column:
    """One column of the file and the field it is written to, ready to convert its values."""

    column: str
    field: dict[str, Any]
    # Day-first ("dmy") or month-first ("mdy") for numeric dates, decided per column.
    date_order: str = "mdy"
    # Linked records by their primary field value (lower-cased) -> record id.
    links: dict[str, str] = default_of(default_factory=dict)
    # Unknown select options pass through, for Airtable to create (typecast).
    new_options: bool = False

    @property
    def type(self) -> str:
        return str(self.field.get("type", "singleLineText"))

    @property
    def options(self) -> dict[str, Any]:
        return self.field.get("options") or {}

    def convert(self, value: Any) -> Any:
        """The value as the field takes it (None: an empty cell, left out of the record)."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        converter = _CONVERTERS.get(self.type, _as_is)
        return converter(self, value)

    def refuse(self, value: Any, expected: str) -> Unconvertible:
        """The row's rejection: names the column, the value and the field's type."""
        shown = value if isinstance(value, str) else repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        kind = TYPE_NAMES.get(self.type, self.type)
        return Unconvertible(f'Column "{self.column}": "{shown}" is not {expected} '
                             f'(field "{self.field.get("name")}" is a {kind} field).')


def infer_date_order(values: Iterable[Any], preferred: str | None = None) -> str:
    """Day-first or month-first, as the column's unambiguous dates show (else `preferred`)."""
    day_first = month_first = 0
    for value in values:
        match = _NUMERIC_DATE.match(str(value).strip().split(" ")[0]) if value else None
        if not match:
            continue
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12 >= second:
            day_first += 1
        elif second > 12 >= first:
            month_first += 1
    if day_first != month_first:
        return "dmy" if day_first > month_first else "mdy"
    return preferred or "mdy"


def field_date_order(field: dict[str, Any]) -> str | None:
    """The order the field itself displays dates in, when it says (european/us)."""
    name = ((field.get("options") or {}).get("dateFormat") or {}).get("name")
    return {"european": "dmy", "us": "mdy"}.get(name)


# ------------------------------------------------------------------ per type
def _as_is(col: Column, value: Any) -> Any:
    return value


def _text(col: Column, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if not isinstance(value, (list, dict)) else _joined(value)


def _joined(value: Any) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def parse_number(text: str) -> float | None:
    """A number as people write it: thousands separators, a decimal comma, a currency sign."""
    text = text.strip().replace("\u00a0", "").replace(" ", "").replace("_", "")
    text = text.strip(_CURRENCY_SIGNS)
    if text[:1] in "+-" and text[1:2] in _CURRENCY_SIGNS:
        text = text[0] + text[2:]
    if "," in text and "." in text:
        decimal = "." if text.rindex(".") > text.rindex(",") else ","
        text = text.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif "," in text:
        text = text.replace(",", "") if _THOUSANDS.match(text) else text.replace(",", ".")
    if not _PLAIN_NUMBER.match(text):
        return None
    return float(text)


def _tidy(number: float) -> int | float:
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _number(col: Column, value: Any) -> int | float:
    if isinstance(value, bool):
        raise col.refuse(value, "a number")
    if isinstance(value, int | float):
        return value
    number = parse_number(str(value))
    if number is None:
        raise col.refuse(value, "a number")
    return _tidy(number)


def _percent(col: Column, value: Any) -> int | float:
    # Airtable stores 50% as 0.5; "50%" says so, a bare number is taken as stored.
    if isinstance(value, str) and value.strip().endswith("%"):
        number = parse_number(value.strip()[:-1])
        if number is None:
            raise col.refuse(value, "a percentage")
        return _tidy(round(number / 100, 12))
    return _number(col, value)


def _rating(col: Column, value: Any) -> int:
    number = parse_number(str(value)) if not isinstance(value, bool) else None
    top = int(col.options.get("max", 5))
    if number is None or not number.is_integer() or not 1 <= number <= top:
        raise col.refuse(value, f"a whole number from 1 to {top}")
    return int(number)


def _duration(col: Column, value: Any) -> int | float:
    """Seconds, from h:mm, h:mm:ss or a number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    parts = text.split(":")
    if len(parts) in (2, 3) and all(re.fullmatch(r"\d+(\.\d+)?", p) for p in parts):
        hours, minutes = int(parts[0]), int(parts[1])
        seconds = float(parts[2]) if len(parts) == 3 else 0.0
        if minutes < 60 and seconds < 60:
            return _tidy(hours * 3600 + minutes * 60 + seconds)
    else:
        number = parse_number(text)
        if number is not None:
            return _tidy(number)
    raise col.refuse(value, "a duration (h:mm, h:mm:ss or seconds)")


def _checkbox(col: Column, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise col.refuse(value, "yes or no (true/false, yes/no, 1/0)")


def parse_date(text: str, order: str) -> date | None:
    """A date written as ISO, day/month/year or month/day/year (per `order`), or with names."""
    text = text.strip()
    iso = _ISO_DATE.match(text)
    numeric = _NUMERIC_DATE.match(text)
    try:
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        if numeric:
            first, second, year = (int(g) for g in numeric.groups())
            if len(numeric.group(3)) == 2:
                year += 2000 if year < 70 else 1900
            day, month = (first, second) if order == "dmy" else (second, first)
            return date(year, month, day)
    except ValueError:
        return None
    for pattern in _NAMED_DATES:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _parse_time(text: str) -> time | None:
    match = _TIME.match(text.strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    second = int(match.group(3) or 0)
    meridiem = (match.group(4) or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def _date(col: Column, value: Any) -> str:
    text = str(value).strip()
    moment = _iso_moment(text)
    if moment is not None:
        return moment.date().isoformat()
    day_part, _, time_part = text.partition(" ")
    if time_part and _parse_time(time_part):
        text = day_part  # a time written after a date-only field's value is dropped
    found = parse_date(text, col.date_order)
    if found is None:
        raise col.refuse(value, f"a date ({_order_hint(col.date_order)})")
    return found.isoformat()


def _iso_moment(text: str) -> datetime | None:
    if "T" not in text and not re.match(r"^\d{4}-\d{2}-\d{2} \d", text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _order_hint(order: str) -> str:
    return "day/month/year" if order == "dmy" else "month/day/year"


def _zone(col: Column) -> Any:
    name = col.options.get("timeZone")
    if not name or name in ("utc", "client"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _datetime(col: Column, value: Any) -> str:
    text = str(value).strip()
    moment = _iso_moment(text)
    if moment is None:
        day_part, _, time_part = text.partition(" ")
        found = parse_date(day_part, col.date_order)
        at = _parse_time(time_part) if time_part else time(0, 0)
        if found is None or at is None:
            found, at = parse_date(text, col.date_order), time(0, 0)
        if found is None:
            raise col.refuse(value, f"a date and time ({_order_hint(col.date_order)} hh:mm)")
        moment = datetime.combine(found, at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(col))
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _choice(col: Column, value: Any) -> str:
    names = [c.get("name", "") for c in col.options.get("choices", [])]
    text = str(value).strip()
    match = next((n for n in names if n.strip().lower() == text.lower()), None)
    if match is not None:
        return match
    if col.new_options:
        return text
    shown = ", ".join(names[:SHOWN_CHOICES]) + (", ..." if len(names) > SHOWN_CHOICES else "")
    raise col.refuse(value, f"one of its options ({shown})" if names else "an existing option")


def _single_select(col: Column, value: Any) -> str:
    return _choice(col, value)


def _split(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [v for v in value if v not in (None, "")]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _multiple_selects(col: Column, value: Any) -> list[str] | None:
    names: list[str] = []
    for item in _split(value):
        name = _choice(col, item)
        if name not in names:
            names.append(name)
    return names or None


def _email(col: Column, value: Any) -> str:
    text = str(value).strip()
    if not _EMAIL.match(text):
        raise col.refuse(value, "an email address")
    return text


def _url(col: Column, value: Any) -> str:
    text = str(value).strip()
    if not _URL.match(text):
        raise col.refuse(value, "a web address")
    return text


def _phone(col: Column, value: Any) -> str:
    text = _text(col, value).strip()
    if not _PHONE.match(text) or sum(c.isdigit() for c in text) < 3:
        raise col.refuse(value, "a phone number")
    return text


def _links(col: Column, value: Any) -> list[str] | None:
    ids: list[str] = []
    for item in _split(value):
        if isinstance(item, dict) and is_id("record", item.get("id")):
            ids.append(item["id"])
            continue
        text = str(item).strip()
        found = text if is_id("record", text) else col.links.get(text.lower())
        if found is None:
            raise col.refuse(item, "the primary field value of a record of the linked table")
        if found not in ids:
            ids.append(found)
    return ids or None


def _attachments(col: Column, value: Any) -> list[dict[str, Any]] | None:
    items = value if isinstance(value, list) else re.split(r"[\s,]+", str(value).strip())
    attachments = []
    for item in items:
        url = item.get("url") if isinstance(item, dict) else item
        if not isinstance(url, str) or not re.match(r"^https?://\S+$", url):
            raise col.refuse(item, "a file URL (http or https)")
        attachments.append({"url": url})
    return attachments or None


def _collaborator(col: Column, value: Any) -> dict[str, str]:
    if isinstance(value, dict) and (value.get("id") or value.get("email")):
        return value
    text = str(value).strip()
    if is_id_user(text):
        return {"id": text}
    if not _EMAIL.match(text):
        raise col.refuse(value, "a collaborator's email address")
    return {"email": text}


def is_id_user(text: str) -> bool:
    """Airtable user ids: `usr` + 14 alphanumerics."""
    return re.fullmatch(r"usr[A-Za-z0-9]{14}", text) is not None


def _collaborators(col: Column, value: Any) -> list[dict[str, str]] | None:
    return [_collaborator(col, item) for item in _split(value)] or None


def _barcode(col: Column, value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"text": _text(col, value)}


_CONVERTERS: dict[str, Callable[[Column, Any], Any]] = {
    "singleLineText": _text, "multilineText": _text, "richText": _text,
    "email": _email, "url": _url, "phoneNumber": _phone,
    "number": _number, "currency": _number, "percent": _percent, "rating": _rating,
    "duration": _duration, "checkbox": _checkbox, "date": _date, "dateTime": _datetime,
    "singleSelect": _single_select, "multipleSelects": _multiple_selects,
    "multipleRecordLinks": _links, "multipleAttachments": _attachments,
    "singleCollaborator": _collaborator, "multipleCollaborators": _collaborators,
    "barcode": _barcode,
}


def convert_row(resolve: Callable[[str], Column | None],
                values: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The row's fields, converted, and a problem for each value that does not fit."""
    fields: dict[str, Any] = {}
    problems: list[dict[str, Any]] = []
    for name, value in values.items():
        col = resolve(name)
        if col is None:
            continue
        try:
            converted = col.convert(value)
        except Unconvertible as e:
            problems.append({"column": name, "field": col.field["name"], "message": str(e)})
            continue
        if converted is not None:
            fields[col.field["name"]] = converted
    return fields, problems
