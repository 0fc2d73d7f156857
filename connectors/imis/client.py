"""`ImisClient`: token auth, retries, throttling and paged reads over an injected httpx client.

Retry policy (API.md 1.4-1.5, S18/S20 clients):
- 401: discard the token, fetch a new one, retry once (tokens die on app-pool restarts and when
  another token is issued for the same user);
- 429: retried for every method, waiting `Retry-After` when given (the request was refused,
  not processed);
- 5xx, timeouts, connection errors and malformed 200 bodies: retried for GET only. A POST may
  have been saved before the 500, so writes are never blindly repeated; write-back code checks
  for its own row first.
Retries back off exponentially with jitter, and after `max_retries` a typed error names the
request, its filters and the offset reached.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from .auth import TokenAuth
from .errors import (
    ImisAuthError,
    ImisMalformedResponse,
    ImisRequestError,
    ImisResponseError,
    ImisRetriesExhausted,
)
from .pagination import DEFAULT_PAGE_SIZE, Page, iterate_pages, parse_page

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_RETRY_AFTER_S = 120.0


class ImisClient:
    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        timeout: float = 30.0,
        max_retries: int = 5,
        min_interval_s: float = 0.0,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        token_url: str | None = None,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
    ):
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.max_retries = max_retries
        self.min_interval_s = min_interval_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(transport=transport, timeout=timeout)
        self._auth = TokenAuth(username, password, token_url or f"{self.base_url}/token")
        self._last_request = 0.0
        self._throttle_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ImisClient(base_url={self.base_url!r}, username={self._auth.username!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> ImisClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- endpoints ---------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def get_one(self, entity: str, *key: str) -> dict[str, Any]:
        """One object by id, or by composite key (`~ID|Ordinal`) when several parts are given."""
        ident = key[0] if len(key) == 1 else "~" + "|".join(key)
        return self.request("GET", f"/api/{entity}/{quote(ident, safe='~')}")

    def post(self, entity: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"/api/{entity}", json=body)

    def put(self, entity: str, key: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("PUT", f"/api/{entity}/{quote(key, safe='~')}", json=body)

    def iter_rows(
        self,
        entity: str,
        filters: Mapping[str, str] | None = None,
        *,
        order_by: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every row of `/api/{entity}` matching `filters`, page by page."""
        params = dict(filters or {})
        if order_by:
            params["OrderBy"] = order_by
        yield from self._iter_paged(f"/api/{entity}", params)

    def iter_query(
        self, query_name: str, filters: Mapping[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Rows of a saved IQA through `/api/query` (flat ExpandoObject rows)."""
        yield from self._iter_paged("/api/query", {"QueryName": query_name, **(filters or {})})

    def count(self, path: str, params: Mapping[str, Any] | None = None) -> int:
        """TotalCount of a list or query, read cheaply with limit=1."""
        return self.get_page(path, {**(params or {}), "limit": 1, "offset": 0}).total

    def get_page(self, path: str, params: Mapping[str, Any]) -> Page:
        return self.request("GET", path, params=params, parse=parse_page)

    def _iter_paged(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        def fetch(offset: int) -> Page:
            return self.get_page(path, {**params, "limit": self.page_size, "offset": offset})

        for page in iterate_pages(fetch):
            yield from page.items

    # -- the request loop --------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        parse: Callable[[Any], T] | None = None,
    ) -> Any:
        """Send one API request with auth and the retry policy; returns parsed JSON (or `parse(json)`)."""
        idempotent = method.upper() in ("GET", "HEAD")
        context = {"method": method.upper(), "path": path, "params": params}
        attempt, reauthenticated = 0, False
        while True:
            token = self._auth.token(self._post_token)
            self._throttle()
            started = time.monotonic()
            try:
                response = self._http.request(
                    method, self.base_url + path, params=params, json=json,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                )  # fmt: skip
            except httpx.TransportError as exc:
                reason = (
                    "timed out"
                    if isinstance(exc, httpx.TimeoutException)
                    else f"connection failed ({type(exc).__name__})"
                )
                if idempotent and attempt < self.max_retries:
                    attempt = self._backoff(attempt, reason, None)
                    continue
                error = ImisRetriesExhausted if idempotent else ImisRequestError
                raise error(f"{reason} after {attempt + 1} attempt(s)", **context) from None
            status = response.status_code
            log.debug(
                "iMIS %s %s -> %s in %.0f ms",
                method,
                path,
                status,
                1000 * (time.monotonic() - started),
            )
            if status == 401:
                if reauthenticated:
                    raise ImisAuthError(f"{method} {path}: still denied (401) with a fresh token")
                self._auth.invalidate(token)
                reauthenticated = True
                continue
            if status == 429 or (status >= 500 and idempotent):
                if attempt < self.max_retries:
                    attempt = self._backoff(
                        attempt, f"HTTP {status}", response.headers.get("Retry-After")
                    )
                    continue
                raise ImisRetriesExhausted(
                    f"gave up after {attempt + 1} attempts", status=status,
                    server_message=_server_message(response), **context,
                )  # fmt: skip
            if status >= 400:
                raise ImisResponseError(
                    "request rejected",
                    status=status,
                    server_message=_server_message(response),
                    **context,
                )
            if not response.content:
                return None
            try:
                body = response.json()
                return parse(body) if parse else body
            except ValueError as exc:
                if idempotent and attempt < self.max_retries:
                    attempt = self._backoff(attempt, "malformed body", None)
                    continue
                raise ImisMalformedResponse(
                    f"malformed response ({exc})", status=status, **context
                ) from None

    def _backoff(self, attempt: int, reason: str, retry_after: str | None) -> int:
        delay = _retry_after_seconds(retry_after)
        if delay is None:
            # Full jitter keeps several clients from retrying in lock-step.
            delay = min(self.max_backoff_s, self.backoff_s * 2**attempt) * random.uniform(0.5, 1.0)
        log.info("iMIS request %s; retry %d in %.2fs", reason, attempt + 1, delay)
        time.sleep(delay)
        return attempt + 1

    def _throttle(self) -> None:
        if self.min_interval_s <= 0:
            return
        with self._throttle_lock:
            wait = self._last_request + self.min_interval_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_request = time.monotonic()

    def _post_token(self, url: str, **kwargs: Any) -> httpx.Response:
        """POST /token, retrying server errors and lost connections (asking again is harmless)."""
        for attempt in range(self.max_retries + 1):
            try:
                response = self._http.post(url, **kwargs)
            except httpx.TransportError as exc:
                if attempt == self.max_retries:
                    raise ImisAuthError(f"token request failed: {type(exc).__name__}") from None
                self._backoff(attempt, "token request failed", None)
                continue
            if response.status_code < 500 and response.status_code != 429:
                return response
            if attempt < self.max_retries:
                self._backoff(
                    attempt,
                    f"token HTTP {response.status_code}",
                    response.headers.get("Retry-After"),
                )
        return response


def _retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` in seconds or as an HTTP date (RFC 9110)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _server_message(response: httpx.Response) -> str | None:
    """iMIS's own short error text: `Message`, `Errors.$values[].Message` or OAuth's description."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    errors = (
        (body.get("Errors") or {}).get("$values") if isinstance(body.get("Errors"), dict) else None
    )
    if errors:
        return "; ".join(str(e.get("Message", "")) for e in errors if isinstance(e, dict))
    return body.get("Message") or body.get("error_description")
