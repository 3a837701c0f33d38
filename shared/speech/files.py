"""Result files of a transcription (the ListFiles entries) and the report.json they point to."""

from datetime import datetime
from enum import StrEnum

from pydantic import AliasChoices, Field

from shared.speech.transcriptions import duration_seconds
from shared.speech.wire import OpenEnum, WireModel, id_from_self


class FileKind(StrEnum):
    """Known kinds; the service documents the enum as open, so `TranscriptionFile.kind` may be any string."""

    DATASET_REPORT = "DatasetReport"
    AUDIO = "Audio"
    LANGUAGE_DATA = "LanguageData"
    PRONUNCIATION_DATA = "PronunciationData"
    ACOUSTIC_DATA_ARCHIVE = "AcousticDataArchive"
    ACOUSTIC_DATA_TRANSCRIPTION_V2 = "AcousticDataTranscriptionV2"
    TRANSCRIPTION = "Transcription"
    TRANSCRIPTION_REPORT = "TranscriptionReport"
    EVALUATION_DETAILS = "EvaluationDetails"
    MODEL_REPORT = "ModelReport"
    OUTPUT_FORMATTING_DATA = "OutputFormattingData"


class FileLinks(WireModel):
    content_url: str | None = None


class FileProperties(WireModel):
    size: int | None = None
    # v3.2: ISO-8601 duration; 2024+: milliseconds. Audio files only.
    duration: str | None = None
    duration_milliseconds: int | None = None


class TranscriptionFile(WireModel):
    self_url: str | None = Field(default=None, alias="self")
    name: str | None = None
    kind: OpenEnum[FileKind] | None = None
    links: FileLinks | None = None
    properties: FileProperties | None = None
    created_date_time: datetime | None = None

    @property
    def id(self) -> str:
        return id_from_self(self.self_url)

    @property
    def content_url(self) -> str | None:
        """Where to download the file; a SAS URL unless results go to the caller's own container."""
        return self.links.content_url if self.links else None

    @property
    def size(self) -> int | None:
        return self.properties.size if self.properties else None

    @property
    def duration_seconds(self) -> float | None:
        if self.properties is None:
            return None
        return duration_seconds(self.properties.duration_milliseconds, self.properties.duration)


class ReportDetail(WireModel):
    """One input of the job: whether it was transcribed and, if not, why."""

    # Older reports call it `sourceUrl`; both land here (and `.wire` keeps whichever was sent).
    source: str | None = Field(default=None, validation_alias=AliasChoices("source", "sourceUrl"))
    status: str | None = None
    error_kind: str | None = None
    error_message: str | None = None


class TranscriptionReport(WireModel):
    """report.json (the file of kind TranscriptionReport). A Succeeded job can still have failed inputs."""

    successful_transcriptions_count: int | None = None
    failed_transcriptions_count: int | None = None
    details: list[ReportDetail] | None = None
