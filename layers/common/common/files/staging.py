"""An import's rows, mapped to fields and staged as JSON lines, read back one chunk at a time.

Staging turns every source format into one shape once (one pass, streamed), and records the
byte offset where each chunk starts, so a chunk task reads exactly its rows with one ranged
GET: nothing is re-parsed from the start of the file, and memory stays flat at any size.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from common.files.formats import Row, split_lines


def map_fields(values: dict[str, Any], mapping: dict[str, str] | None) -> dict[str, Any]:
    """Column -> field: the mapped columns only, or every column under its own name."""
    if mapping is None:
        return values
    return {mapping[column]: value for column, value in values.items() if column in mapping}


def stage(rows: Iterable[Row], mapping: dict[str, str] | None, out: IO[bytes],
          chunk_rows: int) -> tuple[int, list[int]]:
    """Write `[number, fields, error]` lines; returns the row count and each chunk's offset."""
    count, offsets = 0, []
    for number, values, error in rows:
        if count % chunk_rows == 0:
            offsets.append(out.tell())
        count += 1
        fields = map_fields(values, mapping) if values is not None else None
        if error is None and not fields:
            error = "the row has no values for the mapped fields"
        line = json.dumps([number, None if error else fields, error], separators=(",", ":"),
                          default=str)
        out.write(line.encode() + b"\n")
    return count, offsets


def chunk_range(offsets: list[int], index: int) -> tuple[int, int | None]:
    """The byte range `[start, end)` of chunk `index` (end None: to the end of the object)."""
    end = offsets[index + 1] if index + 1 < len(offsets) else None
    return offsets[index], end


def read_chunk(fetch: Callable[[int, int | None], Iterable[bytes]], offsets: list[int],
               index: int) -> Iterator[Row]:
    """The rows of chunk `index`, fetching only its bytes (`fetch(start, end)` -> chunks)."""
    start, end = chunk_range(offsets, index)
    for line in split_lines(fetch(start, end)):
        if line.strip():
            number, fields, error = json.loads(line)
            yield number, fields, error
