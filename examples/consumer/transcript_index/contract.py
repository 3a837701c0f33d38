"""What this consumer reads of Speech Harvester's published contract: the transcript-ready event and the
manifest. Only the fields used here are modelled; unknown fields are ignored, so additions never break it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class EventData(_Camel):
    id: str
    kind: str
    status: str
    manifest_url: str


class TranscriptEvent(BaseModel):
    """The CloudEvents envelope of a `SpeechHarvester.*` event."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    type: str
    subject: str
    data: EventData


class TranscriptFile(_Camel):
    format: str
    blob: str


class Result(_Camel):
    name: str
    kind: str
    transcripts: list[TranscriptFile] = Field(default_factory=list)


class JobError(_Camel):
    code: str | None = None
    message: str | None = None


class Manifest(_Camel):
    kind: str
    id: str
    status: str
    display_name: str | None = None
    locale: str | None = None
    audio_duration_seconds: float | None = None
    error: JobError | None = None
    results: list[Result] = Field(default_factory=list)
    harvested_at: datetime

    def text_blobs(self) -> list[str]:
        """The readable (.txt) transcripts, in the manifest's order."""
        return [t.blob for r in self.results for t in r.transcripts if t.format == "txt"]
