"""Records of a table."""

from typing import Annotated
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from airtable_routes import TABLE, TAGS, ConnectionId, cached
from common.airtable import ids, service
from common.airtable.commands import (
    CreateRecords,
    DeleteRecords,
    GetRecord,
    ListRecords,
    UpdateRecords,
    WriteRecord,
)
from common.airtable.ids import BaseId, RecordId, TableRef
from common.airtable.schemas import (
    DeletedOut,
    NewRecords,
    OneRecord,
    RecordOut,
    RecordPage,
    RecordQuery,
    RecordsOut,
    RecordsUpdate,
    UpsertOut,
)
from common.core.dependencies import Caller, ReadUow, Uow
from common.core.schemas import parse

router = Router()
RECORDS = TABLE + "/records"
RECORD = RECORDS + "/<record_id>"


def _repeated() -> dict[str, list[str]]:
    # HTTP API joins repeated parameters with commas; field names may hold commas, so read them
    # from the raw query string.
    return parse_qs(router.current_event.raw_event.get("rawQueryString", ""))


@router.get(RECORDS, summary="One page of records", tags=TAGS)
def list_records(
    base_id: BaseId, table: TableRef, caller: Caller, uow: ReadUow,
    page_size: Annotated[int | None, Query(ge=1, le=100)] = None,
    offset: Annotated[str | None, Query(max_length=200)] = None,
    max_records: Annotated[int | None, Query(ge=1)] = None,
    view: Annotated[str | None, Query()] = None,
    filter: Annotated[str | None, Query(
        description="JSON: object field -> value, or list of {field, op, value}")] = None,
    formula: Annotated[str | None, Query(description="raw Airtable formula")] = None,
    connection_id: ConnectionId = None,
) -> Response[RecordPage]:
    repeated = _repeated()
    query = parse(RecordQuery, {"page_size": page_size, "offset": offset,
                                "max_records": max_records, "view": view, "filter": filter,
                                "formula": formula, "fields": repeated.get("fields", []),
                                "sort": repeated.get("sort", [])})
    cmd = ListRecords(base_id=base_id, connection_id=connection_id, table=table, query=query)
    return cached(service.list_records(cmd, uow, caller))


@router.get(RECORD, summary="One record", tags=TAGS)
def get_record(base_id: BaseId, table: TableRef, record_id: RecordId, caller: Caller,
               uow: ReadUow, connection_id: ConnectionId = None) -> Response[RecordOut]:
    cmd = GetRecord(base_id=base_id, connection_id=connection_id, table=table,
                    record_id=record_id)
    return cached(service.get_record(cmd, uow, caller))


@router.post(RECORDS, summary="Create records (all or nothing, 10 per Airtable request)",
             tags=TAGS, status_code=201)
def create_records(base_id: BaseId, table: TableRef, body: NewRecords, caller: Caller,
                   uow: Uow, connection_id: ConnectionId = None) -> RecordsOut:
    cmd = CreateRecords(base_id=base_id, connection_id=connection_id, table=table, body=body,
                        idempotency_key=router.current_event.headers.get("idempotency-key"))
    return service.create_records(cmd, uow, caller)


@router.patch(RECORDS, summary="Update records by id, or upsert with merge_on", tags=TAGS)
def update_records(base_id: BaseId, table: TableRef, body: RecordsUpdate, caller: Caller,
                   uow: Uow, connection_id: ConnectionId = None) -> RecordsOut | UpsertOut:
    cmd = UpdateRecords(base_id=base_id, connection_id=connection_id, table=table, body=body)
    return service.update_records(cmd, uow, caller)


@router.patch(RECORD, summary="Update one record", tags=TAGS)
def update_record(base_id: BaseId, table: TableRef, record_id: RecordId, body: OneRecord,
                  caller: Caller, uow: Uow, connection_id: ConnectionId = None) -> RecordOut:
    cmd = WriteRecord(base_id=base_id, connection_id=connection_id, table=table,
                      record_id=record_id, body=body, replace=False)
    return service.write_record(cmd, uow, caller)


@router.put(RECORD, summary="Replace one record", tags=TAGS)
def replace_record(base_id: BaseId, table: TableRef, record_id: RecordId, body: OneRecord,
                   caller: Caller, uow: Uow, connection_id: ConnectionId = None) -> RecordOut:
    cmd = WriteRecord(base_id=base_id, connection_id=connection_id, table=table,
                      record_id=record_id, body=body, replace=True)
    return service.write_record(cmd, uow, caller)


@router.delete(RECORD, summary="Delete one record", tags=TAGS)
def delete_record(base_id: BaseId, table: TableRef, record_id: RecordId, caller: Caller,
                  uow: Uow, connection_id: ConnectionId = None) -> DeletedOut:
    cmd = DeleteRecords(base_id=base_id, connection_id=connection_id, table=table,
                        record_ids=(record_id,))
    return service.delete_records(cmd, uow, caller)


@router.delete(RECORDS, summary="Delete records (?ids=a&ids=b or ?ids=a,b)", tags=TAGS)
def delete_records(base_id: BaseId, table: TableRef, caller: Caller, uow: Uow,
                   connection_id: ConnectionId = None) -> DeletedOut:
    cmd = DeleteRecords(base_id=base_id, connection_id=connection_id, table=table,
                        record_ids=tuple(ids.record_ids(_repeated().get("ids", []))))
    return service.delete_records(cmd, uow, caller)
