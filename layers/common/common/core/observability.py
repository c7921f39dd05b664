"""Powertools Logger, Metrics and Tracer, configured once per function from the environment.

The Tracer is built on first use, not at import: building it loads the X-Ray SDK, which only a
function that traces should pay. The authorizer never traces; a `traced` handler builds it at
its first invocation, and only when tracing is on. Libraries are patched for X-Ray one by one,
when the code first uses them (`trace_library`): Powertools' default patches every supported
library at once, which imports botocore, requests and the database drivers into a first request
that needs none of them (280 ms of a cold start, `make bench ONLY=cold`).
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, wraps
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

# The template's namespace; the default keeps a process without the variable (a test, a
# script) from failing every flush with "Must contain a metric namespace".
NAMESPACE = "PyAirtable"

logger = Logger(utc=True)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE))

Handler = TypeVar("Handler", bound=Callable[..., Any])


@contextmanager
def own_line(name: str, value: float, dimensions: dict[str, str] | None = None) -> Iterator[None]:
    """A count on its own EMF line, in the functions' namespace with their default dimensions.

    Its own line because the invocation's line has one dimension set for all its metrics; the
    namespace is the shared Metrics object's, so no second place reads it from the environment.
    """
    with single_metric(name=name, unit=MetricUnit.Count, value=value,
                       namespace=metrics.namespace,
                       default_dimensions=metrics.default_dimensions) as metric:
        for key, dimension in (dimensions or {}).items():
            metric.add_dimension(name=key, value=dimension)
        yield


@cache
def get_tracer() -> "Tracer":
    """The function's Tracer (one per process, as Powertools expects)."""
    from aws_lambda_powertools import Tracer

    return Tracer(auto_patch=False)


_patched: set[str] = set()


def trace_library(name: str) -> None:
    """Patch `name` (an X-Ray SDK module name: botocore, requests, pg8000...) for tracing, once
    per process and only when tracing is on; call it before the library's first use."""
    if name in _patched or not tracing_on():
        return
    _patched.add(name)
    get_tracer().patch([name])


def tracing_on() -> bool:
    """Powertools' own rule: in Lambda (LAMBDA_TASK_ROOT), unless POWERTOOLS_TRACE_DISABLED is
    true or the process runs under `sam local`/Chalice."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower()
    if disabled in ("1", "true", "yes", "on", "y", "t"):
        return False
    if os.environ.get("AWS_SAM_LOCAL") or os.environ.get("AWS_CHALICE_CLI_MODE"):
        return False
    return bool(os.environ.get("LAMBDA_TASK_ROOT"))


def __getattr__(name: str) -> Any:
    # `from common.core.observability import tracer` still works, and builds the Tracer there.
    if name == "tracer":
        return get_tracer()
    raise AttributeError(name)


def traced(handler: Handler) -> Handler:
    """`handler` in an X-Ray subsegment that records neither its response nor its error.

    Responses carry access and refresh tokens, new API keys and record data, and errors carry
    what the request held: none of it belongs in traces. Whether to trace is decided at the
    first invocation (the Tracer is built then, if tracing is on).
    """
    chosen: list[Callable[..., Any]] = []

    @wraps(handler)
    def lambda_handler(event: Any, context: Any) -> Any:
        if not chosen:
            chosen.append(get_tracer().capture_lambda_handler(
                handler, capture_response=False, capture_error=False) if tracing_on()
                else handler)
        return chosen[0](event, context)

    return lambda_handler  # type: ignore[return-value]
