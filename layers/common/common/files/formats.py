"""What a file is, judged by its content, and its rows read one at a time so memory stays flat.

Formats: CSV (encoding and delimiter detected, header row), JSON (an array of objects, parsed
element by element) and XLSX (a zip with the OOXML parts, read with openpyxl's read-only mode).
A row is `(number, values, error)`: `number` is the 1-based data row number, `values` maps
column -> value (empty cells left out), `error` says why the row cannot be imported.
"""

from __future__ import annotations

import codecs
import csv
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePosixPath
from typing import IO, Any

from common.core.errors import ValidationFailed

SAMPLE_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
# JSON elements larger than this are refused rather than buffered without bound.
MAX_ELEMENT_CHARS = 8 * 1024 * 1024

MEDIA_TYPES = {"csv": "text/csv", "json": "application/json",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".json": "json", ".xlsx": "xlsx"}
_BY_MEDIA_TYPE = {v: k for k, v in MEDIA_TYPES.items()} | {"application/csv": "csv"}
_OOXML_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
_NAMES = {"csv": "CSV", "json": "JSON", "xlsx": "XLSX"}

Row = tuple[int, dict[str, Any] | None, str | None]


def rejected(problem: str, message: str) -> ValidationFailed:
    """The 422 for a file whose type is not accepted or whose content is not what it claims."""
    return ValidationFailed(message, details=[{"field": "file", "problem": problem}])


def claimed_format(filename: str, content_type: str | None) -> str:
    """The format the name (else the media type) claims; anything but CSV, JSON, XLSX -> 422."""
    fmt = _EXTENSIONS.get(PurePosixPath(filename.lower()).suffix)
    if fmt is None and content_type:
        fmt = _BY_MEDIA_TYPE.get(content_type.split(";")[0].strip().lower())
    if fmt is None:
        raise rejected("unsupported type", "Only CSV, JSON and XLSX files are accepted.")
    return fmt


def verify(fmt: str, head: bytes, whole: IO[bytes] | None) -> None:
    """Check that the content is what `fmt` claims (`whole`, seekable, is needed for XLSX)."""
    problem = _problem(fmt, head, whole)
    if problem:
        raise rejected("content does not match type",
                       f"The file claims to be {_NAMES[fmt]} but {problem}.")


def _problem(fmt: str, head: bytes, whole: IO[bytes] | None) -> str | None:
    if fmt == "xlsx":
        if whole is None or not head.startswith(b"PK\x03\x04"):
            return "it is not a zip archive"
        whole.seek(0)
        try:
            with zipfile.ZipFile(whole) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return "it is not a readable zip archive"
        finally:
            whole.seek(0)
        missing = [p for p in _OOXML_PARTS if p not in names]
        return f"it lacks the spreadsheet parts {missing}" if missing else _xlsx_size_problem(
            whole)
    if fmt == "json":
        try:
            first = next(iter_json_array([head], complete=False), None)
        except ValueError as e:
            return f"it is not a JSON array ({e})"
        if first is not None and not isinstance(first, dict):
            return "its first element is not an object"
        return None
    try:
        sniff_csv(head)
    except ValueError as e:
        return str(e)
    return None


# ------------------------------------------------------------------ CSV
@dataclass(frozen=True)
class CsvDialect:
    """How a CSV file is written: its encoding, delimiter and quote character."""

    encoding: str
    delimiter: str
    quotechar: str = '"'


def detect_encoding(sample: bytes) -> str:
    """utf-8-sig (BOM), utf-8, cp1252, else latin-1 (which decodes anything)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # Not final: the sample may end in the middle of a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _is_text(text: str) -> bool:
    # Binary formats (PNG, PDF, zip) carry NULs and control bytes that text never has.
    return not any(ord(c) < 32 and c not in "\t\n\r\f" for c in text)


def sniff_csv(sample: bytes) -> CsvDialect:
    """The dialect of a CSV file from its first bytes; ValueError when it is not CSV text."""
    encoding = detect_encoding(sample)
    text = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    if not _is_text(text):
        raise ValueError("it is not text")
    if len(sample) >= SAMPLE_BYTES and "\n" in text:
        text = text[:text.rfind("\n") + 1]  # whole lines only: the sample may end mid-row
    if not text.strip():
        raise ValueError("it is empty")
    try:
        sniffed = csv.Sniffer().sniff(text, delimiters=DELIMITERS)
        return CsvDialect(encoding, sniffed.delimiter, sniffed.quotechar or '"')
    except csv.Error:
        first = text.splitlines()[0]
        if any(d in first for d in DELIMITERS):
            raise ValueError("its rows have no consistent delimiter") from None
        return CsvDialect(encoding, ",")  # one column: nothing to delimit


def csv_rows(lines: Iterable[bytes], dialect: CsvDialect) -> tuple[list[str], Iterator[Row]]:
    """The header and an iterator of data rows of a CSV file given as lines of bytes."""
    decoder = codecs.getincrementaldecoder(dialect.encoding)(errors="replace")
    text = (decoder.decode(line) for line in lines)
    reader = csv.reader(text, delimiter=dialect.delimiter, quotechar=dialect.quotechar,
                        doublequote=True, strict=False)
    header_cells = next((r for r in reader if any(c.strip() for c in r)), None)
    if header_cells is None:
        raise rejected("empty", "The file has no header row.")
    header = header_names(header_cells)

    def rows() -> Iterator[Row]:
        number = 0
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # blank lines are not rows
            number += 1
            extra = [c for c in cells[len(header):] if c.strip()]
            if extra:
                yield number, None, (f"the row has {len(cells)} values but the header has "
                                     f"{len(header)} columns")
                continue
            yield number, {name: value for name, value in zip(header, cells, strict=False)
                           if name and value != ""}, None

    return header, rows()


def header_names(cells: Iterable[Any]) -> list[str]:
    """Column names from a header row; duplicates are refused (which column would win?)."""
    names = ["" if c is None else str(c).strip() for c in cells]
    while names and not names[-1]:
        names.pop()
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            raise rejected("duplicate column", f'The header names the column "{name}" twice.')
        seen.add(name)
    if not seen:
        raise rejected("empty", "The header row has no column names.")
    return names


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Lines (with their endings) from a stream of byte chunks."""
    rest = b""
    for chunk in chunks:
        rest += chunk
        start = 0
        while (end := rest.find(b"\n", start)) >= 0:
            yield rest[start:end + 1]
            start = end + 1
        rest = rest[start:]
    if rest:
        yield rest


# ------------------------------------------------------------------ JSON
def iter_json_array(chunks: Iterable[bytes], complete: bool = True) -> Iterator[Any]:
    """Elements of a JSON array, decoded one at a time from byte chunks (UTF-8).

    With `complete=False` the input may stop early (a sample): elements are yielded while whole.
    """
    source = iter(chunks)
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    parser = json.JSONDecoder()
    buf, pos, eof = "", 0, False

    def more() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        chunk = next(source, None)
        if chunk is None:
            eof = True
            buf, pos = buf[pos:] + decoder.decode(b"", final=True), 0
            return bool(buf)
        try:
            buf, pos = buf[pos:] + decoder.decode(chunk), 0
        except UnicodeDecodeError as e:
            raise ValueError("not UTF-8 text") from e
        return True

    def peek() -> str | None:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            if pos < len(buf):
                return buf[pos]
            if not more():
                return None

    if peek() != "[":
        raise ValueError("it does not start with [")
    pos += 1
    if peek() == "]":
        return
    while True:
        while True:
            peek()
            try:
                value, end = parser.raw_decode(buf, pos)
                # A number at the very end of the buffer may continue in the next chunk.
                if end < len(buf) or eof:
                    break
            except RecursionError:  # nested deeper than the decoder's stack: refused, not a 500
                raise ValueError("an element is nested too deeply") from None
            except ValueError:
                pass
            if len(buf) - pos > MAX_ELEMENT_CHARS:
                raise ValueError("an element is too large or malformed")
            if not more():
                if not complete:
                    return
                raise ValueError("an element is malformed or the array is not closed")
        pos = end
        yield value
        following = peek()
        if following == ",":
            pos += 1
        elif following == "]" or (following is None and not complete):
            return
        else:
            raise ValueError("elements must be separated by commas")


def json_rows(chunks: Iterable[bytes]) -> tuple[list[str], Iterator[Row]]:
    """Data rows of a JSON array of objects (no header: each object names its fields)."""

    def rows() -> Iterator[Row]:
        number = 0
        try:
            for element in iter_json_array(chunks):
                number += 1
                if not isinstance(element, dict):
                    yield number, None, "the element is not a JSON object"
                    continue
                yield number, {str(k): v for k, v in element.items() if v not in (None, "")}, \
                    None
        except ValueError as e:
            yield number + 1, None, f"the file stops being valid JSON here: {e}"

    return [], rows()


# ------------------------------------------------------------------ XLSX
# Work is bounded by real content, never by what a workbook declares: a few KB of XML can
# declare a million empty rows, or inflate to gigabytes.
XLSX_MAX_UNCOMPRESSED = 200 * 1024 * 1024
XLSX_MAX_COLUMNS = 1000
XLSX_MAX_ROWS = 1_048_576
# The rows of a sheet end after this many empty ones in a row (gaps in real data are short).
XLSX_EMPTY_ROWS_END = 1000


def _xlsx_size_problem(whole: IO[bytes]) -> str | None:
    """Why the archive is refused by size (what it inflates to), or None."""
    whole.seek(0)
    try:
        with zipfile.ZipFile(whole) as archive:
            inflated = sum(i.file_size for i in archive.infolist())
    finally:
        whole.seek(0)
    if inflated > XLSX_MAX_UNCOMPRESSED:
        return (f"it inflates to {inflated} bytes, over the {XLSX_MAX_UNCOMPRESSED} "
                "this service reads")
    return None


def _bounded(worksheet: Any) -> Iterator[tuple[Any, ...]]:
    """A sheet's rows, up to its last real one: the declared size is checked and then ignored
    (openpyxl would pad every declared empty row), and a long run of empty rows ends it."""
    if (worksheet.max_column or 0) > XLSX_MAX_COLUMNS or (worksheet.max_row or 0) > XLSX_MAX_ROWS:
        raise rejected("too large", f"The sheet declares {worksheet.max_row} rows and "
                       f"{worksheet.max_column} columns; at most {XLSX_MAX_ROWS} rows and "
                       f"{XLSX_MAX_COLUMNS} columns are read.")
    worksheet.reset_dimensions()
    empty = 0
    for cells in worksheet.iter_rows(values_only=True, max_col=XLSX_MAX_COLUMNS):
        if all(c in (None, "") for c in cells):
            empty += 1
            if empty >= XLSX_EMPTY_ROWS_END:
                return
            continue
        empty = 0
        yield cells


def xlsx_sheets(path: str) -> list[str]:
    """The names of a workbook's sheets, in order."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def _sheet_refused(problem: str, message: str, sheets: list[str]) -> ValidationFailed:
    """The 422 for a sheet that cannot be read, with the workbook's sheets to choose from."""
    return ValidationFailed(message, details=[{"field": "sheet", "problem": problem,
                                               "choices": sheets}])


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def xlsx_rows(path: str, sheet: str | None) -> tuple[list[str], Iterator[Row]]:
    """The header and data rows of a worksheet (the first, or `sheet`), streamed by openpyxl."""
    from openpyxl import load_workbook

    with open(path, "rb") as whole:
        too_big = _xlsx_size_problem(whole)
    if too_big:
        raise rejected("too large", f"The workbook is refused: {too_big}.")
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        values = _bounded(worksheet)
        first = next(values, None)
    except KeyError:
        sheets = list(workbook.sheetnames)
        workbook.close()
        raise _sheet_refused("no such sheet", f'The workbook has no sheet "{sheet}"; its sheets '
                             f"are {_quoted(sheets)}.", sheets) from None
    except ValidationFailed as e:  # a sheet too large: the person may choose another
        sheets = list(workbook.sheetnames)
        workbook.close()
        raise _sheet_refused(e.details[0]["problem"] if e.details else "too large",
                             f"{e.message} The workbook's sheets are {_quoted(sheets)}.",
                             sheets) from None
    except BaseException:
        workbook.close()
        raise
    if first is None:
        workbook.close()
        raise rejected("empty", "The sheet has no header row.")
    header = header_names(first)

    def rows() -> Iterator[Row]:
        number = 0
        try:
            for cells in values:
                number += 1
                yield number, {name: _cell(value) for name, value in zip(header, cells,
                                                                         strict=False)
                               if name and value not in (None, "")}, None
        finally:
            workbook.close()

    return header, rows()


def _cell(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value
