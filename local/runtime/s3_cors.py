"""S3's answer to a browser's CORS preflight, from the bucket's CORS configuration.

moto checks a presigned URL's signed headers on the preflight `OPTIONS` too (which carries none
of them) and answers 403, and it merges every rule instead of using the first that matches; S3
never authenticates a preflight and answers it from the first matching rule, or 403.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Answer = tuple[int, dict[str, str], str]


@dataclass(frozen=True)
class Rule:
    """One CORSRule as S3 stores it."""

    methods: tuple[str, ...]
    origins: tuple[str, ...]
    headers: tuple[str, ...] = ()
    expose: tuple[str, ...] = ()
    max_age: int | None = None


def _wildcard(pattern: str, value: str, case_sensitive: bool) -> bool:
    # S3 allows one `*` in an AllowedOrigin or AllowedHeader.
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, 0 if case_sensitive else re.IGNORECASE) is not None


def _forbidden(message: str) -> Answer:
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessForbidden</Code>'
            f"<Message>CORSResponse: {message}</Message></Error>")
    return 403, {"Content-Type": "application/xml"}, body


def preflight(rules: Iterable[Rule], origin: str | None, method: str | None,
              requested_headers: str | None) -> Answer:
    """The answer to `OPTIONS` with these Origin and Access-Control-Request-* headers."""
    rules = list(rules)
    if not origin or not method:
        return (400, {"Content-Type": "application/xml"},
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>BadRequest</Code>'
                "<Message>Insufficient information. Origin request header needed.</Message>"
                "</Error>")
    if not rules:
        return _forbidden("CORS is not enabled for this bucket.")
    wanted = [h.strip() for h in (requested_headers or "").split(",") if h.strip()]
    for rule in rules:
        if (method in rule.methods
                and any(_wildcard(o, origin, True) for o in rule.origins)
                and all(any(_wildcard(a, h, False) for a in rule.headers) for h in wanted)):
            headers = {"Access-Control-Allow-Origin": "*" if rule.origins == ("*",) else origin,
                       "Access-Control-Allow-Methods": ", ".join(rule.methods),
                       "Vary": "Origin, Access-Control-Request-Headers, "
                               "Access-Control-Request-Method"}
            if wanted:
                headers["Access-Control-Allow-Headers"] = ", ".join(h.lower() for h in wanted)
            if rule.expose:
                headers["Access-Control-Expose-Headers"] = ", ".join(rule.expose)
            if rule.max_age is not None:
                headers["Access-Control-Max-Age"] = str(rule.max_age)
            return 200, headers, ""
    return _forbidden("This CORS request is not allowed. This is usually because the "
                      "evalution of Origin, request method / Access-Control-Request-Method or "
                      "Access-Control-Request-Headers are not whitelisted by the resource's "
                      "CORS spec.")


def _rules_of(bucket: Any) -> list[Rule]:
    return [Rule(methods=tuple(r.allowed_methods or ()), origins=tuple(r.allowed_origins or ()),
                 headers=tuple(r.allowed_headers or ()), expose=tuple(r.exposed_headers or ()),
                 max_age=int(r.max_age_seconds) if r.max_age_seconds is not None else None)
            for r in bucket.cors]


def install_moto_preflight() -> Callable[[], None]:
    """Answer moto's S3 `OPTIONS` as S3 does; returns a function that undoes the patch."""
    from moto.s3.exceptions import MissingBucket
    from moto.s3.responses import S3Response

    original = S3Response._response_options

    def _response_options(response: Any, headers: Any, bucket_name: str) -> Answer:
        try:
            rules = _rules_of(response.backend.get_bucket(bucket_name))
        except MissingBucket:
            return _forbidden("CORS is not enabled for this bucket.")
        return preflight(rules, headers.get("Origin"),
                         headers.get("Access-Control-Request-Method"),
                         headers.get("Access-Control-Request-Headers"))

    def _key_response(response: Any, request: Any, full_url: str) -> Any:
        # Before moto's presigned-URL signature check, which a preflight cannot pass.
        if request.method == "OPTIONS":
            return _response_options(response, request.headers,
                                     response.parse_bucket_name_from_url(request, full_url))
        return original_key(response, request, full_url)

    original_key = S3Response._key_response
    S3Response._response_options = _response_options
    S3Response._key_response = _key_response

    def undo() -> None:
        S3Response._response_options = original
        S3Response._key_response = original_key

    return undo
