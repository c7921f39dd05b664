"""Routing of decoded requests to store and record operations (no HTTP or auth concerns here)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import records, webhooks
from .errors import ApiError, RouteNotFound, invalid_request
from .records import ListParams
from .store import Store

TRUE_STRINGS = {"1", "true", "True"}
SORT_KEY_RE = re.compile(r"^sort\[(\d+)\]\[(field|direction)\]$")
MUTATING_METHODS = {"POST", "PATCH", "PUT", "DELETE"}


@dataclass
class Request:
    """A parsed API request: method, percent-decoded path segments, query pairs, JSON body."""

    method: str
    segments: list[str]
    query: list[tuple[str, str]] = field(default_factory=list)
    body: Any = None
    user_id: str = ""

    def values(self, *names: str) -> list[str]:
        """All query values for any of the given keys (e.g. `fields[]` and `fields`)."""
        return [value for key, value in self.query if key in names]

    def value(self, name: str, default: str | None = None) -> str | None:
        """The last query value for a key."""
        found = self.values(name)
        return found[-1] if found else default

    def json(self) -> dict[str, Any]:
        """The body as a JSON object (an absent body counts as `{}`)."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise invalid_request("The request body must be a JSON object")
        return self.body


def is_mutation(request: Request) -> bool:
    """Whether a successful request changed data (listRecords is a read despite being POST)."""
    return request.method in MUTATING_METHODS and request.segments[-1:] != ["listRecords"]


def base_id_of(segments: list[str]) -> str | None:
    """The base a path addresses, used for rate limiting and the request log."""
    if len(segments) >= 4 and segments[:3] == ["v0", "meta", "bases"]:
        return segments[3]
    if len(segments) >= 4 and segments[:2] == ["v0", "bases"]:  # webhooks
        return segments[2]
    if len(segments) >= 3 and segments[0] == "v0" and segments[1] != "meta":
        return segments[1]
    return None


def _int(text: str | None, name: str) -> int | None:
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise invalid_request(f"{name} must be an integer") from None


def list_params_from_query(request: Request) -> ListParams:
    """Build list options from GET query parameters."""
    sort: dict[int, dict[str, str]] = {}
    for key, value in request.query:
        found = SORT_KEY_RE.match(key)
        if found:
            sort.setdefault(int(found.group(1)), {})[found.group(2)] = value
    return ListParams(
        page_size=_int(request.value("pageSize"), "pageSize") or records.MAX_PAGE_SIZE,
        max_records=_int(request.value("maxRecords"), "maxRecords"),
        offset=request.value("offset", "") or "",
        view=request.value("view"),
        fields=request.values("fields[]", "fields") or None,
        sort=[(s.get("field", ""), s.get("direction", "asc")) for _, s in sorted(sort.items())],
        formula=request.value("filterByFormula", "") or "",
        by_field_id=request.value("returnFieldsByFieldId", "") in TRUE_STRINGS,
        comment_count="commentCount" in request.values("recordMetadata[]", "recordMetadata"),
        cell_format=request.value("cellFormat", "json") or "json",
        time_zone=request.value("timeZone"),
        user_locale=request.value("userLocale"),
    )


def list_params_from_body(request: Request) -> ListParams:
    """Build list options from a POST listRecords body (timeZone/userLocale stay in the query)."""
    body = request.json()
    sort = body.get("sort") or []
    if not isinstance(sort, list) or not all(isinstance(s, dict) for s in sort):
        raise invalid_request("sort must be a list of objects")
    try:
        return ListParams(
            page_size=int(body.get("pageSize") or records.MAX_PAGE_SIZE),
            max_records=None if body.get("maxRecords") is None else int(body["maxRecords"]),
            offset=str(body.get("offset") or ""),
            view=body.get("view"),
            fields=list(body["fields"]) if body.get("fields") else None,
            sort=[(s.get("field", ""), s.get("direction", "asc")) for s in sort],
            formula=str(body.get("filterByFormula") or ""),
            by_field_id=bool(body.get("returnFieldsByFieldId")),
            comment_count="commentCount" in (body.get("recordMetadata") or []),
            cell_format=body.get("cellFormat") or "json",
            time_zone=body.get("timeZone") or request.value("timeZone"),
            user_locale=body.get("userLocale") or request.value("userLocale"),
        )
    except (TypeError, ValueError):
        raise invalid_request("Invalid listRecords body") from None


# --- handlers: each takes (store, request, *path parameters) and returns a JSON-able body ---

def whoami(store: Store, request: Request) -> dict[str, Any]:
    """GET /v0/meta/whoami."""
    return {"id": request.user_id}


def list_bases(store: Store, request: Request) -> dict[str, Any]:
    """GET /v0/meta/bases (every base fits on one page)."""
    return {"bases": [{"id": b.id, "name": b.name, "permissionLevel": "create"}
                      for b in store.bases.values()]}


def create_base(store: Store, request: Request) -> dict[str, Any]:
    """POST /v0/meta/bases."""
    body = request.json()
    base = store.create_base(body.get("name"), body.get("tables"))
    return {"id": base.id, "tables": [t.to_json() for t in base.tables]}


def base_schema(store: Store, request: Request, base_id: str) -> dict[str, Any]:
    """GET /v0/meta/bases/{base}/tables."""
    visible = "visibleFieldIds" in request.values("include", "include[]")
    return {"tables": [t.to_json(visible) for t in store.base(base_id).tables]}


def create_table(store: Store, request: Request, base_id: str) -> dict[str, Any]:
    """POST /v0/meta/bases/{base}/tables."""
    return store.create_table(base_id, request.json()).to_json()


def update_table(store: Store, request: Request, base_id: str, table: str) -> dict[str, Any]:
    """PATCH /v0/meta/bases/{base}/tables/{table}."""
    return store.update_table(base_id, table, request.json()).to_json()


def create_field(store: Store, request: Request, base_id: str, table: str) -> dict[str, Any]:
    """POST /v0/meta/bases/{base}/tables/{table}/fields."""
    return store.create_field(base_id, table, request.json()).to_json()


def update_field(store: Store, request: Request, base_id: str, table: str,
                 field_id: str) -> dict[str, Any]:
    """PATCH /v0/meta/bases/{base}/tables/{table}/fields/{field}."""
    return store.update_field(base_id, table, field_id, request.json()).to_json()


def list_records_get(store: Store, request: Request, base_id: str, table: str) -> dict[str, Any]:
    """GET /v0/{base}/{table}."""
    return records.list_records(store.table(base_id, table), list_params_from_query(request))


def list_records_post(store: Store, request: Request, base_id: str, table: str) -> dict[str, Any]:
    """POST /v0/{base}/{table}/listRecords."""
    return records.list_records(store.table(base_id, table), list_params_from_body(request))


def create_records(store: Store, request: Request, base_id: str, table: str) -> dict[str, Any]:
    """POST /v0/{base}/{table}."""
    return records.create_records(store.table(base_id, table), request.json())


def patch_records(store: Store, request: Request, base_id: str, table: str) -> dict[str, Any]:
    """PATCH /v0/{base}/{table}: batch merge-update or upsert."""
    return records.update_records(store.table(base_id, table), request.json(), replace=False)


def put_records(store: Store, request: Request, base_id: str, table: str) -> dict[str, Any]:
    """PUT /v0/{base}/{table}: batch replace-update or upsert."""
    return records.update_records(store.table(base_id, table), request.json(), replace=True)


def delete_records(store: Store, request: Request, base_id: str, table: str) -> dict[str, Any]:
    """DELETE /v0/{base}/{table}?records[]=..."""
    ids = request.values("records[]", "records")
    return records.delete_records(store.table(base_id, table), ids)


def get_record(store: Store, request: Request, base_id: str, table: str,
               record_id: str) -> dict[str, Any]:
    """GET /v0/{base}/{table}/{record}."""
    table_obj = store.table(base_id, table)
    by_id = request.value("returnFieldsByFieldId", "") in TRUE_STRINGS
    as_string = request.value("cellFormat") == "string"
    return records.record_json(table_obj, records.get_record(table_obj, record_id), by_id,
                               as_string=as_string)


def patch_record(store: Store, request: Request, base_id: str, table: str,
                 record_id: str) -> dict[str, Any]:
    """PATCH /v0/{base}/{table}/{record}."""
    return records.update_record(store.table(base_id, table), record_id, request.json(),
                                 replace=False)


def put_record(store: Store, request: Request, base_id: str, table: str,
               record_id: str) -> dict[str, Any]:
    """PUT /v0/{base}/{table}/{record}."""
    return records.update_record(store.table(base_id, table), record_id, request.json(),
                                 replace=True)


def delete_record(store: Store, request: Request, base_id: str, table: str,
                  record_id: str) -> dict[str, Any]:
    """DELETE /v0/{base}/{table}/{record}."""
    table_obj = store.table(base_id, table)
    records.get_record(table_obj, record_id)
    del table_obj.records[record_id]
    return {"id": record_id, "deleted": True}


def create_webhook(store: Store, request: Request, base_id: str) -> dict[str, Any]:
    """POST /v0/bases/{base}/webhooks."""
    return webhooks.create(store, request.json(), base_id)


def list_webhooks(store: Store, request: Request, base_id: str) -> dict[str, Any]:
    """GET /v0/bases/{base}/webhooks."""
    return webhooks.list_all(store, base_id)


def delete_webhook(store: Store, request: Request, base_id: str,
                   webhook_id: str) -> dict[str, Any]:
    """DELETE /v0/bases/{base}/webhooks/{id}."""
    return webhooks.delete(store, base_id, webhook_id)


def refresh_webhook(store: Store, request: Request, base_id: str,
                    webhook_id: str) -> dict[str, Any]:
    """POST /v0/bases/{base}/webhooks/{id}/refresh."""
    return webhooks.refresh(store, base_id, webhook_id)


def webhook_payloads(store: Store, request: Request, base_id: str,
                     webhook_id: str) -> dict[str, Any]:
    """GET /v0/bases/{base}/webhooks/{id}/payloads."""
    return webhooks.payloads(store, base_id, webhook_id, request.value("cursor"),
                             request.value("limit"))


Handler = Callable[..., dict[str, Any]]

# (method, path pattern, handler); `*` segments are passed to the handler in order.
# Meta routes come first so `/v0/meta/...` is never read as a base called "meta".
ROUTES: list[tuple[str, tuple[str, ...], Handler]] = [
    ("GET", ("v0", "meta", "whoami"), whoami),
    ("POST", ("v0", "bases", "*", "webhooks"), create_webhook),
    ("GET", ("v0", "bases", "*", "webhooks"), list_webhooks),
    ("DELETE", ("v0", "bases", "*", "webhooks", "*"), delete_webhook),
    ("POST", ("v0", "bases", "*", "webhooks", "*", "refresh"), refresh_webhook),
    ("GET", ("v0", "bases", "*", "webhooks", "*", "payloads"), webhook_payloads),
    ("GET", ("v0", "meta", "bases"), list_bases),
    ("POST", ("v0", "meta", "bases"), create_base),
    ("GET", ("v0", "meta", "bases", "*", "tables"), base_schema),
    ("POST", ("v0", "meta", "bases", "*", "tables"), create_table),
    ("PATCH", ("v0", "meta", "bases", "*", "tables", "*"), update_table),
    ("POST", ("v0", "meta", "bases", "*", "tables", "*", "fields"), create_field),
    ("PATCH", ("v0", "meta", "bases", "*", "tables", "*", "fields", "*"), update_field),
    ("POST", ("v0", "*", "*", "listRecords"), list_records_post),
    ("GET", ("v0", "*", "*"), list_records_get),
    ("POST", ("v0", "*", "*"), create_records),
    ("PATCH", ("v0", "*", "*"), patch_records),
    ("PUT", ("v0", "*", "*"), put_records),
    ("DELETE", ("v0", "*", "*"), delete_records),
    ("GET", ("v0", "*", "*", "*"), get_record),
    ("PATCH", ("v0", "*", "*", "*"), patch_record),
    ("PUT", ("v0", "*", "*", "*"), put_record),
    ("DELETE", ("v0", "*", "*", "*"), delete_record),
]


def _match(pattern: tuple[str, ...], segments: list[str]) -> list[str] | None:
    if len(pattern) != len(segments):
        return None
    params = []
    for expected, actual in zip(pattern, segments, strict=True):
        if expected == "*":
            if actual == "meta" and not params:
                return None  # "meta" is reserved for the metadata API, never a base id.
            params.append(actual)
        elif expected != actual:
            return None
    return params


def dispatch(store: Store, request: Request) -> dict[str, Any]:
    """Route a request to its handler; raises ApiError (RouteNotFound for unknown routes)."""
    for method, pattern, handler in ROUTES:
        params = _match(pattern, request.segments)
        if params is not None and method == request.method:
            if pattern[:3] == ("v0", "*", "*") and is_mutation(request):
                # A record write: webhooks of the base record what it changed.
                return webhooks.tracking(store, params[0], params[1], request.user_id,
                                         functools.partial(handler, store, request, *params))
            return handler(store, request, *params)
    raise RouteNotFound()


__all__ = ["ApiError", "Request", "base_id_of", "dispatch", "is_mutation"]
