"""Powertools Logger, Metrics and Tracer, configured once per function from the environment."""

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(utc=True)
metrics = Metrics()
tracer = Tracer()

Handler = TypeVar("Handler", bound=Callable[..., Any])


def traced(handler: Handler) -> Handler:
    """`handler` in an X-Ray subsegment that records neither its response nor its error.

    Responses carry access and refresh tokens, new API keys and record data, and errors carry
    what the request held: none of it belongs in traces.
    """
    return tracer.capture_lambda_handler(handler, capture_response=False,  # type: ignore[return-value]
                                         capture_error=False)
