"""What a route needs besides its input, injected by Powertools `Depends`: caller, unit of work.

A route reads `def route(body: SomeIn, caller: Caller, uow: Uow) -> SomeOut` and calls one
service function `fn(cmd, uow, identity)`. The unit of work arrives unopened: the service opens
it (`with uow:`) as often as its transactions need and commits where it says so.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Request

from common.core.db import UnitOfWork
from common.core.errors import Forbidden
from common.core.identity import Identity, event_identity


def caller(request: Request) -> Identity:
    """The authorizer's caller; a route reached without one is refused (defence in depth)."""
    return event_identity(request.resolved_event.raw_event)


def admin(request: Request) -> Identity:
    """The caller, who must be an admin."""
    identity = caller(request)
    if not identity.is_admin:
        raise Forbidden("This route is for administrators.")
    return identity


def unit_of_work() -> UnitOfWork:
    """A fresh, unopened unit of work for the request."""
    return UnitOfWork()


def read_unit_of_work() -> UnitOfWork:
    """A read-only unit of work (autocommit reader, no transaction round trips)."""
    return UnitOfWork(read_only=True)


Caller = Annotated[Identity, Depends(caller)]
Admin = Annotated[Identity, Depends(admin)]
Uow = Annotated[UnitOfWork, Depends(unit_of_work)]
ReadUow = Annotated[UnitOfWork, Depends(read_unit_of_work)]
