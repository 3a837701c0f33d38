"""Rendering the internal job model in the shape of one API version."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.responses import JSONResponse

from local.speech_emulator.isotime import (
    TICKS_PER_MILLISECOND,
    format_timestamp,
    seconds_to_iso,
    ticks_to_iso,
)
from local.speech_emulator.lifecycle import JobState, Status
from local.speech_emulator.materialise import ResultFile
from local.speech_emulator.results import audio_ticks, transcript_options
from local.speech_emulator.store import Job
from local.speech_emulator.versions import ApiVersion, Urls
from local.speech_emulator.wire import (
    DiarizationV32,
    DiarizationV2024,
    EntityError,
    EntityReference,
    FileLinks,
    FileOut,
    FileProperties,
    LanguageIdentification,
    SpeakerCount,
    TranscriptionLinks,
    TranscriptionOut,
    TranscriptionPropertiesOut,
)


def json_response(
    body: BaseModel | list[Any], status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    content = body.model_dump(mode="json", exclude_none=True) if isinstance(body, BaseModel) else body
    return JSONResponse(content, status, headers=headers)


def _reference(url: str | None) -> EntityReference | None:
    return EntityReference(self_=url) if url is not None else None


def _total_ticks(job: Job, status: Status) -> int:
    return sum(
        audio_ticks(audio.knobs, transcript_options(job.options, audio.knobs, duration_milliseconds=False))
        for audio in job.succeeded_inputs(status)
    )


def _diarization(job: Job, version: ApiVersion) -> DiarizationV32 | DiarizationV2024 | None:
    options = job.options
    if version is ApiVersion.V3_2:
        speakers = options.speakers
        if speakers is None:
            return None
        return DiarizationV32(
            speakers=SpeakerCount(min_count=speakers.min_count, max_count=speakers.max_count)
        )
    if options.max_speakers is None:
        return None
    return DiarizationV2024(enabled=True, max_speakers=max(2, options.max_speakers))


def _properties(job: Job, state: JobState, version: ApiVersion) -> TranscriptionPropertiesOut:
    options = job.options
    v32 = version is ApiVersion.V3_2
    succeeded = state.status is Status.SUCCEEDED
    ticks = _total_ticks(job, state.status) if succeeded else 0
    language_id = options.language_id
    error = job.error(state.status)
    return TranscriptionPropertiesOut(
        diarization_enabled=options.basic_diarization if v32 else None,
        word_level_timestamps_enabled=options.word_level_timestamps,
        display_form_word_level_timestamps_enabled=options.display_word_timestamps,
        channels=list(options.channels),
        punctuation_mode=options.punctuation_mode,
        profanity_filter_mode=options.profanity_filter_mode,
        destination_container_url=options.destination_container_url,
        time_to_live=seconds_to_iso(options.ttl_hours * 3600)
        if v32 and options.ttl_hours is not None
        else None,
        time_to_live_hours=round(options.ttl_hours) if not v32 and options.ttl_hours is not None else None,
        diarization=_diarization(job, version),
        language_identification=LanguageIdentification(
            mode=language_id.mode,
            candidate_locales=list(language_id.candidate_locales),
            speech_model_mapping={
                locale: EntityReference(self_=url) for locale, url in language_id.speech_model_mapping.items()
            }
            if language_id.speech_model_mapping
            else None,
        )
        if language_id is not None
        else None,
        email=options.email if v32 else None,
        duration=ticks_to_iso(ticks) if succeeded and v32 else None,
        duration_milliseconds=ticks // TICKS_PER_MILLISECOND if succeeded and not v32 else None,
        error=EntityError(code=error.code, message=error.message) if error is not None else None,
    )


def render_transcription(job: Job, state: JobState, urls: Urls) -> TranscriptionOut:
    return TranscriptionOut(
        self_=urls.transcription(job.id),
        model=_reference(job.model),
        project=_reference(job.project) if urls.version.has_project else None,
        links=TranscriptionLinks(files=urls.files(job.id)),
        properties=_properties(job, state, urls.version),
        last_action_date_time=format_timestamp(state.last_action),
        status=state.status.value,
        created_date_time=format_timestamp(job.schedule.created),
        locale=job.locale,
        display_name=job.display_name,
        description=job.description,
        custom_properties=job.custom_properties,
    )


def render_file(job: Job, item: ResultFile, urls: Urls, content_url: str) -> FileOut:
    return FileOut(
        self_=urls.file(job.id, item.file_id),
        name=item.name,
        kind=item.kind,
        links=FileLinks(content_url=content_url),
        properties=FileProperties(size=item.size),
        created_date_time=format_timestamp(item.created),
    )
