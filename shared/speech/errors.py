"""Typed Speech errors and the pure mapping from an HTTP error response to one of them.

Callers decide by type (shared.failures.classify): NotFoundError means "gone", ThrottledError/ServiceError/
SpeechTransportError are transient, AuthenticationError and InvalidRequestError need a human. Every message is built
from redacted text: exceptions end up in logs and ledger rows.
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from shared.redact import redact_text
from shared.speech.wire import WireModel

# Headers that carry the service's request id (APIM first), quoted in support tickets.
_REQUEST_ID_HEADERS = ("apim-request-id", "x-ms-request-id", "x-request-id")
_MAX_MESSAGE = 500


class InnerError(WireModel):
    """The `DetailedErrorCode` level; nests further. `details` is a map in the spec, null in practice."""

    code: str | None = None
    message: str | None = None
    target: str | None = None
    details: Any = None
    inner_error: "InnerError | None" = None


class ErrorBody(WireModel):
    """The body of every non-2xx answer: {code, message, target, details, innerError}, nulls allowed."""

    code: str | None = None
    message: str | None = None
    target: str | None = None
    details: list["ErrorBody"] | None = None
    inner_error: InnerError | None = None


class SpeechError(Exception):
    """A Speech API call failed. `status` is the HTTP status (0 when no usable response was received)."""

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        inner_code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(status, code, message, inner_code, request_id)
        self.status = status
        self.code = code
        self.message = message
        self.inner_code = inner_code
        self.request_id = request_id

    def __str__(self) -> str:
        codes = "/".join(c for c in (self.code, self.inner_code) if c)
        head = " ".join(part for part in (f"HTTP {self.status}" if self.status else "", codes) if part)
        tail = f" (request id {self.request_id})" if self.request_id else ""
        return f"{head}: {self.message}{tail}" if head else f"{self.message}{tail}"


class NotFoundError(SpeechError):
    """404: the entity does not exist (never did, was deleted, or its time to live ran out)."""


class AuthenticationError(SpeechError):
    """401/403: wrong key, token or region, or the identity lacks a role."""


class ThrottledError(SpeechError):
    """429 after retries; `retry_after` (seconds) is the service's hint, when it gave one."""

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        inner_code: str | None = None,
        request_id: str | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, code, message, inner_code, request_id)
        self.retry_after = retry_after


class ServiceError(SpeechError):
    """5xx (or 408) after retries: the service failed; trying later may succeed."""


class InvalidRequestError(SpeechError):
    """Any other 4xx: the request itself is wrong and retrying it cannot help."""


class UnexpectedResponseError(SpeechError):
    """A 2xx answer whose JSON is not what the API documents: a bug somewhere, not weather."""

    def __init__(self, message: str) -> None:
        super().__init__(0, None, message)


class SpeechTransportError(SpeechError):
    """No usable response after retries: connection failures, timeouts, truncated or unreadable bodies."""

    def __init__(self, message: str) -> None:
        super().__init__(0, None, message)


def error_class(status: int, code: str | None) -> type[SpeechError]:
    """Which exception a status (and, failing that, an error code) means."""
    by_code = {
        "NotFound": NotFoundError,
        "Unauthorized": AuthenticationError,
        "Forbidden": AuthenticationError,
    }
    if status == 404:
        return NotFoundError
    if status in (401, 403):
        return AuthenticationError
    if status == 429 or code == "TooManyRequests":
        return ThrottledError
    if status == 408 or status >= 500:
        return ServiceError
    if 400 <= status < 500:
        return by_code.get(code or "", InvalidRequestError)
    return SpeechError


def parse_error_body(content: bytes) -> ErrorBody | None:
    """The error model from a body, also accepting the `{"error": {...}}` envelope other Azure APIs use."""
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict) and "code" not in data and isinstance(data.get("error"), dict):
        data = data["error"]
    try:
        return ErrorBody.model_validate(data) if isinstance(data, dict) else None
    except ValidationError:
        return None


def request_id(headers: Mapping[str, str]) -> str | None:
    lowered = {name.lower(): value for name, value in headers.items()}
    return next((lowered[name] for name in _REQUEST_ID_HEADERS if name in lowered), None)


def error_from_response(
    status: int,
    content: bytes,
    headers: Mapping[str, str],
    *,
    secrets: Iterable[str | None] = (),
    retry_after: float | None = None,
) -> SpeechError:
    """The typed error for a non-2xx response; its message is cleared of `secrets`, SAS signatures, tokens."""
    body = parse_error_body(content)
    if body is not None and (body.code or body.message):
        text = body.message or ""
    else:
        text = content.decode("utf-8", errors="replace").strip() or "(empty body)"
    # Redact before cutting: a cut secret would no longer match and half of it would leak.
    message = redact_text(text, secrets)[:_MAX_MESSAGE]
    code = body.code if body else None
    inner_code = body.inner_error.code if body and body.inner_error else None
    cls = error_class(status, code)
    rid = request_id(headers)
    if cls is ThrottledError:
        return ThrottledError(status, code, message, inner_code, rid, retry_after=retry_after)
    return cls(status, code, message, inner_code, rid)
