"""Transcription operations: create (v3.2 POST /transcriptions, 2024+ POST /transcriptions:submit), get, list,
update, delete and the supported locales."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, TypeVar

from azure.core.exceptions import AzureError
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from local.speech_emulator.errors import ApiError, from_validation, invalid_request, not_found
from local.speech_emulator.filters import TRANSCRIPTION_FIELDS, Record
from local.speech_emulator.inputs import InputAudio, from_container, from_content_urls
from local.speech_emulator.isotime import iso_to_seconds, whole_seconds
from local.speech_emulator.lifecycle import JobState, Schedule
from local.speech_emulator.listing import parse_listing
from local.speech_emulator.locales import SUBMIT_LOCALES, TRANSCRIBE_LOCALES
from local.speech_emulator.pipeline import Call
from local.speech_emulator.render import json_response, render_transcription
from local.speech_emulator.storage import list_container
from local.speech_emulator.store import Job, LanguageId, Options, SpeakerRange, natural_outcome
from local.speech_emulator.versions import ApiVersion
from local.speech_emulator.wire import (
    PaginatedTranscriptions,
    PropertiesBase,
    PropertiesV32,
    PropertiesV2024,
    TranscriptionCreate,
    TranscriptionCreateV32,
    TranscriptionCreateV2024,
    TranscriptionCreateV2025,
    TranscriptionLocales,
    TranscriptionUpdate,
    TranscriptionUpdateV32,
    TranscriptionUpdateV2024,
    TranscriptionUpdateV2025,
)

M = TypeVar("M", bound=BaseModel)

_CREATE: dict[ApiVersion, type[TranscriptionCreate]] = {
    ApiVersion.V3_2: TranscriptionCreateV32,
    ApiVersion.V2024_11_15: TranscriptionCreateV2024,
    ApiVersion.V2025_10_15: TranscriptionCreateV2025,
}
_UPDATE: dict[ApiVersion, type[TranscriptionUpdate]] = {
    ApiVersion.V3_2: TranscriptionUpdateV32,
    ApiVersion.V2024_11_15: TranscriptionUpdateV2024,
    ApiVersion.V2025_10_15: TranscriptionUpdateV2025,
}


async def read_body(call: Call, model: type[M], entity: str = "transcription") -> M:
    if "json" not in call.request.headers.get("content-type", ""):
        raise ApiError(
            415, "UnsupportedMediaType", "The request body must be JSON.", inner_code="InvalidPayload"
        )
    raw = await call.request.body()
    if not raw.strip():
        raise invalid_request("The request body is empty.", "EmptyRequest")
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise from_validation(error, entity) from None


def find_job(call: Call) -> Job:
    job = call.state.store.get(call.path("id"))
    if job is None:
        raise not_found("transcription")
    return job


def retry_after(call: Call, states: list[JobState]) -> dict[str, str] | None:
    """Retry-After accompanies responses about work that has not finished yet."""
    if any(not state.status.terminal for state in states):
        return {"Retry-After": str(call.state.config.retry_after_seconds)}
    return None


def _options(properties: PropertiesBase) -> Options:
    language_id = properties.language_identification
    common: dict[str, Any] = {
        "word_level_timestamps": properties.word_level_timestamps_enabled,
        "display_word_timestamps": properties.display_form_word_level_timestamps_enabled,
        "channels": tuple(properties.channels) if properties.channels is not None else (0, 1),
        "punctuation_mode": properties.punctuation_mode,
        "profanity_filter_mode": properties.profanity_filter_mode,
        "destination_container_url": properties.destination_container_url,
        "language_id": LanguageId(
            mode=language_id.mode,
            candidate_locales=tuple(language_id.candidate_locales),
            speech_model_mapping={key: ref.self_ for key, ref in language_id.speech_model_mapping.items()}
            if language_id.speech_model_mapping
            else None,
        )
        if language_id is not None
        else None,
    }
    if isinstance(properties, PropertiesV32):
        speakers = properties.diarization.speakers if properties.diarization else None
        return Options(
            **common,
            ttl_hours=iso_to_seconds(properties.time_to_live) / 3600 if properties.time_to_live else None,
            basic_diarization=properties.diarization_enabled,
            speakers=SpeakerRange(speakers.min_count, speakers.max_count) if speakers else None,
            email=properties.email,
        )
    assert isinstance(properties, PropertiesV2024)
    diarization = properties.diarization
    enabled = diarization is not None and diarization.enabled
    return Options(
        **common,
        ttl_hours=properties.time_to_live_hours,
        speakers=SpeakerRange(1, diarization.max_speakers) if diarization is not None and enabled else None,
    )


async def _inputs(body: TranscriptionCreate) -> tuple[InputAudio, ...]:
    if body.content_urls:
        return from_content_urls(body.content_urls)
    container_url = body.content_container_url or ""
    try:
        names = await run_in_threadpool(list_container, container_url)
    except (AzureError, ValueError):
        raise invalid_request(
            "The property transcription.contentContainerUrl cannot be listed; it needs a SAS with read and list "
            "permissions.",
            "InaccessibleCustomerStorage",
        ) from None
    return from_container(container_url, names)


async def create(call: Call) -> Response:
    body = await read_body(call, _CREATE[call.version])
    inputs = await _inputs(body)
    project = getattr(body, "project", None)
    job = Job(
        id=str(uuid.uuid4()),
        display_name=body.display_name,
        locale=body.locale,
        inputs=inputs,
        options=_options(body.properties),
        schedule=Schedule(
            created=call.now,
            phase=timedelta(seconds=call.state.config.phase_seconds),
            outcome=natural_outcome(inputs),
            stuck=call.effects.stuck,
        ),
        created_with=call.version,
        description=body.description,
        custom_properties=body.custom_properties,
        model=body.model.self_ if body.model else None,
        project=project.self_ if project else None,
    )
    call.state.store.add(job)
    rendered = render_transcription(job, job.state(call.now), call.urls)
    return json_response(rendered, 201, headers={"Location": rendered.self_})


def _prefetch(call: Call, job: Job, state: JobState) -> None:
    """Results of API-created jobs start uploading as soon as the job is seen finished, so large files are ready
    (or nearly) when the client lists them. Seeded jobs stay lazy: 10,000 of them cost nothing until listed."""
    if state.status.terminal and not job.seeded:
        call.state.materialiser.start(job, state)


async def get_transcription(call: Call) -> Response:
    job = find_job(call)
    state = job.state(call.now)
    _prefetch(call, job, state)
    return json_response(render_transcription(job, state, call.urls), headers=retry_after(call, [state]))


def _record(job: Job, state: JobState) -> Record:
    return {
        "displayName": job.display_name,
        "description": job.description,
        "status": state.status.value,
        "locale": job.locale,
        "createdDateTime": whole_seconds(job.schedule.created),
        "lastActionDateTime": whole_seconds(state.last_action),
    }


async def list_transcriptions(call: Call) -> Response:
    listing = parse_listing(
        call.request.query_params, TRANSCRIPTION_FIELDS, call.state.config.default_page_size
    )
    jobs = [(job, job.state(call.now)) for job in call.state.store.oldest_first()]
    page, more = listing.select(jobs, lambda pair: _record(*pair))
    for job, state in page:
        _prefetch(call, job, state)
    body = PaginatedTranscriptions(
        values=[render_transcription(job, state, call.urls) for job, state in page],
        next_link=listing.next_link(call.urls, call.urls.collection("/transcriptions"), []) if more else None,
    )
    return json_response(body, headers=retry_after(call, [state for _, state in page]))


async def update(call: Call) -> Response:
    job = find_job(call)
    body = await read_body(call, _UPDATE[call.version])
    changed = body.model_fields_set
    if "display_name" in changed:
        if body.display_name is None:
            raise invalid_request(
                "The property transcription.displayName cannot be removed.", "InvalidPayload"
            )
        job.display_name = body.display_name
    if "description" in changed:
        job.description = body.description
    if "custom_properties" in changed:
        job.custom_properties = body.custom_properties
    if "project" in changed:
        project = getattr(body, "project", None)
        job.project = project.self_ if project else None
    state = job.state(call.now)
    return json_response(render_transcription(job, state, call.urls), headers=retry_after(call, [state]))


async def delete(call: Call) -> Response:
    """204 whether or not the job existed, as documented; managed results go with it."""
    if call.state.store.remove(call.path("id")) is not None:
        call.state.materialiser.discard(call.path("id"))
    return Response(status_code=204)


async def locales(call: Call) -> Response:
    if call.version is ApiVersion.V3_2:
        return json_response(list(SUBMIT_LOCALES))
    return json_response(
        TranscriptionLocales(transcribe=list(TRANSCRIBE_LOCALES), submit=list(SUBMIT_LOCALES))
    )
