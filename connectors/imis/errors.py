"""Typed errors. Messages name the request (method, path, filters, offset), never a password,
a token or a response body beyond iMIS's own short error message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ImisError(Exception):
    """Base class of everything the iMIS client raises."""


class ImisAuthError(ImisError):
    """`/token` refused the credentials, or a fresh token was still denied (401)."""


class ImisRequestError(ImisError):
    """A request failed; `status` is None when no HTTP response came back."""

    def __init__(
        self,
        reason: str,
        *,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        status: int | None = None,
        server_message: str | None = None,
    ):
        self.reason = reason
        self.method = method
        self.path = path
        self.params = dict(params or {})
        self.status = status
        self.server_message = server_message
        super().__init__(self._describe())

    @property
    def offset(self) -> int | None:
        """The paging offset reached when the request failed, if it was a paged read."""
        value = self.params.get("offset")
        return int(value) if value is not None else None

    def _describe(self) -> str:
        filters = ", ".join(
            f"{k}={v}" for k, v in self.params.items() if k not in ("limit", "offset")
        )
        parts = [f"{self.method} {self.path}: {self.reason}"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.server_message:
            parts.append(f"iMIS says: {self.server_message[:200]}")
        if filters:
            parts.append(f"filters: {filters}")
        if self.offset is not None:
            parts.append(f"offset {self.offset}")
        return "; ".join(parts)


class ImisResponseError(ImisRequestError):
    """iMIS answered with an error that retrying will not fix (400, 403, 404...)."""


class ImisRetriesExhausted(ImisRequestError):
    """5xx, 429, timeouts or malformed pages persisted through every retry."""


class ImisMalformedResponse(ImisRequestError):
    """A 200 whose body is not the JSON shape iMIS documents (e.g. a page cut off mid-stream)."""
