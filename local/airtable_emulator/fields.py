"""Field types: option validation/read format (reference §2.7) and cell value coercion (§3.8)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from .errors import ApiError, invalid_value
from .ids import new_id

TEXT_TYPES = {"singleLineText", "multilineText", "richText", "email", "url", "phoneNumber"}
NUMBER_TYPES = {"number", "percent", "currency", "duration", "rating", "autoNumber", "count"}
COMPUTED_TYPES = {
    "formula", "rollup", "multipleLookupValues", "count", "autoNumber", "createdTime",
    "lastModifiedTime", "createdBy", "lastModifiedBy", "button", "aiText", "externalSyncSource",
    "manualSort",
}
# Types with no options at all: sending any options for them is rejected like Airtable does.
OPTIONLESS_TYPES = TEXT_TYPES | {"singleCollaborator", "multipleCollaborators", "barcode"}
PRIMARY_FORBIDDEN = {
    "checkbox", "multipleAttachments", "multipleRecordLinks", "singleSelect", "multipleSelects",
    "singleCollaborator", "multipleCollaborators", "button", "rating",
}
KNOWN_TYPES = OPTIONLESS_TYPES | NUMBER_TYPES | COMPUTED_TYPES | {
    "checkbox", "singleSelect", "multipleSelects", "date", "dateTime", "multipleRecordLinks",
    "multipleAttachments",
}
DATE_FORMATS = {
    "local": "l", "friendly": "LL", "us": "M/D/YYYY", "european": "D/M/YYYY", "iso": "YYYY-MM-DD",
}
TIME_FORMATS = {"12hour": "h:mma", "24hour": "HH:mm"}
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def options_error(message: str) -> ApiError:
    """422 for field options that do not fit the field type."""
    return ApiError(422, "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE", message)


def read_options(field_type: str, options: dict[str, Any] | None) -> dict[str, Any] | None:
    """Validate create-time options and return the complete read format, or None for no options."""
    if field_type not in KNOWN_TYPES:
        raise options_error(f"Unknown field type: {field_type}")
    if field_type in COMPUTED_TYPES:
        raise options_error(f"Field type {field_type} cannot be created through the API")
    if field_type in OPTIONLESS_TYPES:
        if options:
            raise options_error(f"options is not included in the (type={field_type}) schema")
        return None
    opts = dict(options or {})
    builder = _OPTION_BUILDERS.get(field_type)
    return builder(opts) if builder else opts


def _number_options(opts: dict[str, Any]) -> dict[str, Any]:
    return {"precision": int(opts.get("precision", 0))}


def _currency_options(opts: dict[str, Any]) -> dict[str, Any]:
    return {"precision": int(opts.get("precision", 2)), "symbol": str(opts.get("symbol", "$"))}


def _select_options(opts: dict[str, Any]) -> dict[str, Any]:
    choices = []
    for choice in opts.get("choices", []):
        if not isinstance(choice, dict) or not choice.get("name"):
            raise options_error("Failed schema validation: every choice needs a name")
        entry = {"id": choice.get("id") or new_id("sel"), "name": choice["name"]}
        if choice.get("color"):
            entry["color"] = choice["color"]
        choices.append(entry)
    return {"choices": choices}


def _date_format(spec: dict[str, Any] | None) -> dict[str, str]:
    name = (spec or {}).get("name", "iso")
    if name not in DATE_FORMATS:
        raise options_error(f"Invalid dateFormat name: {name}")
    return {"name": name, "format": (spec or {}).get("format") or DATE_FORMATS[name]}


def _time_format(spec: dict[str, Any] | None) -> dict[str, str]:
    name = (spec or {}).get("name", "24hour")
    if name not in TIME_FORMATS:
        raise options_error(f"Invalid timeFormat name: {name}")
    return {"name": name, "format": (spec or {}).get("format") or TIME_FORMATS[name]}


def _date_options(opts: dict[str, Any]) -> dict[str, Any]:
    return {"dateFormat": _date_format(opts.get("dateFormat"))}


def _datetime_options(opts: dict[str, Any]) -> dict[str, Any]:
    zone = opts.get("timeZone", "utc")
    if zone == "UTC":  # Airtable really rejects the upper-case spelling.
        raise options_error('Invalid timezone "UTC"')
    return {
        "timeZone": zone,
        "dateFormat": _date_format(opts.get("dateFormat")),
        "timeFormat": _time_format(opts.get("timeFormat")),
    }


def _link_options(opts: dict[str, Any]) -> dict[str, Any]:
    if "linkedTableId" not in opts:
        raise options_error("Failed schema validation: options.linkedTableId is missing")
    if "isReversed" in opts or "prefersSingleRecordLink" in opts:
        raise options_error("Failed schema validation: unexpected option for multipleRecordLinks")
    read = {"linkedTableId": opts["linkedTableId"], "isReversed": False,
            "prefersSingleRecordLink": False}
    if opts.get("viewIdForRecordSelection"):
        read["viewIdForRecordSelection"] = opts["viewIdForRecordSelection"]
    return read


_OPTION_BUILDERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "number": _number_options,
    "percent": _number_options,
    "currency": _currency_options,
    "duration": lambda o: {"durationFormat": o.get("durationFormat", "h:mm")},
    "rating": lambda o: {"max": int(o.get("max", 5)), "icon": o.get("icon", "star"),
                         "color": o.get("color", "yellowBright")},
    "checkbox": lambda o: {"icon": o.get("icon", "check"), "color": o.get("color", "greenBright")},
    "singleSelect": _select_options,
    "multipleSelects": _select_options,
    "date": _date_options,
    "dateTime": _datetime_options,
    "multipleRecordLinks": _link_options,
    "multipleAttachments": lambda o: {"isReversed": bool(o.get("isReversed", False))},
}


def is_empty(value: Any) -> bool:
    """True for the values Airtable treats as an empty cell (and omits from responses)."""
    return value is None or value is False or value == "" or value == [] or value == {}


def iso_timestamp(moment: datetime) -> str:
    """Format an aware datetime the way Airtable does: ISO-8601 UTC, milliseconds, `Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_datetime(text: str) -> datetime | None:
    """Parse an ISO date or datetime string; naive values are taken as UTC."""
    text = text.strip()
    if DATE_RE.match(text):
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def coerce_cell(field: Any, value: Any, typecast: bool) -> Any:
    """Validate (and with typecast, convert) a written value; returns None for an empty cell."""
    if field.type in COMPUTED_TYPES:
        raise invalid_value(
            f'Field "{field.name}" cannot accept a value because the field is computed')
    if is_empty(value):
        return None
    coercer = _COERCERS.get(field.type)
    return coercer(field, value, typecast) if coercer else value


def _cannot_parse(field: Any, value: Any) -> ApiError:
    return invalid_value(f'Cannot parse value "{value}" for field {field.name}')


def _text(field: Any, value: Any, typecast: bool) -> str:
    if isinstance(value, str):
        return value
    if typecast and isinstance(value, (int, float, bool)):
        return str(value)
    raise invalid_value(f'Field "{field.name}" cannot accept the provided value')


def _number(field: Any, value: Any, typecast: bool) -> int | float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if typecast and isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "").lstrip("$"))
        except ValueError:
            raise _cannot_parse(field, value) from None
        return int(number) if number.is_integer() else number
    raise _cannot_parse(field, value)


def _checkbox(field: Any, value: Any, typecast: bool) -> bool | None:
    if isinstance(value, bool):
        return value or None
    if typecast:
        text = str(value).strip().lower()
        return None if text in {"", "0", "false", "no", "off"} else True
    raise _cannot_parse(field, value)


def _choice(field: Any, name: Any, typecast: bool) -> str:
    if not isinstance(name, str):
        if not typecast:
            raise _cannot_parse(field, name)
        name = str(name)
    choices = field.options.setdefault("choices", [])
    if any(choice["name"] == name for choice in choices):
        return name
    if not typecast:
        raise ApiError(
            422, "INVALID_MULTIPLE_CHOICE_OPTIONS",
            f'Insufficient permissions to create new select option ""{name}""',
        )
    choices.append({"id": new_id("sel"), "name": name})
    return name


def _single_select(field: Any, value: Any, typecast: bool) -> str:
    return _choice(field, value, typecast)


def _multiple_selects(field: Any, value: Any, typecast: bool) -> list[str] | None:
    if isinstance(value, str) and typecast:
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        raise _cannot_parse(field, value)
    names: list[str] = []
    for item in value:
        name = _choice(field, item, typecast)
        if name not in names:
            names.append(name)
    return names or None


def _date(field: Any, value: Any, typecast: bool) -> str:
    if isinstance(value, str) and DATE_RE.match(value):
        return value
    moment = parse_datetime(value) if isinstance(value, str) and typecast else None
    if moment is None:
        raise invalid_value(f'Cannot parse date value "{value}" for field {field.name}')
    return moment.date().isoformat()


def _datetime(field: Any, value: Any, typecast: bool) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        raise invalid_value(f'Cannot parse date value "{value}" for field {field.name}')
    return iso_timestamp(moment)


def _links(field: Any, value: Any, typecast: bool) -> list[str] | None:
    if isinstance(value, str) and typecast:
        value = [value]
    if not isinstance(value, list):
        raise _cannot_parse(field, value)
    ids = [item["id"] if isinstance(item, dict) else item for item in value]
    if not all(isinstance(item, str) and item.startswith("rec") for item in ids):
        raise _cannot_parse(field, value)
    return ids or None


def _attachments(field: Any, value: Any, typecast: bool) -> list[dict[str, Any]] | None:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _cannot_parse(field, value)
    stored = []
    for item in value:
        url = item.get("url", "")
        stored.append({
            "id": item.get("id") or new_id("att"),
            "url": url,
            "filename": item.get("filename") or url.rsplit("/", 1)[-1] or "file",
            "size": item.get("size", 0),
            "type": item.get("type", "application/octet-stream"),
        })
    return stored or None


def _collaborator(field: Any, value: Any, typecast: bool) -> dict[str, Any]:
    if not isinstance(value, dict) or not ({"id", "email"} & value.keys()):
        raise _cannot_parse(field, value)
    return {"id": value.get("id") or new_id("usr"), "email": value.get("email", ""),
            "name": value.get("name", value.get("email", ""))}


def _collaborators(field: Any, value: Any, typecast: bool) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        raise _cannot_parse(field, value)
    items = [{"id": item} if isinstance(item, str) else item for item in value]
    return [_collaborator(field, item, typecast) for item in items] or None


_COERCERS: dict[str, Callable[[Any, Any, bool], Any]] = {
    **{name: _text for name in TEXT_TYPES},
    **{name: _number for name in NUMBER_TYPES},
    "checkbox": _checkbox,
    "singleSelect": _single_select,
    "multipleSelects": _multiple_selects,
    "date": _date,
    "dateTime": _datetime,
    "multipleRecordLinks": _links,
    "multipleAttachments": _attachments,
    "singleCollaborator": _collaborator,
    "multipleCollaborators": _collaborators,
}
