"""manifest.json: the last blob written for a job, listing everything the harvest produced.

Downstream consumers can wait for the manifest and trust that every blob it names exists with the size and
sha256 it states. It carries no secrets: every URL in it has its SAS query removed.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

import shared

SCHEMA_VERSION = "1.0"


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class Validation(_Model):
    valid: bool
    problems: list[str] = Field(default_factory=list)


class BlobEntry(_Model):
    blob: str
    size: int
    sha256: str


class DerivedEntry(BlobEntry):
    format: str


class ResultEntry(BlobEntry):
    """One file the service produced for the job, and what we made of it."""

    name: str
    kind: str
    source: str | None = None
    validation: Validation
    transcripts: list[DerivedEntry] = Field(default_factory=list)


class ReportFailure(_Model):
    source: str | None = None
    error_kind: str | None = None
    error_message: str | None = None


class ReportSummary(_Model):
    successful_transcriptions_count: int | None = None
    failed_transcriptions_count: int | None = None
    failures: list[ReportFailure] = Field(default_factory=list)


class JobError(_Model):
    code: str | None = None
    message: str | None = None


class Harvester(_Model):
    name: str = "speech-harvester"
    version: str = shared.__version__


class Manifest(_Model):
    schema_version: str = SCHEMA_VERSION
    kind: str
    id: str
    api_version: str | None = None
    status: str
    display_name: str | None = None
    locale: str | None = None
    created_date_time: datetime | None = None
    finished_date_time: datetime | None = None
    audio_duration_seconds: float | None = None
    error: JobError | None = None
    entity: BlobEntry | None = None
    results: list[ResultEntry] = Field(default_factory=list)
    report: ReportSummary | None = None
    harvester: Harvester = Field(default_factory=Harvester)
    harvested_at: datetime

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True, indent=2).encode("utf-8")
