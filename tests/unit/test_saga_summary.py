"""A transaction is named to a person by what it does, never by its id."""

from __future__ import annotations

from common.sagas.summary import summary


def _op(action: str, table: str, n: int) -> dict:
    return {"action": action, "table": table, "records": [{"id": f"r{i}"} for i in range(n)]}


def test_a_transaction_reads_as_its_operations_with_the_tables_plural_or_singular():
    data = {"operations": [_op("create", "Contacts", 2), _op("update", "Contacts", 1)]}
    assert summary("airtable_transaction", data) == "create 2 Contacts, update 1 Contact"
    assert summary("airtable_transaction", {"operations": [_op("upsert", "Companies", 1)]}) == \
        "upsert 1 Company"


def test_a_table_id_or_a_singular_name_is_not_bent_into_a_noun():
    data = {"operations": [_op("delete", "tblAAAAAAAAAAAAAA", 3), _op("create", "People", 1)]}
    assert summary("airtable_transaction", data) == "delete 3 records, create 1 People record"


def test_long_transactions_are_cut_and_other_types_read_plainly():
    data = {"operations": [_op("create", "Tasks", 1)] * 5}
    assert summary("airtable_transaction", data).endswith("create 1 Task and 2 more")
    assert summary("user_onboarding", {}) == "set up your account"
    assert summary("airtable_transaction", {"summary": "undo import of a.csv", "operations": []}) \
        == "undo import of a.csv"
