"""HTTP answers of the app's own API (webhook receiver, submission, conversations) as plain values.

The request handlers in shared/ return a Reply and never touch azure.functions, so they are tested without a
host; function_app.py turns a Reply into an HttpResponse in one line. Every error body has one shape:
`{"error": {"code": ..., "message": ..., "field": ...}}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from shared.redact import redact_text
from shared.speech import AuthenticationError, SpeechError, ThrottledError
from shared.states import JobKind

JSON = "application/json"
TEXT = "text/plain"
STATUS_ROUTES = {JobKind.TRANSCRIPTION: "/api/transcriptions/", JobKind.CONVERSATION: "/api/conversations/"}


def status_url(kind: JobKind, job_id: str) -> str:
    """Where the API answers about a job (the Location of a 202)."""
    return STATUS_ROUTES[kind] + job_id


class ApiModel(BaseModel):
    """Response bodies: camelCase on the wire, nulls left out."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class ErrorDetail(ApiModel):
    code: str
    message: str
    field: str | None = None
    inner_code: str | None = None  # the service's detailed code, when a Speech rejection is passed on


class ErrorBody(ApiModel):
    error: ErrorDetail


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    content_type: str = JSON
    headers: Mapping[str, str] = field(default_factory=dict)


def json_reply(status: int, payload: ApiModel, headers: Mapping[str, str] | None = None) -> Reply:
    return Reply(status, payload.model_dump_json(by_alias=True, exclude_none=True), JSON, dict(headers or {}))


def error_reply(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    inner_code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    detail = ErrorDetail(code=code, message=message, field=field, inner_code=inner_code)
    return json_reply(status, ErrorBody(error=detail), headers)


def service_error_reply(error: SpeechError, secrets: Iterable[str | None] = ()) -> Reply:
    """A Speech rejection passed on to our caller: the service's status, codes and (redacted) message.

    Two statuses are not passed through, because they would blame the caller for our side: 401/403 (the
    Speech service refused *our* credentials) and 5xx or no answer at all become 502 Bad Gateway.
    """
    message = redact_text(error.message or str(error), secrets)
    code = error.code or type(error).__name__.removesuffix("Error")
    if isinstance(error, ThrottledError):
        headers = {"Retry-After": str(round(error.retry_after))} if error.retry_after else None
        return error_reply(429, code, message, inner_code=error.inner_code, headers=headers)
    if isinstance(error, AuthenticationError) or not 400 <= error.status < 500:
        return error_reply(502, code, f"the Speech service failed: {message}", inner_code=error.inner_code)
    return error_reply(error.status, code, message, inner_code=error.inner_code)
