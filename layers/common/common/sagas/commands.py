"""Commands of the sagas API whose input is more than a body or one id: a route's path, query
and header values and its body as one object."""

from __future__ import annotations

from dataclasses import dataclass

from common.sagas.schemas import StartSaga


@dataclass(frozen=True, kw_only=True)
class StartOnce:
    """POST /api/sagas: the body, and the `Idempotency-Key` that makes a retry start it once."""

    body: StartSaga
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class ListSagas:
    """GET /api/sagas."""

    workspace_id: str | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, kw_only=True)
class RevertSaga:
    """POST /api/sagas/{saga_id}/undo."""

    saga_id: str
    force: bool = False
