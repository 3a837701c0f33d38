"""The transcript-ready event: one CloudEvents 1.0 event per harvested job, built from its manifest alone.

Everything in the event comes from the manifest as stored (and the container's URL), so building it again
after a crash, a redelivery or a failed publish gives the same event, byte for byte, with the same `id`:
consumers drop duplicates by `id`. URLs are the blobs' URLs without any SAS.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from shared.manifest import Manifest
from shared.redact import strip_sas

# Names the event ids: uuid5(namespace, "<kind>/<id>/<manifest path>/<harvestedAt>") is the same for every
# publish of one harvest, and differs when a job is harvested again into another place.
_ID_NAMESPACE = uuid.UUID("7d0b1f5e-58f4-4c38-9d55-3c1f5a1e0f21")
FAILED_STATUSES = frozenset({"Failed"})
REPORT_KIND = "TranscriptionReport"  # report.json is in the manifest, but is not a transcript


class EventType(StrEnum):
    TRANSCRIPTION_HARVESTED = "SpeechHarvester.TranscriptionHarvested"
    TRANSCRIPTION_FAILED = "SpeechHarvester.TranscriptionFailed"
    CONVERSATION_HARVESTED = "SpeechHarvester.ConversationHarvested"
    CONVERSATION_FAILED = "SpeechHarvester.ConversationFailed"


class _Data(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class EventError(_Data):
    code: str | None = None
    message: str | None = None


class EventResult(_Data):
    """One result file of the job: its readable transcripts, by format (json, txt, srt, vtt)."""

    name: str
    stem: str | None = None
    valid: bool
    transcript_urls: dict[str, str] = Field(default_factory=dict)


class TranscriptEventData(_Data):
    """The event's `data`: enough to act without opening the manifest, and where the manifest is."""

    id: str
    kind: Literal["transcription", "conversation"]
    status: str
    display_name: str | None = None
    locale: str | None = None
    audio_duration_seconds: float | None = None
    error: EventError | None = None
    manifest_url: str
    harvested_at: datetime
    results: list[EventResult] = Field(default_factory=list)


class TranscriptEvent(BaseModel):
    """A CloudEvents 1.0 event in structured JSON mode (attribute names as the specification spells them)."""

    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str
    type: EventType
    subject: str
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    data: TranscriptEventData

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)


def event_type(kind: str, status: str) -> EventType:
    failed = status in FAILED_STATUSES
    if kind == "conversation":
        return EventType.CONVERSATION_FAILED if failed else EventType.CONVERSATION_HARVESTED
    return EventType.TRANSCRIPTION_FAILED if failed else EventType.TRANSCRIPTION_HARVESTED


def event_id(manifest: Manifest, manifest_path: str) -> str:
    name = f"{manifest.kind}/{manifest.id}/{manifest_path}/{manifest.harvested_at.isoformat()}"
    return str(uuid.uuid5(_ID_NAMESPACE, name))


def _stem(transcript_blob: str) -> str:
    return transcript_blob.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def transcript_event(
    manifest: Manifest, manifest_path: str, *, url_of: Callable[[str], str], source: str
) -> TranscriptEvent:
    """The event for a stored manifest; `url_of` turns a blob path into its URL (without SAS)."""
    results = [
        EventResult(
            name=result.name,
            stem=_stem(result.transcripts[0].blob) if result.transcripts else None,
            valid=result.validation.valid,
            transcript_urls={t.format: strip_sas(url_of(t.blob)) for t in result.transcripts},
        )
        for result in manifest.results
        if result.kind != REPORT_KIND
    ]
    error = manifest.error
    data = TranscriptEventData(
        id=manifest.id,
        kind="conversation" if manifest.kind == "conversation" else "transcription",
        status=manifest.status,
        display_name=manifest.display_name,
        locale=manifest.locale,
        audio_duration_seconds=manifest.audio_duration_seconds,
        error=EventError(code=error.code, message=error.message) if error is not None else None,
        manifest_url=strip_sas(url_of(manifest_path)),
        harvested_at=manifest.harvested_at,
        results=results,
    )
    return TranscriptEvent(
        id=event_id(manifest, manifest_path),
        source=strip_sas(source),
        type=event_type(manifest.kind, manifest.status),
        subject=manifest_path,
        time=manifest.harvested_at,
        data=data,
    )
