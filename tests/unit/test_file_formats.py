"""File types are decided by content; rows are read in chunks by byte offset."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import Workbook

from common.core.errors import ValidationFailed
from common.files import formats, staging
from tests.helpers import png_bytes


def _xlsx(rows: list[list[object]], sheet: str = "Sheet") -> bytes:
    book = Workbook()
    book.active.title = sheet
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _verify(fmt: str, data: bytes) -> None:
    formats.verify(fmt, data[:formats.SAMPLE_BYTES], io.BytesIO(data))


# ------------------------------------------------------------------ claimed types
@pytest.mark.parametrize(("name", "content_type", "expected"), [
    ("people.csv", None, "csv"), ("PEOPLE.JSON", "text/plain", "json"),
    ("book.xlsx", None, "xlsx"), ("export", "text/csv; charset=utf-8", "csv")])
def test_the_name_then_the_media_type_says_what_a_file_claims_to_be(name, content_type,
                                                                     expected):
    assert formats.claimed_format(name, content_type) == expected


@pytest.mark.parametrize("name", ["photo.png", "report.pdf", "archive.zip", "noextension"])
def test_other_types_are_refused(name):
    with pytest.raises(ValidationFailed) as error:
        formats.claimed_format(name, "application/octet-stream")
    assert error.value.details == [{"field": "file", "problem": "unsupported type"}]


# ------------------------------------------------------------------ content checks
def test_a_png_renamed_csv_is_not_csv():
    with pytest.raises(ValidationFailed, match="claims to be CSV but it is not text"):
        _verify("csv", png_bytes())


def test_a_png_renamed_json_or_xlsx_is_refused_too():
    with pytest.raises(ValidationFailed, match="not a JSON array"):
        _verify("json", png_bytes())
    with pytest.raises(ValidationFailed, match="not a zip archive"):
        _verify("xlsx", png_bytes())


def test_a_zip_without_the_spreadsheet_parts_is_not_xlsx():
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValidationFailed, match="lacks the spreadsheet parts"):
        _verify("xlsx", out.getvalue())


def test_a_real_workbook_is_xlsx():
    _verify("xlsx", _xlsx([["Name"], ["Ada"]]))


def test_json_must_be_an_array_of_objects():
    _verify("json", b' [ {"Name": "Ada"}, {"Name": "Grace"} ]')
    _verify("json", b"[]")
    with pytest.raises(ValidationFailed, match="not a JSON array"):
        _verify("json", b'{"Name": "Ada"}')
    with pytest.raises(ValidationFailed, match="first element is not an object"):
        _verify("json", b"[1, 2, 3]")


@pytest.mark.parametrize(("text", "delimiter"), [
    ("Name,Score\nAda,1\nGrace,2\n", ","), ("Name;Score\nAda;1\nGrace;2\n", ";"),
    ("Name\tScore\nAda\t1\nGrace\t2\n", "\t"), ("Name|Score\nAda|1\nGrace|2\n", "|"),
    ("Name\nAda\nGrace\n", ",")])
def test_the_csv_delimiter_is_detected(text, delimiter):
    assert formats.sniff_csv(text.encode()).delimiter == delimiter


def test_csv_rows_with_inconsistent_delimiters_are_refused():
    with pytest.raises(ValueError, match="no consistent delimiter"):
        formats.sniff_csv(b"Name,Age\nAda;3\nBob|x|y\nC\n")


@pytest.mark.parametrize(("data", "encoding"), [
    ("Name\nZoë\n".encode(), "utf-8"), (b"\xef\xbb\xbfName\nZo\xc3\xab\n", "utf-8-sig"),
    ("Name\nCafé - 5€\n".encode("cp1252"), "cp1252"), (b"Name\nA\x81B\n", "latin-1")])
def test_the_encoding_is_detected(data, encoding):
    assert formats.detect_encoding(data) == encoding


def test_a_cp1252_csv_reads_back_as_the_same_text():
    data = "Name;City\nRenée;Besançon\n".encode("cp1252")
    header, rows = formats.csv_rows(formats.split_lines([data]), formats.sniff_csv(data))
    assert header == ["Name", "City"]
    assert list(rows) == [(1, {"Name": "Renée", "City": "Besançon"}, None)]


# ------------------------------------------------------------------ rows
def test_csv_rows_are_numbered_from_one_and_a_malformed_row_is_rejected_alone():
    data = b'Name,Notes\nAda,"line one\nline two"\n\nGrace,x,extra\nAlan,\n'
    header, rows = formats.csv_rows(formats.split_lines([data[:7], data[7:]]),
                                    formats.sniff_csv(data))
    assert header == ["Name", "Notes"]
    assert list(rows) == [(1, {"Name": "Ada", "Notes": "line one\nline two"}, None),
                          (2, None, "the row has 3 values but the header has 2 columns"),
                          (3, {"Name": "Alan"}, None)]


def test_a_duplicate_column_is_refused():
    data = b"Name,Name\nA,B\n"
    with pytest.raises(ValidationFailed, match='column "Name" twice'):
        formats.csv_rows(formats.split_lines([data]), formats.sniff_csv(data))


def test_json_elements_are_decoded_across_chunk_boundaries():
    data = json.dumps([{"Name": f"P{i}", "Score": i * 1000} for i in range(50)] + [7]).encode()
    chunks = [data[i:i + 7] for i in range(0, len(data), 7)]
    _, rows = formats.json_rows(chunks)
    rows = list(rows)
    assert rows[49] == (50, {"Name": "P49", "Score": 49000}, None)
    assert rows[50] == (51, None, "the element is not a JSON object")


def test_a_json_file_cut_short_rejects_only_what_is_missing():
    _, rows = formats.json_rows([b'[{"Name": "Ada"}, {"Name": "Gr'])
    assert list(rows) == [(1, {"Name": "Ada"}, None),
                          (2, None, "the file stops being valid JSON here: an element is "
                                    "malformed or the array is not closed")]


def test_xlsx_rows_come_from_the_first_or_the_named_sheet(tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_bytes(_xlsx([["Name", "Score", None], ["Ada", 92, None], [None, None, None],
                            ["Grace", 88.5, None]], sheet="People"))
    header, rows = formats.xlsx_rows(str(path), None)
    assert header == ["Name", "Score"]
    assert list(rows) == [(1, {"Name": "Ada", "Score": 92}, None),
                          (2, {"Name": "Grace", "Score": 88.5}, None)]
    with pytest.raises(ValidationFailed, match='no sheet "Missing"'):
        formats.xlsx_rows(str(path), "Missing")


# ------------------------------------------------------------------ staging and chunks
def _staged(count: int, chunk_rows: int, mapping=None) -> tuple[bytes, int, list[int]]:
    rows = ((n, {"Name": f"P{n}", "Score": str(n)} if n % 7 else None,
             None if n % 7 else "bad row") for n in range(1, count + 1))
    out = io.BytesIO()
    total, offsets = staging.stage(rows, mapping, out, chunk_rows)
    return out.getvalue(), total, offsets


def test_each_chunk_reads_exactly_its_rows_by_byte_offset():
    data, total, offsets = _staged(1234, 500)
    assert total == 1234 and len(offsets) == 3
    requested = []

    def fetch(start, end):
        requested.append((start, end))
        yield data[start:end]

    chunks = [list(staging.read_chunk(fetch, offsets, i)) for i in range(3)]
    assert [len(c) for c in chunks] == [500, 500, 234]
    assert [r[0] for c in chunks for r in c] == list(range(1, 1235))
    assert chunks[1][0] == (501, {"Name": "P501", "Score": "501"}, None)
    assert chunks[0][6] == (7, None, "bad row")
    assert requested == [(offsets[0], offsets[1]), (offsets[1], offsets[2]), (offsets[2], None)]


def test_mapping_keeps_and_renames_only_the_mapped_columns():
    data, _, offsets = _staged(3, 500, mapping={"Name": "Full name"})
    rows = list(staging.read_chunk(lambda s, e: [data[s:e]], offsets, 0))
    assert rows[0] == (1, {"Full name": "P1"}, None)


def test_a_row_with_nothing_mapped_is_rejected():
    out = io.BytesIO()
    staging.stage([(1, {"Other": "x"}, None)], {"Name": "Name"}, out, 10)
    rows = list(staging.read_chunk(lambda s, e: [out.getvalue()[s:e]], [0], 0))
    assert rows == [(1, None, "the row has no values for the mapped fields")]


# ------------------------------------------------------------------ XLSX bombs (issue 21, 4)
def _rewritten_sheet(data: bytes, rewrite) -> bytes:
    """The workbook with its first sheet's XML passed through `rewrite` (what a crafted file
    declares, which openpyxl never writes itself)."""
    import zipfile

    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = rewrite(content.decode()).encode()
            target.writestr(item, content)
    return out.getvalue()


def test_rows_after_a_long_run_of_empty_rows_are_not_read(tmp_path):
    def far_row(xml: str) -> str:
        empties = "".join(f'<row r="{n}"/>' for n in range(3, 3 + formats.XLSX_EMPTY_ROWS_END))
        far = '<row r="900000"><c r="A900000" t="inlineStr"><is><t>Far</t></is></c></row>'
        return xml.replace("</sheetData>", empties + far + "</sheetData>").replace(
            'ref="A1:A2"', 'ref="A1:A900000"')

    path = tmp_path / "bomb.xlsx"
    path.write_bytes(_rewritten_sheet(_xlsx([["Name"], ["Ada"]]), far_row))
    assert len(path.read_bytes()) < 16 * 1024  # a few KB that declare 900,000 rows
    header, rows = formats.xlsx_rows(str(path), None)
    assert header == ["Name"]
    assert list(rows) == [(1, {"Name": "Ada"}, None)]


def test_a_sheet_declaring_more_columns_than_read_is_refused(tmp_path):
    path = tmp_path / "wide.xlsx"
    path.write_bytes(_rewritten_sheet(_xlsx([["Name"], ["Ada"]]),
                                      lambda xml: xml.replace('ref="A1:A2"', 'ref="A1:XFD2"')))
    with pytest.raises(ValidationFailed, match="columns"):
        formats.xlsx_rows(str(path), None)


def test_a_workbook_inflating_past_the_cap_is_refused_at_upload_and_import(tmp_path,
                                                                          monkeypatch):
    data = _xlsx([["Name"]] + [["x" * 100]] * 200)
    monkeypatch.setattr(formats, "XLSX_MAX_UNCOMPRESSED", 10_000)
    with pytest.raises(ValidationFailed, match="inflates"):
        _verify("xlsx", data)
    path = tmp_path / "big.xlsx"
    path.write_bytes(data)
    with pytest.raises(ValidationFailed, match="inflates"):
        formats.xlsx_rows(str(path), None)


def test_json_nested_past_the_decoders_stack_is_refused_as_invalid():
    nested = b'[{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]"
    with pytest.raises(ValidationFailed, match="nested too deeply"):
        _verify("json", nested)
    assert list(formats.json_rows([nested])[1]) == [
        (1, None, "the file stops being valid JSON here: an element is nested too deeply")]
