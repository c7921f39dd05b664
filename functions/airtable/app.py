"""Airtable service: connections, bases, schema and records (through the shared limiter)."""

import json
from typing import Annotated, Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from common import health, idempotency
from common.airtable import defaults, records, schema, service
from common.airtable.cache import Cached
from common.errors import ValidationFailed
from common.http import JSON, create_app
from common.identity import current_identity
from common.lambda_handlers import http_handler

app = create_app("airtable")
app.include_router(health.health_router(
    "airtable", {"database": health.database, "airtable": defaults.reachable}))

BASE = "/api/airtable/bases/<base_id>"
TABLE = BASE + "/tables/<table>"
ConnectionId = Annotated[str | None, Query(description="connection to use (default: yours)")]


class NewConnection(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    token: str = Field(min_length=8, max_length=512)
    default_base_id: str | None = Field(None, pattern=r"^app[A-Za-z0-9]{14}$")


class FieldSpec(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=1)
    description: str | None = None
    options: dict[str, Any] | None = None


class NewTable(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    fields: list[FieldSpec] = Field(min_length=1)


class Rename(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None


class NewRecord(BaseModel):
    fields: dict[str, Any]


class RecordUpdate(BaseModel):
    id: str | None = Field(None, pattern=r"^rec[A-Za-z0-9]{14}$")
    fields: dict[str, Any]


class NewRecords(BaseModel):
    records: list[NewRecord] = Field(min_length=1)
    typecast: bool = False


class RecordsUpdate(BaseModel):
    records: list[RecordUpdate] = Field(min_length=1)
    typecast: bool = False
    merge_on: list[str] | None = Field(None, min_length=1, max_length=3)


class OneRecord(BaseModel):
    fields: dict[str, Any]
    typecast: bool = False


def _cached(result: Cached, status: int = 200) -> Response:
    return Response(status_code=status, content_type=JSON, body=result.value,
                    headers={"X-Cache": "HIT" if result.hit else "MISS"})


def _user() -> str:
    return current_identity(app).user_id


def _json(status: int, body: Any) -> Response:
    return Response(status_code=status, content_type=JSON, body=body)


# ------------------------------------------------------------------ connections
@app.post("/api/airtable/connections", summary="Store a verified Airtable token", tags=["airtable"])
def add_connection(body: NewConnection):
    return _json(201, service.add_connection(_user(), body.name, body.token,
                                             body.default_base_id))


@app.get("/api/airtable/connections", summary="Your Airtable connections", tags=["airtable"])
def list_connections() -> dict:
    return {"items": service.list_connections(_user()), "next_cursor": None}


@app.delete("/api/airtable/connections/<connection_id>", summary="Delete a connection",
            tags=["airtable"])
def delete_connection(connection_id: str):
    service.remove_connection(_user(), connection_id)
    return Response(status_code=204, content_type=JSON, body="")


# ------------------------------------------------------------------ schema
@app.get("/api/airtable/bases", summary="Bases the connection can see", tags=["airtable"])
def list_bases(connection_id: ConnectionId = None):
    result = service.bases(_user(), connection_id)
    return _cached(Cached({"items": result.value, "next_cursor": None}, result.hit))


@app.get(BASE + "/schema", summary="Tables, fields and views of a base", tags=["airtable"])
def base_schema(base_id: str, connection_id: ConnectionId = None):
    return _cached(service.base_schema(_user(), connection_id, base_id))


@app.post(BASE + "/tables", summary="Create a table", tags=["airtable"])
def create_table(base_id: str, body: NewTable, connection_id: ConnectionId = None):
    spec = body.model_dump(exclude_none=True)
    return _json(201, service.with_access(
        _user(), connection_id, lambda a: schema.create_table(a, base_id, spec)))


@app.patch(TABLE, summary="Rename a table or change its description", tags=["airtable"])
def update_table(base_id: str, table: str, body: Rename, connection_id: ConnectionId = None):
    changes = _changes(body)
    return service.with_access(_user(), connection_id,
                               lambda a: schema.update_table(a, base_id, table, changes))


@app.post(TABLE + "/fields", summary="Add a field", tags=["airtable"])
def create_field(base_id: str, table: str, body: FieldSpec, connection_id: ConnectionId = None):
    spec = body.model_dump(exclude_none=True)
    return _json(201, service.with_access(
        _user(), connection_id, lambda a: schema.create_field(a, base_id, table, spec)))


@app.patch(TABLE + "/fields/<field_id>", summary="Rename a field", tags=["airtable"])
def update_field(base_id: str, table: str, field_id: str, body: Rename,
                 connection_id: ConnectionId = None):
    changes = _changes(body)
    return service.with_access(
        _user(), connection_id, lambda a: schema.update_field(a, base_id, table, field_id,
                                                              changes))


def _changes(body: Rename) -> dict[str, Any]:
    changes = body.model_dump(exclude_none=True)
    if not changes:
        raise ValidationFailed("Give a name or a description.",
                               details=[{"field": "body", "problem": "nothing to change"}])
    return changes


# ------------------------------------------------------------------ records
@app.get(TABLE + "/records", summary="One page of records", tags=["airtable"])
def list_records(
    base_id: str, table: str,
    page_size: Annotated[int | None, Query(ge=1, le=100)] = None,
    offset: Annotated[str | None, Query()] = None,
    max_records: Annotated[int | None, Query(ge=1)] = None,
    view: Annotated[str | None, Query()] = None,
    filter: Annotated[str | None, Query(description="JSON object field -> value")] = None,
    formula: Annotated[str | None, Query(description="raw Airtable formula")] = None,
    connection_id: ConnectionId = None,
):
    options: dict[str, Any] = {"page_size": page_size, "max_records": max_records, "view": view}
    repeated = parse_qs(app.current_event.raw_event.get("rawQueryString", ""))
    if repeated.get("fields"):
        options["fields"] = repeated["fields"]
    if repeated.get("sort"):
        options["sort"] = repeated["sort"]
    if filter is not None and formula is not None:
        raise ValidationFailed("Use either filter or formula.",
                               details=[{"field": "filter", "problem": "conflicts with formula"}])
    if filter is not None:
        options["formula"] = records.filter_formula(_json_object(filter))
    elif formula is not None:
        options["formula"] = formula
    options = {k: v for k, v in options.items() if v is not None}
    return _cached(service.list_records(_user(), connection_id, base_id, table, options, offset))


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as e:
        raise ValidationFailed("filter must be a JSON object.",
                               details=[{"field": "filter", "problem": "invalid JSON"}]) from e
    if not isinstance(value, dict):
        raise ValidationFailed("filter must be a JSON object.",
                               details=[{"field": "filter", "problem": "not an object"}])
    return value


@app.get(TABLE + "/records/<record_id>", summary="One record", tags=["airtable"])
def get_record(base_id: str, table: str, record_id: str, connection_id: ConnectionId = None):
    return _cached(service.with_access(_user(), connection_id,
                                       lambda a: records.get(a, base_id, table, record_id)))


@app.post(TABLE + "/records", summary="Create records (any count, 10 per request)",
          tags=["airtable"])
def create_records(base_id: str, table: str, body: NewRecords,
                   connection_id: ConnectionId = None):
    rows = [r.model_dump() for r in body.records]
    user = _user()
    result = idempotency.run_once(
        "airtable.create_records", user, app.current_event.headers.get("idempotency-key"),
        {"base_id": base_id, "table": table, "body": body.model_dump()},
        lambda: {"records": service.with_access(user, connection_id, lambda a: records.create(
            a, base_id, table, rows, body.typecast))})
    return _json(201, result)


@app.patch(TABLE + "/records", summary="Update records by id, or upsert with merge_on",
           tags=["airtable"])
def update_records(base_id: str, table: str, body: RecordsUpdate,
                   connection_id: ConnectionId = None):
    if body.merge_on:
        rows = [r.model_dump(exclude_none=True) for r in body.records]
        return service.with_access(_user(), connection_id, lambda a: records.upsert(
            a, base_id, table, rows, body.merge_on or [], body.typecast))
    missing = [f"records.{i}.id" for i, r in enumerate(body.records) if not r.id]
    if missing:
        raise ValidationFailed("Every record needs an id (or give merge_on to upsert).",
                               details=[{"field": f, "problem": "missing"} for f in missing])
    rows = [r.model_dump() for r in body.records]
    return {"records": service.with_access(_user(), connection_id, lambda a: records.update(
        a, base_id, table, rows, body.typecast))}


@app.patch(TABLE + "/records/<record_id>", summary="Update one record", tags=["airtable"])
def update_record(base_id: str, table: str, record_id: str, body: OneRecord,
                  connection_id: ConnectionId = None):
    return service.with_access(_user(), connection_id, lambda a: records.write_one(
        a, base_id, table, record_id, body.fields, body.typecast, replace=False))


@app.put(TABLE + "/records/<record_id>", summary="Replace one record", tags=["airtable"])
def replace_record(base_id: str, table: str, record_id: str, body: OneRecord,
                   connection_id: ConnectionId = None):
    return service.with_access(_user(), connection_id, lambda a: records.write_one(
        a, base_id, table, record_id, body.fields, body.typecast, replace=True))


@app.delete(TABLE + "/records/<record_id>", summary="Delete one record", tags=["airtable"])
def delete_record(base_id: str, table: str, record_id: str, connection_id: ConnectionId = None):
    return {"deleted": service.with_access(_user(), connection_id, lambda a: records.delete(
        a, base_id, table, [record_id]))}


@app.delete(TABLE + "/records", summary="Delete records (?ids=a&ids=b or ?ids=a,b)",
            tags=["airtable"])
def delete_records(base_id: str, table: str, connection_id: ConnectionId = None):
    raw = parse_qs(app.current_event.raw_event.get("rawQueryString", "")).get("ids", [])
    ids = [i for value in raw for i in value.split(",") if i]
    if not ids:
        raise ValidationFailed("Give the ids to delete.",
                               details=[{"field": "ids", "problem": "missing"}])
    return {"deleted": service.with_access(_user(), connection_id, lambda a: records.delete(
        a, base_id, table, ids))}


lambda_handler = http_handler(app)
