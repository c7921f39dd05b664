"""The only way to get an Airtable client: pyairtable, with every request through the limiter."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import requests
from pyairtable import Api
from requests.adapters import HTTPAdapter

from common.airtable import ids
from common.airtable.errors import Unanswered, translate
from common.airtable.limiter import RateLimiter, Reservation, answer_by, token_key
from common.core import usage
from common.core.observability import trace_library
from common.core.settings import get_settings

# Pauses before a failed read is sent again.
READ_RETRY_DELAYS = (0.2, 0.5, 1.0)


class _LimitedAdapter(HTTPAdapter):
    """Takes the token's and the base's slots at the last moment before the request goes on the
    wire, and frees them when its answer (or failure) arrives."""

    def __init__(self, limiter: RateLimiter, token: str) -> None:
        super().__init__()
        self.limiter = limiter
        self.token_key = token_key(token)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        base_id = base_of(request.url or "")
        with self.limiter.slot(base_id, self.token_key):
            by = answer_by()
            if by is not None:
                # The answer must come before the caller's deadline: wait no longer than that.
                kwargs["timeout"] = _capped(kwargs.get("timeout"), max(by - time.time(), 0.5))
            usage.count_airtable_request(base_id)
            response = super().send(request, **kwargs)
            if base_id and response.status_code == 429:
                usage.count_airtable_429(base_id)
                self.limiter.lock_out(base_id)
        return response


class LimitedApi(Api):
    """pyairtable's Api whose every request waits for its base's slot in the shared limiter."""

    def __init__(self, token: str, limiter: RateLimiter) -> None:
        # No client-side retry on 429: the limiter keeps us under the limit, and a 429 means a
        # 30 s lock-out that retrying within seconds would only extend.
        super().__init__(token, endpoint_url=get_settings().airtable_endpoint_url,
                         timeout=(5, 25), retry_strategy=False)
        adapter = _LimitedAdapter(limiter, token)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.limiter = limiter
        self.token_key = adapter.token_key

    def reserved(self, base_id: str, requests: int, undo: int = 0,
                 workspace_id: str | None = None, finish_by: float | None = None,
                 wait_until: float | None = None) -> AbstractContextManager[Reservation]:
        """Book `requests` (+ `undo`) consecutive requests of the base for the work inside
        (`RateLimiter.reserved`), in the queues of the base and of this client's token."""
        return self.limiter.reserved(base_id, self.token_key, requests, undo, workspace_id,
                                     finish_by, wait_until)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        """Send through pyairtable, translating Airtable's errors into domain errors; a read
        that met a 5xx or a lost connection is sent again (reads change nothing)."""
        verb = method.upper()  # pyairtable's listings say "get"
        reading = verb == "GET" or (verb == "POST" and str(url).endswith("/listRecords"))
        for delay in (*(READ_RETRY_DELAYS if reading else ()), None):
            try:
                return super().request(method, url, *args, **kwargs)
            except requests.RequestException as e:
                error = translate(e)
                by = answer_by()
                if delay is None or not isinstance(error, Unanswered) or (
                        by is not None and time.time() + delay >= by):
                    raise error from e
            time.sleep(delay)
        raise AssertionError("unreachable")


def base_of(url: str) -> str | None:
    """The well-formed base id a request URL addresses (`/v0/{base}/...`,
    `/v0/meta/bases/{base}/...` or `/v0/bases/{base}/webhooks...`); a malformed one never gets
    a slot row."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    base = None
    if len(parts) >= 2 and parts[0] == "v0":
        if parts[1] in ("meta", "bases"):
            nested = parts[2:] if parts[1] == "bases" else parts[3:] if parts[2:3] == ["bases"] \
                else []
            base = nested[0] if nested else None
        else:
            base = parts[1]
    return base if ids.is_id("base", base) else None


def _capped(timeout: Any, seconds: float) -> tuple[float, float]:
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    return (min(connect or seconds, seconds), min(read or seconds, seconds))


@lru_cache(maxsize=1)
def shared_limiter() -> RateLimiter:
    """The limiter of this execution environment (its state lives in the database)."""
    settings = get_settings()
    return RateLimiter(rate=settings.airtable_rate_limit,
                       lockout_seconds=settings.airtable_lockout_seconds)


def airtable_api(token: str) -> LimitedApi:
    """The Airtable client for `token`, one per token and process: its requests.Session keeps
    connections to Airtable open between requests and invocations (no new TCP and TLS
    handshake per request, which would also delay a request past the slot it waited for)."""
    return _client_of(token, shared_limiter())


@lru_cache(maxsize=32)
def _client_of(token: str, limiter: RateLimiter) -> LimitedApi:
    trace_library("requests")
    return LimitedApi(token, limiter)
