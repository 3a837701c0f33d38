"""How requests authenticate: a resource key, or an Entra token from an azure-identity credential.

Headers are produced per attempt, not per call, so a retry after a long wait never sends an expired token.
"""

import threading
import time
from collections.abc import Callable
from typing import Protocol

from azure.core.credentials import AccessToken, TokenCredential

COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
# Refresh this long before expiry: a token must still be valid when a slow request reaches the service.
_REFRESH_MARGIN_SECONDS = 300


class Auth(Protocol):
    def headers(self) -> dict[str, str]:
        """The headers that authenticate one request."""
        ...

    def secrets(self) -> list[str]:
        """The values that must never appear in a message."""
        ...


class KeyAuth:
    def __init__(self, key: str) -> None:
        self._key = key

    def headers(self) -> dict[str, str]:
        return {KEY_HEADER: self._key}

    def secrets(self) -> list[str]:
        return [self._key]


def token_is_fresh(token: AccessToken | None, now: float) -> bool:
    """Whether a cached token may still be sent (`expires_on` is in epoch seconds)."""
    return token is not None and token.expires_on - _REFRESH_MARGIN_SECONDS > now


class TokenAuth:
    """`Authorization: Bearer`, one token cached per client until five minutes before it expires."""

    def __init__(
        self,
        credential: TokenCredential,
        scope: str = COGNITIVE_SERVICES_SCOPE,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credential = credential
        self._scope = scope
        self._clock = clock
        self._token: AccessToken | None = None
        self._lock = threading.Lock()

    def _current(self) -> str:
        with self._lock:
            token = self._token
            if token is None or not token_is_fresh(token, self._clock()):
                token = self._token = self._credential.get_token(self._scope)
            return token.token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._current()}"}

    def secrets(self) -> list[str]:
        return [self._token.token] if self._token else []


def make_auth(key: str | None, credential: TokenCredential | None) -> Auth:
    """Key wins when both are given (it is the explicit choice); one of them is required."""
    if key:
        return KeyAuth(key)
    if credential is not None:
        return TokenAuth(credential)
    raise ValueError("a Speech client needs a key or a TokenCredential (e.g. DefaultAzureCredential)")
