"""A file's values are converted to each field's type before an import writes them."""

from __future__ import annotations

import pytest

from common.files.columns import MappingRejected, Plan
from common.files.convert import Column, Unconvertible, convert_row, infer_date_order


def _col(field_type: str, options: dict | None = None, **extra) -> Column:
    return Column("Col", {"name": "Fld", "type": field_type, "options": options}, **extra)


@pytest.mark.parametrize(("field_type", "text", "expected"), [
    ("number", "5", 5), ("number", " 2.5 ", 2.5), ("number", "1,234,567", 1234567),
    ("number", "1.234,5", 1234.5), ("number", "3,5", 3.5), ("number", "-7", -7),
    ("currency", "$1,200.50", 1200.5), ("currency", "€ 30", 30), ("currency", "-$4", -4),
    ("percent", "50%", 0.5), ("percent", "0.25", 0.25), ("rating", "4", 4),
    ("duration", "1:30", 5400), ("duration", "0:01:05", 65), ("duration", "90", 90),
])
def test_numbers_are_read_as_people_write_them(field_type, text, expected):
    assert _col(field_type).convert(text) == expected


@pytest.mark.parametrize(("field_type", "text"), [
    ("number", "not a number"), ("number", "nan"), ("number", "1e"), ("currency", "12 USD x"),
    ("rating", "6"), ("rating", "2.5"), ("duration", "1:75"), ("number", "inf")])
def test_a_value_that_is_no_number_is_refused(field_type, text):
    with pytest.raises(Unconvertible):
        _col(field_type).convert(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("true", True), ("Yes", True), ("1", True), ("FALSE", False), ("no", False), ("0", False)])
def test_checkboxes_take_true_false_yes_no_one_zero(text, expected):
    assert _col("checkbox").convert(text) is expected


def test_the_refusal_names_the_column_the_value_and_the_field_type():
    with pytest.raises(Unconvertible) as caught:
        Column("Active?", {"name": "Active", "type": "checkbox"}).convert("maybe")
    message = str(caught.value)
    assert message.startswith('Column "Active?": "maybe" is not yes or no')
    assert 'field "Active" is a checkbox field' in message


@pytest.mark.parametrize(("text", "order", "expected"), [
    ("2024-03-05", "mdy", "2024-03-05"), ("05/03/2024", "dmy", "2024-03-05"),
    ("03/05/2024", "mdy", "2024-03-05"), ("5.3.24", "dmy", "2024-03-05"),
    ("5 March 2024", "mdy", "2024-03-05"), ("Mar 5, 2024", "dmy", "2024-03-05"),
    ("2024-03-05T23:10:00Z", "mdy", "2024-03-05"), ("05/03/2024 10:00", "dmy", "2024-03-05")])
def test_dates_are_read_in_iso_and_the_common_orders(text, order, expected):
    assert _col("date", date_order=order).convert(text) == expected


def test_a_date_that_does_not_exist_in_the_columns_order_is_refused():
    with pytest.raises(Unconvertible, match="month/day/year"):
        _col("date", date_order="mdy").convert("25/12/2024")


def test_date_times_become_utc_from_the_fields_time_zone():
    assert _col("dateTime", date_order="dmy").convert("05/03/2024 2:30 PM") == \
        "2024-03-05T14:30:00.000Z"
    paris = _col("dateTime", {"timeZone": "Europe/Paris"}, date_order="dmy")
    assert paris.convert("05/03/2024 14:30") == "2024-03-05T13:30:00.000Z"
    assert paris.convert("2024-03-05T14:30:00+00:00") == "2024-03-05T14:30:00.000Z"


def test_the_majority_of_unambiguous_dates_decides_the_order():
    assert infer_date_order(["01/02/2024", "25/02/2024", "30/01/2024", "02/13/2024"]) == "dmy"
    assert infer_date_order(["01/02/2024", "02/25/2024"]) == "mdy"
    assert infer_date_order(["01/02/2024"], preferred="dmy") == "dmy"


def test_selects_match_existing_choices_case_insensitively():
    options = {"choices": [{"name": "In progress"}, {"name": "Done"}]}
    assert _col("singleSelect", options).convert("in PROGRESS") == "In progress"
    assert _col("multipleSelects", options).convert("done, in progress, Done") == \
        ["Done", "In progress"]
    with pytest.raises(Unconvertible, match=r"one of its options \(In progress, Done\)"):
        _col("singleSelect", options).convert("Blocked")
    assert _col("singleSelect", options, new_options=True).convert("Blocked") == "Blocked"


@pytest.mark.parametrize(("field_type", "good", "bad"), [
    ("email", "ada@example.com", "ada at example"), ("url", "https://example.com/x", "not a url"),
    ("phoneNumber", "+44 (0)20 7946 0958", "call me")])
def test_emails_urls_and_phone_numbers_are_checked(field_type, good, bad):
    assert _col(field_type).convert(good) == good
    with pytest.raises(Unconvertible):
        _col(field_type).convert(bad)


def test_linked_records_are_found_by_their_primary_field_value():
    links = {"acme": "recAAAAAAAAAAAAAA", "globex": "recBBBBBBBBBBBBBB"}
    col = _col("multipleRecordLinks", links=links)
    assert col.convert("Acme, globex") == ["recAAAAAAAAAAAAAA", "recBBBBBBBBBBBBBB"]
    assert col.convert("recCCCCCCCCCCCCCC") == ["recCCCCCCCCCCCCCC"]
    with pytest.raises(Unconvertible, match='"Initech"'):
        col.convert("Initech")


def test_empty_cells_are_left_out_and_json_values_of_the_right_type_kept():
    columns = {"n": Column("n", {"name": "N", "type": "number"}),
               "c": Column("c", {"name": "C", "type": "checkbox"}),
               "t": Column("t", {"name": "T", "type": "singleLineText"})}
    assert convert_row(columns.get, {"n": 3.5, "c": True, "t": "  ", "x": "ignored"}) == \
        ({"N": 3.5, "C": True}, [])


def test_every_value_that_does_not_fit_is_a_problem_of_its_row():
    columns = {"n": Column("n", {"name": "N", "type": "number"}),
               "c": Column("c", {"name": "C", "type": "checkbox"})}
    fields, problems = convert_row(columns.get, {"n": "x", "c": "maybe"})
    assert fields == {}
    assert [(p["column"], p["field"]) for p in problems] == [("n", "N"), ("c", "C")]


# ------------------------------------------------------------------ columns to fields
FIELDS = [{"id": "fldNAME0000000001", "name": "Name", "type": "singleLineText"},
          {"id": "fldSCORE000000001", "name": "Score", "type": "number"},
          {"id": "fldWHEN0000000001", "name": "When", "type": "date"},
          {"id": "fldAUTO0000000001", "name": "Number", "type": "autoNumber"}]


def test_columns_named_like_fields_map_unless_the_mapping_says_otherwise():
    plan = Plan(FIELDS, {"Full name": "Name", "score": None}, new_options=False)
    plan.check(["Full name", "name", "score", "when", "Notes", "Number"], None)
    assert {c.column: c.field["name"] for c in plan.written()} == \
        {"Full name": "Name", "when": "When"}
    assert plan.ignored == ["name", "score", "Notes", "Number"]


def test_a_mapping_to_an_unknown_or_computed_field_or_a_missing_column_is_refused():
    with pytest.raises(MappingRejected, match='no field "Nmae"'):
        Plan(FIELDS, {"A": "Nmae"}, False).check(["A"], None)
    with pytest.raises(MappingRejected, match="computed"):
        Plan(FIELDS, {"A": "Number"}, False).check(["A"], None)
    with pytest.raises(MappingRejected, match="no column"):
        Plan(FIELDS, {"B": "Name"}, False).check(["A"], None)
    with pytest.raises(MappingRejected, match="both map"):
        Plan(FIELDS, {"A": "Name", "B": "name"}, False).check(["A", "B"], None)


def test_each_date_column_takes_the_order_its_values_show():
    plan = Plan(FIELDS, None, False)
    plan.check(["Name", "When"], None)
    plan.profile([(1, {"When": "13/01/2024"}, None), (2, {"When": "02/01/2024"}, None)])
    assert plan.columns["When"].convert("02/01/2024") == "2024-01-02"
