"""A connection as the Airtable calls use it: its cache scope, workspace, role and client."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pyairtable loads only when Airtable is really called (not on cache hits)
    from common.airtable.client import LimitedApi


class Access:
    """The cache scope of a connection, and a client built only when Airtable must be called."""

    def __init__(self, scope: str, token: Callable[[], str], workspace_id: str | None = None,
                 role: str | None = None) -> None:
        self.scope = scope
        self._token = token
        self.workspace_id = workspace_id
        self.role = role

    @cached_property
    def api(self) -> LimitedApi:
        """The client; a cache hit never decrypts the token or builds it."""
        # Imported here: the Airtable client imports pyairtable (about 200 ms of a cold start),
        # which only a request that calls Airtable should pay (`make bench ONLY=coldstart`).
        from common.airtable.client import airtable_api

        return airtable_api(self._token())
