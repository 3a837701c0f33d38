"""Reading a JSON object from bytes that came from outside (queue messages, webhook and API bodies).

One place decides how a bad body is described, so every entry point names the problem the same way.
"""

from __future__ import annotations

import json
from typing import Any

# What every JSON reader here says of nesting deeper than Python's parser can follow (tens of thousands of
# levels): the text is refused as invalid JSON, never left to crash as a RecursionError.
TOO_DEEP = "nested too deeply"


class NotAJsonObject(ValueError):
    """The bytes are not a JSON object; the message says why (not UTF-8, invalid JSON, another JSON type)."""


def json_object(body: bytes, what: str) -> dict[str, Any]:
    """Decode `body` as a JSON object; `what` names it in the error ("message body", "the body", ...)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotAJsonObject(f"{what} is not UTF-8 text (byte {error.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotAJsonObject(
            f"{what} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise NotAJsonObject(f"{what} is not valid JSON: {TOO_DEEP}") from None
    if not isinstance(data, dict):
        raise NotAJsonObject(f"{what} must be a JSON object, got {type(data).__name__}")
    return data
