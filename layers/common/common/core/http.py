"""The resolver factory and the one error map that turns every failure into API.md's envelope."""

from __future__ import annotations

import json
import operator
import re
import sys
from http import HTTPStatus
from itertools import accumulate, count
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.metrics import MetricUnit

from common.core.db import is_outage
from common.core.errors import AppError, ServiceUnavailable, ValidationFailed
from common.core.observability import logger, metrics

JSON = "application/json"
# JSON nested deeper than this is refused before anything parses it (API.md, Limits).
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_NESTING = re.compile(r"[^\[\]{}]+")
# Openers count 2 and closers 0, so the depth after n brackets is their running sum minus n.
_NESTING_WEIGHTS = bytes.maketrans(b"[]{}", b"\x02\x00\x02\x00")
# A JSON string's \u0000 escape (an odd run of backslashes before it): PostgreSQL's text and
# jsonb cannot hold the NUL character, so it would fail deep inside a route as a 500.
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
# Seconds a client should wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER = 5


def create_app(service: str) -> APIGatewayHttpResolver:
    """An HTTP API resolver with validation, OpenAPI, request ids and the error map installed."""
    app = APIGatewayHttpResolver(enable_validation=True)
    # Powertools runs its request validation (which parses the body) before any middleware of
    # ours: the nesting limit has to come first inside it.
    app._request_validation_middleware = _NestingLimitedValidation()
    app.use([_request_id_header])
    _install_error_map(app, service)
    return app


def request_id(app: APIGatewayHttpResolver) -> str:
    """API Gateway's request id of the request being handled."""
    try:
        return app.current_event.request_context.request_id or ""
    except (AttributeError, KeyError, TypeError):
        return ""


def error_response(app: APIGatewayHttpResolver, status: int, code: str, message: str,
                   details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """A response carrying the error envelope."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    error["request_id"] = request_id(app)
    # An exception handler's response skips the middlewares, so it carries the id itself.
    return Response(status_code=status, content_type=JSON, body=json.dumps({"error": error}),
                    headers={**(headers or {}), "X-Request-Id": error["request_id"]})


def validation_details(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Pydantic/Powertools error dicts reshaped as `{field, problem}` (location prefix dropped)."""
    details = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        if loc and loc[0] in {"body", "query", "path", "header", "cookie"}:
            loc = loc[1:]
        problem = str(err.get("msg", "invalid"))
        details.append({"field": ".".join(loc) or "body", "problem": problem})
    return details


def _install_error_map(app: APIGatewayHttpResolver, service: str) -> None:
    @app.exception_handler(AppError)
    def _app_error(exc: AppError) -> Response:
        return error_response(app, exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(exc: RequestValidationError) -> Response:
        details = validation_details(list(exc.errors()))
        return error_response(app, 422, "validation_error", "The request is not valid.", details)

    @app.not_found
    def _no_route(_exc: NotFoundError) -> Response:
        event = app.current_event
        return error_response(app, 404, "not_found",
                              f"No route matches {event.http_method} {event.path}.")

    @app.exception_handler(RequestUnsupportedContentType)
    def _not_json(_exc: RequestUnsupportedContentType) -> Response:
        return error_response(app, 422, "validation_error", "The body must be JSON.",
                              [{"field": "Content-Type", "problem": "must be application/json"}])

    @app.exception_handler(ServiceError)
    def _service_error(exc: ServiceError) -> Response:
        status = HTTPStatus(exc.status_code)
        code = "_".join(status.phrase.lower().split())
        return error_response(app, exc.status_code, code, exc.msg)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        outage = database_outage(exc)
        if outage is not None:
            logger.warning("database unavailable", extra={"error_type": type(exc).__name__})
            return _app_error(outage)
        # The stack trace goes to the log, never to the caller.
        logger.exception("unhandled error", extra={"error_type": type(exc).__name__})
        return error_response(app, 500, "internal_error", "An unexpected error occurred.")


def database_outage(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 for an error saying the database cannot be reached (or is overloaded), else None.

    The one place SQLAlchemy's connection errors become a domain error, wherever they arose
    (unit of work, limiter, engine creation).
    """
    sa = sys.modules.get("sqlalchemy.exc")  # only functions that use the database load it
    if sa is None:
        return None

    if is_outage(exc):
        return ServiceUnavailable("The database is unavailable; retry shortly.",
                                  retry_after=DATABASE_RETRY_AFTER)
    return None


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in a JSON text (strings skipped), without recursion."""
    # C-level iteration throughout: a 10 MB body takes about a second in the worst case.
    weights = _NOT_NESTING.sub("", _JSON_STRING.sub("", text)).encode().translate(
        _NESTING_WEIGHTS)
    return max(map(operator.sub, accumulate(weights), count(1)), default=0)


def nul_location(event: Any) -> str | None:
    """The query or path parameter, or `body`, that holds a NUL character, if any does."""
    for values in (event.query_string_parameters, event.path_parameters):
        for name, value in (values or {}).items():
            if "\x00" in str(value):
                return str(name)
    body = event.body
    if isinstance(body, str) and not event.is_base64_encoded and \
            ("\x00" in body or ("\\u0000" in body and _NUL_ESCAPE.search(body))):
        return "body"
    return None


class _NestingLimitedValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, behind the nesting limit (Python's parser and pydantic
    recurse per level, so a deep document would be a 500) and the NUL refusal."""

    def handler(self, app: Any, next_middleware: NextMiddleware) -> Response:
        holding_nul = nul_location(app.current_event)
        if holding_nul:
            raise ValidationFailed("Text may not contain the NUL character (U+0000).",
                                   details=[{"field": holding_nul, "problem": "contains NUL"}])
        body = app.current_event.body
        if body and isinstance(body, str) and \
                body.count("[") + body.count("{") > MAX_JSON_DEPTH and \
                json_depth(body) > MAX_JSON_DEPTH:
            raise ValidationFailed(f"JSON may nest at most {MAX_JSON_DEPTH} levels deep.",
                                   details=[{"field": "body",
                                             "problem": f"nested deeper than {MAX_JSON_DEPTH}"}])
        return super().handler(app, next_middleware)

    def _get_body(self, app: Any) -> Any:
        try:
            return super()._get_body(app)
        except ValueError as e:  # e.g. multipart/form-data without a boundary
            raise ValidationFailed("The body does not match its Content-Type.", details=[
                {"field": "Content-Type", "problem": str(e)[:200]}]) from e


def _request_id_header(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
    response = next_middleware(app)
    if response.status_code == HTTPStatus.NO_CONTENT:
        # A route declared `status_code=204` returns None, which would be serialised as `null`.
        response.body = ""
    response.headers["X-Request-Id"] = request_id(app)
    # One count per request and per status class: the dashboards' error rate needs nothing more.
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=f"Responses{response.status_code // 100}xx", unit=MetricUnit.Count,
                       value=1)
    return response


def json_body(app: APIGatewayHttpResolver) -> Any:
    """The request's JSON body, or a 422 when it is not JSON."""
    try:
        return app.current_event.json_body
    except (ValueError, TypeError) as e:
        raise ValidationFailed("The body is not valid JSON.",
                               details=[{"field": "body", "problem": "invalid JSON"}]) from e

