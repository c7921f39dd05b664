"""Tool failures as results: the model reads the API's sentence, never a protocol error."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from mcp_types import CallToolResult, TextContent

from common.core.errors import AppError
from common.core.http import database_outage
from common.core.observability import logger

Tool = TypeVar("Tool", bound=Callable[..., Any])


def failure(message: str, **extra: Any) -> CallToolResult:
    """An `isError` result whose text is `message` (then any details, as JSON)."""
    content = [TextContent(type="text", text=message)]
    if extra:
        content.append(TextContent(type="text", text=json.dumps(extra, default=str)))
    return CallToolResult(content=content, is_error=True)


def from_error(error: AppError) -> CallToolResult:
    """The HTTP API's error, as the tool result an agent reads."""
    extra: dict[str, Any] = {"code": error.code}
    if error.details:
        extra["details"] = error.details
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        extra["retry_after_seconds"] = retry_after
    return failure(error.message, **extra)


def tool_errors(tool: Tool) -> Tool:
    """Run `tool`, turning the app's errors (and crashes, without their text) into results."""
    @functools.wraps(tool)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return tool(*args, **kwargs)
        except AppError as e:
            return from_error(e)
        except Exception as e:
            outage = database_outage(e)
            if outage is not None:
                return from_error(outage)
            logger.exception("tool failed", extra={"tool": tool.__name__,
                                                    "error_type": type(e).__name__})
            return failure("An unexpected error occurred.", code="internal_error")

    return run  # type: ignore[return-value]
