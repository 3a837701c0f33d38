"""The function key that FUNCTION- and ADMIN-level HTTP functions require.

In Azure, keys live in the host's key store; locally there is one key, taken from the app setting
LOCAL_HOST_FUNCTION_KEY (so tests and scripts know it) or generated at start and printed once, for local
development only. It is accepted as the `code` query parameter or the `x-functions-key` header.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

KEY_SETTING = "LOCAL_HOST_FUNCTION_KEY"
KEY_HEADER = "x-functions-key"
KEY_PARAMETER = "code"


@dataclass(frozen=True)
class FunctionKey:
    value: str
    generated: bool


def resolve_key(settings: Mapping[str, str]) -> FunctionKey:
    configured = settings.get(KEY_SETTING, "").strip()
    if configured:
        return FunctionKey(configured, generated=False)
    return FunctionKey(secrets.token_urlsafe(32), generated=True)


def presented_key(query: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
    """The key a request carries: the header wins over the query parameter, as in the host."""
    return headers.get(KEY_HEADER) or query.get(KEY_PARAMETER)


def authorised(presented: str | None, key: FunctionKey) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), key.value.encode())
