"""Records of a table."""

from typing import Annotated
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from airtable_routes import TABLE, TAGS, ConnectionId, cached, created
from common.airtable import ids, service
from common.airtable.ids import BaseId, RecordId, TableRef
from common.airtable.schemas import NewRecords, OneRecord, RecordQuery, RecordsUpdate
from common.identity import current_identity
from common.schemas import parse

router = Router()
RECORDS = TABLE + "/records"
RECORD = RECORDS + "/<record_id>"


def _repeated() -> dict[str, list[str]]:
    # HTTP API joins repeated parameters with commas; field names may hold commas, so read them
    # from the raw query string.
    return parse_qs(router.current_event.raw_event.get("rawQueryString", ""))


@router.get(RECORDS, summary="One page of records", tags=TAGS)
def list_records(
    base_id: BaseId, table: TableRef,
    page_size: Annotated[int | None, Query(ge=1, le=100)] = None,
    offset: Annotated[str | None, Query(max_length=200)] = None,
    max_records: Annotated[int | None, Query(ge=1)] = None,
    view: Annotated[str | None, Query()] = None,
    filter: Annotated[str | None, Query(
        description="JSON: object field -> value, or list of {field, op, value}")] = None,
    formula: Annotated[str | None, Query(description="raw Airtable formula")] = None,
    connection_id: ConnectionId = None,
):
    repeated = _repeated()
    query = parse(RecordQuery, {"page_size": page_size, "offset": offset,
                                "max_records": max_records, "view": view, "filter": filter,
                                "formula": formula, "fields": repeated.get("fields", []),
                                "sort": repeated.get("sort", [])})
    return cached(service.list_records(current_identity(router), base_id, table, query,
                                       connection_id))


@router.get(RECORD, summary="One record", tags=TAGS)
def get_record(base_id: BaseId, table: TableRef, record_id: RecordId,
               connection_id: ConnectionId = None):
    return cached(service.get_record(current_identity(router), base_id, table, record_id,
                                     connection_id))


@router.post(RECORDS, summary="Create records (all or nothing, 10 per Airtable request)",
             tags=TAGS)
def create_records(base_id: BaseId, table: TableRef, body: NewRecords,
                   connection_id: ConnectionId = None):
    key = router.current_event.headers.get("idempotency-key")
    return created(service.create_records(current_identity(router), base_id, table, body,
                                          connection_id, key))


@router.patch(RECORDS, summary="Update records by id, or upsert with merge_on", tags=TAGS)
def update_records(base_id: BaseId, table: TableRef, body: RecordsUpdate,
                   connection_id: ConnectionId = None) -> dict:
    return service.update_records(current_identity(router), base_id, table, body, connection_id)


@router.patch(RECORD, summary="Update one record", tags=TAGS)
def update_record(base_id: BaseId, table: TableRef, record_id: RecordId, body: OneRecord,
                  connection_id: ConnectionId = None) -> dict:
    return service.write_record(current_identity(router), base_id, table, record_id, body,
                                connection_id, replace=False)


@router.put(RECORD, summary="Replace one record", tags=TAGS)
def replace_record(base_id: BaseId, table: TableRef, record_id: RecordId, body: OneRecord,
                   connection_id: ConnectionId = None) -> dict:
    return service.write_record(current_identity(router), base_id, table, record_id, body,
                                connection_id, replace=True)


@router.delete(RECORD, summary="Delete one record", tags=TAGS)
def delete_record(base_id: BaseId, table: TableRef, record_id: RecordId,
                  connection_id: ConnectionId = None) -> dict:
    return service.delete_records(current_identity(router), base_id, table, [record_id],
                                  connection_id)


@router.delete(RECORDS, summary="Delete records (?ids=a&ids=b or ?ids=a,b)", tags=TAGS)
def delete_records(base_id: BaseId, table: TableRef, connection_id: ConnectionId = None) -> dict:
    record_ids = ids.record_ids(_repeated().get("ids", []))
    return service.delete_records(current_identity(router), base_id, table, record_ids,
                                  connection_id)
