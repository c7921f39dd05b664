"""Per-environment work done at init, as Lambda advises, instead of in the first request."""

from __future__ import annotations

import os
from collections.abc import Callable

from common.core.observability import logger


def prepare(*steps: Callable[[], object]) -> None:
    """Run each step in a Lambda environment; one that fails is left to the first request.

    Steps must not open connections: a dependency down at init must not hold up the
    environment's start (the first request then answers 503, as it would anyway).
    """
    if "AWS_LAMBDA_FUNCTION_NAME" not in os.environ:  # imported by a test or a tool
        return
    for step in steps:
        try:
            step()
        except Exception as e:  # the request that needs it tries again and reports it
            logger.warning("not prepared at init", extra={"step": step.__qualname__,
                                                          "error": type(e).__name__})
