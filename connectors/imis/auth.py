"""Bearer-token authentication: one cached token per client, refreshed before it expires.

iMIS expires a user's previous token whenever a new one is requested for that user (API.md
1.2), so parallel token requests would knock each other out: a lock makes sure only one
request for a token is ever in flight, and a 401 only discards the token that failed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from .errors import ImisAuthError

# Refresh this long before expiry, capped at a tenth of the lifetime for short-lived tokens.
REFRESH_MARGIN_S = 30.0


class TokenAuth:
    def __init__(self, username: str, password: str, token_url: str):
        self.username = username
        self._password = password
        self.token_url = token_url
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the password or the token
        return f"TokenAuth(username={self.username!r}, token_url={self.token_url!r})"

    def token(self, post: Callable[..., httpx.Response]) -> str:
        """The current token, fetching a new one when there is none or it is about to expire."""
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._fetch(post)
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget `token` after a 401, unless another thread has already replaced it."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self, post: Callable[..., httpx.Response]) -> None:
        response = post(
            self.token_url,
            data={"grant_type": "password", "username": self.username, "password": self._password},
            headers={"Accept": "application/json"},
        )
        if response.status_code == 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise ImisAuthError(
                f"iMIS refused the token request for user {self.username!r}: "
                f"{body.get('error', 'HTTP 400')} ({body.get('error_description', 'no description')})"
            )
        if response.status_code != 200:
            raise ImisAuthError(
                f"token request for user {self.username!r} failed: HTTP {response.status_code}"
            )
        try:
            body = response.json()
            token, lifetime = body["access_token"], float(body.get("expires_in", 1799))
        except (ValueError, KeyError, TypeError):
            raise ImisAuthError("token response has no access_token") from None
        self._token = token
        self._expires_at = time.monotonic() + lifetime - min(REFRESH_MARGIN_S, lifetime / 10)
