"""The Transcription entity as any of the three API versions returns it.

One model covers v3.2 and 2024-11-15+: the fields that changed shape (duration, time to live, diarization)
are all present and optional, and the convenience properties read whichever shape arrived.
"""

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from shared.speech.durations import parse_iso_duration
from shared.speech.wire import EntityError, EntityReference, OpenEnum, WireModel, id_from_self


class Status(StrEnum):
    NOT_STARTED = "NotStarted"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    @property
    def is_terminal(self) -> bool:
        return self in (Status.SUCCEEDED, Status.FAILED)


def duration_seconds(milliseconds: int | None, iso: str | None) -> float | None:
    """Seconds from 2024+'s `durationMilliseconds` or v3.2's ISO `duration`; None if absent or unreadable.

    Unreadable is None rather than an error: the duration is informational and must never stop a harvest.
    """
    if milliseconds is not None:
        return milliseconds / 1000
    if iso is None:
        return None
    try:
        return parse_iso_duration(iso)
    except ValueError:
        return None


class DiarizationSpeakers(WireModel):
    """v3.2 only: the speaker-count range."""

    min_count: int | None = None
    max_count: int | None = None


class Diarization(WireModel):
    """Both shapes: v3.2 `{speakers: {minCount, maxCount}}`, 2024+ `{enabled, maxSpeakers}`."""

    enabled: bool | None = None
    max_speakers: int | None = None
    speakers: DiarizationSpeakers | None = None


class LanguageIdentification(WireModel):
    mode: str | None = None
    candidate_locales: list[str] | None = None
    speech_model_mapping: dict[str, EntityReference] | None = None


class TranscriptionProperties(WireModel):
    word_level_timestamps_enabled: bool | None = None
    display_form_word_level_timestamps_enabled: bool | None = None
    channels: list[int] | None = None
    punctuation_mode: str | None = None
    profanity_filter_mode: str | None = None
    destination_container_url: str | None = None
    # v3.2: ISO-8601 duration; 2024+: milliseconds.
    duration: str | None = None
    duration_milliseconds: int | None = None
    # v3.2: ISO-8601 duration (optional); 2024+: whole hours (required on create).
    time_to_live: str | None = None
    time_to_live_hours: int | None = None
    email: str | None = None
    error: EntityError | None = None
    diarization_enabled: bool | None = None
    diarization: Diarization | None = None
    language_identification: LanguageIdentification | None = None


class TranscriptionLinks(WireModel):
    files: str | None = None


class Transcription(WireModel):
    self_url: str | None = Field(default=None, alias="self")
    display_name: str | None = None
    locale: str | None = None
    description: str | None = None
    custom_properties: dict[str, str] | None = None
    model: EntityReference | None = None
    dataset: EntityReference | None = None
    project: EntityReference | None = None
    links: TranscriptionLinks | None = None
    properties: TranscriptionProperties | None = None
    status: OpenEnum[Status] | None = None
    created_date_time: datetime | None = None
    last_action_date_time: datetime | None = None
    # Request-only by the schema, but the service's own examples echo them back.
    content_urls: list[str] | None = None
    content_container_url: str | None = None

    @property
    def id(self) -> str:
        return id_from_self(self.self_url)

    @property
    def duration_seconds(self) -> float | None:
        if self.properties is None:
            return None
        return duration_seconds(self.properties.duration_milliseconds, self.properties.duration)

    @property
    def error(self) -> EntityError | None:
        return self.properties.error if self.properties else None

    @property
    def is_terminal(self) -> bool:
        return isinstance(self.status, Status) and self.status.is_terminal
