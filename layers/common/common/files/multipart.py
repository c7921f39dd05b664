"""`multipart/form-data` bodies (RFC 7578), split exactly on their boundary."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

from common.core.errors import ValidationFailed


@dataclass
class Part:
    """One form field: its name, and for a file its filename and media type."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None


def _invalid(problem: str) -> ValidationFailed:
    return ValidationFailed("The body is not valid multipart/form-data.",
                            details=[{"field": "body", "problem": problem}])


def parse(content_type: str, body: bytes) -> list[Part]:
    """The parts of a multipart body; anything malformed is a 422."""
    header = EmailMessage()
    header["Content-Type"] = content_type
    if header.get_content_type() != "multipart/form-data":
        raise _invalid("Content-Type must be multipart/form-data")
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise _invalid("no boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    sections = body.split(b"\r\n" + delimiter)
    first = sections[0]
    if not first.startswith(delimiter):
        raise _invalid("the body does not start with the boundary")
    sections[0] = first[len(delimiter):]
    parts = []
    for section in sections:
        if section.startswith(b"--"):
            break  # the closing delimiter
        head, separator, data = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise _invalid("a part has no header")
        parts.append(_part(head.decode("utf-8", "replace"), data))
    return parts


def _part(head: str, data: bytes) -> Part:
    headers = EmailMessage()
    for line in head.split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip()] = value.strip()
    name = headers.get_param("name", header="content-disposition")
    if not isinstance(name, str):
        raise _invalid("a part has no name")
    filename = headers.get_param("filename", header="content-disposition")
    return Part(name=name, data=data, filename=filename if isinstance(filename, str) else None,
                content_type=headers.get_content_type() if "content-type" in headers else None)
