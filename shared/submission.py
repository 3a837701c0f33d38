"""The submission API: `POST /api/transcriptions` creates a job, `GET /api/transcriptions/{id}` reports on it.

Callers send one request shape whatever API version the app is configured for; the body sent to the service
is built by TranscriptionDefinition.for_version, which knows how each version spells the time to live and
diarization. A submitted job is tracked in the ledger at once, so DISCOVERY=tracked follows it and its status
is answered from the ledger without a Speech call.

Parsing and shaping are pure (`parse_submission`, `definition_for`, `status_view`); `submit` and `job_status`
do the I/O.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from shared import layout, logs, telemetry
from shared.destination import Destination
from shared.jsonbody import NotAJsonObject, json_object
from shared.ledger import Ledger
from shared.observations import observation_of
from shared.queueing import HarvestQueue, RequestReason
from shared.records import decide_and_save
from shared.replies import ApiModel, Reply, error_reply, json_reply, service_error_reply, status_url
from shared.speech import (
    ApiVersion,
    LanguageIdentification,
    SpeechClient,
    SpeechError,
    Transcription,
    TranscriptionDefinition,
    UnexpectedResponseError,
)
from shared.speech.definitions import DEFAULT_TTL_HOURS, MAX_CONTENT_URLS, MAX_SPEAKERS, MAX_TTL_HOURS
from shared.states import JobKind, JobRecord, LedgerState, submitted

# Diarization asked for without a speaker count: the two-speaker case, as the service's basic diarization.
DEFAULT_MAX_SPEAKERS = 2
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        # The value is not quoted back: it may carry a SAS.
        raise ValueError("must be an absolute http(s) URL")
    return value


def _locale(value: str) -> str:
    if not _LOCALE.match(value):
        raise ValueError("must be a locale such as en-US")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


class _Request(BaseModel):
    """Request bodies: camelCase names only, and an unknown name is an error (a typo must not be ignored)."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, validate_by_name=False, validate_by_alias=True, frozen=True
    )


class DiarizationRequest(_Request):
    enabled: bool | None = None
    max_speakers: int | None = Field(default=None, ge=1, le=MAX_SPEAKERS)


class LanguageIdentificationRequest(_Request):
    candidate_locales: list[Annotated[str, AfterValidator(_locale)]] = Field(min_length=1, max_length=10)
    mode: Literal["Continuous", "Single"] | None = None


class SubmissionProperties(_Request):
    word_level_timestamps_enabled: bool | None = None
    display_form_word_level_timestamps_enabled: bool | None = None
    channels: list[Annotated[int, Field(ge=0, le=1)]] | None = None
    punctuation_mode: Literal["None", "Dictated", "Automatic", "DictatedAndAutomatic"] | None = None
    profanity_filter_mode: Literal["None", "Removed", "Tags", "Masked"] | None = None
    diarization: DiarizationRequest | None = None
    language_identification: LanguageIdentificationRequest | None = None
    time_to_live_hours: int | None = Field(default=None, ge=1, le=MAX_TTL_HOURS)
    destination_container_url: HttpUrl | None = None


class SubmissionRequest(_Request):
    """The body of POST /api/transcriptions: exactly one of contentUrls and contentContainerUrl."""

    content_urls: list[HttpUrl] | None = Field(default=None, min_length=1, max_length=MAX_CONTENT_URLS)
    content_container_url: HttpUrl | None = None
    locale: Annotated[str, AfterValidator(_locale)]
    display_name: str = Field(min_length=1, max_length=500)
    properties: SubmissionProperties | None = None


class Submitted(ApiModel):
    id: str
    status: str
    status_url: str
    tracked: bool = True


class JobStatus(ApiModel):
    """GET /api/transcriptions/{id} (and /api/conversations/{id}): the ledger's view of one job."""

    id: str
    kind: str
    state: str
    service_status: str
    tracked: bool
    display_name: str | None = None
    locale: str | None = None
    created: datetime | None = None
    last_action: datetime | None = None
    first_seen: datetime
    queued_at: datetime | None = None
    harvested_at: datetime | None = None
    last_checked: datetime | None = None
    detail: str | None = None
    manifest_url: str | None = None


class InvalidSubmission(ValueError):
    """The request cannot be submitted; `field` names the offending field in the caller's terms."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def reply(self) -> Reply:
        return error_reply(400, "InvalidRequest", self.message, field=self.field)


def _field_path(location: Iterable[int | str]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _problem(item: ErrorDetails) -> str:
    if item["type"] == "extra_forbidden":
        return "is not a known field"
    if item["type"] == "missing":
        return "is required"
    return str(item["msg"]).removeprefix("Value error, ")


def parse_submission(body: bytes) -> SubmissionRequest:
    """The validated request, or InvalidSubmission naming the first bad field (all problems in the message)."""
    try:
        data = json_object(body, "the body")
    except NotAJsonObject as error:
        raise InvalidSubmission(str(error)) from None
    try:
        request = SubmissionRequest.model_validate(data)
    except ValidationError as error:
        items = error.errors()
        problems = "; ".join(f"{_field_path(i['loc']) or 'body'}: {_problem(i)}" for i in items[:5])
        raise InvalidSubmission(problems, _field_path(items[0]["loc"]) or None) from None
    if (request.content_urls is None) == (request.content_container_url is None):
        raise InvalidSubmission("give exactly one of contentUrls and contentContainerUrl", "contentUrls")
    return request


# for_version's parameters, in the API's terms, to name the field its ValueErrors are about.
_API_FIELDS = {
    "time_to_live_hours": "properties.timeToLiveHours",
    "diarization_max_speakers": "properties.diarization.maxSpeakers",
    "content_urls": "contentUrls",
    "content_container_url": "contentContainerUrl",
}


def definition_for(request: SubmissionRequest, api_version: ApiVersion | str) -> TranscriptionDefinition:
    """The create body in the shape `api_version` needs; InvalidSubmission when that version cannot take it."""
    version = ApiVersion(api_version)
    props = request.properties or SubmissionProperties()
    ttl = props.time_to_live_hours
    if ttl is None and not version.in_path:
        ttl = DEFAULT_TTL_HOURS  # required from 2024-11-15 on; v3.2 keeps the service's default
    max_speakers = None
    diarization = props.diarization
    if diarization is not None and diarization.enabled is False:
        if diarization.max_speakers is not None:
            raise InvalidSubmission(
                "maxSpeakers is given but diarization is disabled", "properties.diarization.maxSpeakers"
            )
    elif diarization is not None:
        max_speakers = diarization.max_speakers or DEFAULT_MAX_SPEAKERS
    language = props.language_identification
    try:
        return TranscriptionDefinition.for_version(
            version,
            locale=request.locale,
            display_name=request.display_name,
            content_urls=request.content_urls,
            content_container_url=request.content_container_url,
            time_to_live_hours=ttl,
            word_level_timestamps=props.word_level_timestamps_enabled,
            display_form_word_level_timestamps=props.display_form_word_level_timestamps_enabled,
            channels=props.channels,
            punctuation_mode=props.punctuation_mode,
            profanity_filter_mode=props.profanity_filter_mode,
            diarization_max_speakers=max_speakers,
            language_identification=LanguageIdentification(
                mode=language.mode, candidate_locales=language.candidate_locales
            )
            if language is not None
            else None,
            destination_container_url=props.destination_container_url,
        )
    except ValueError as error:
        message, field = str(error), None
        for parameter, api_field in _API_FIELDS.items():
            if parameter in message:
                message, field = message.replace(parameter, api_field), field or api_field
        raise InvalidSubmission(message, field) from None


def status_view(record: JobRecord, manifest_url: str | None) -> JobStatus:
    return JobStatus(
        id=record.id,
        kind=record.kind.value,
        state=record.state.value,
        service_status=record.service_status,
        tracked=record.tracked,
        display_name=record.display_name,
        locale=record.locale,
        created=record.created,
        last_action=record.last_action,
        first_seen=record.first_seen,
        queued_at=record.queued_at,
        harvested_at=record.harvested_at,
        last_checked=record.last_checked,
        detail=record.detail,
        manifest_url=manifest_url if record.state is LedgerState.HARVESTED else None,
    )


# --- I/O ---------------------------------------------------------------------------------------------------


@dataclass
class SubmissionDeps:
    speech: SpeechClient
    ledger: Ledger
    queue: HarvestQueue
    secrets: list[str]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def submit(body: bytes, deps: SubmissionDeps) -> Reply:
    """POST /api/transcriptions: validate, submit, track; 202 with the job's id and where to ask about it."""
    try:
        definition = definition_for(parse_submission(body), deps.speech.api_version)
    except InvalidSubmission as error:
        logs.event("submit_refused", field=error.field, reason=error.message)
        return error.reply()
    try:
        transcription = _with_canonical_id(deps.speech.submit_transcription(definition))
    except SpeechError as error:
        reply = service_error_reply(error, deps.secrets)
        logs.event("submit_rejected", logging.WARNING, status=reply.status, code=error.code)
        return reply
    tracked = _track(transcription, deps)
    url = status_url(JobKind.TRANSCRIPTION, transcription.id)
    logs.event("submitted", id=transcription.id, status=str(transcription.status), tracked=tracked)
    payload = Submitted(
        id=transcription.id, status=str(transcription.status), status_url=url, tracked=tracked
    )
    return json_reply(202, payload, {"Location": url})


def _with_canonical_id(transcription: Transcription) -> Transcription:
    """The answer must name the new job by a canonical id: no ledger row, request or blob may carry another."""
    try:
        layout.validate_job_id(JobKind.TRANSCRIPTION, transcription.id)
    except ValueError as error:
        raise UnexpectedResponseError(f"the answer to the submission names no usable job: {error}") from None
    return transcription


def _track(transcription: Transcription, deps: SubmissionDeps) -> bool:
    """Record the new job as ours. The job exists whatever happens here, so a ledger failure is reported as
    `tracked: false` rather than an error that would invite the caller to submit (and pay) twice."""
    now = deps.clock()
    seen = observation_of(transcription)
    trace = telemetry.current_traceparent()
    try:
        decide_and_save(
            deps.ledger,
            JobKind.TRANSCRIPTION,
            transcription.id,
            lambda record: submitted(record, seen, now, traceparent=trace),
            now,
            queue=deps.queue,
            request_reason=RequestReason.POLL,
            source="submit",
        )
    except Exception as error:
        logs.event("submit_untracked", logging.ERROR, id=transcription.id, error=type(error).__name__)
        return False
    return True


def job_status(kind: JobKind, job_id: str, ledger: Ledger, destination: Destination) -> Reply:
    """GET /api/{transcriptions|conversations}/{id}: the ledger row; 400 for a malformed id, 404 if unknown."""
    try:
        job_id = layout.validate_job_id(kind, job_id)
    except ValueError as error:
        return error_reply(400, "InvalidRequest", str(error), field="id")
    record = ledger.get(kind, job_id)
    if record is None:
        return error_reply(404, "NotFound", f"no {kind.value} {job_id} in the ledger")
    manifest = destination.url(record.manifest_blob) if record.manifest_blob else None
    return json_reply(200, status_view(record, manifest))
