"""Wire formats of the Speech batch-transcription API as pydantic models.

Request models are per version and accept only the JSON names (unknown properties are ignored, as the service
does); their validators raise PydanticCustomError whose type is the service's DetailedErrorCode, so the
pipeline can answer with the same innerError code the service would. Response models are the union of all
versions' fields: rendering fills exactly the fields of the requested version and drops the rest as None.
Result-file models describe the Transcription and TranscriptionReport files.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from local.speech_emulator.isotime import iso_to_seconds
from local.speech_emulator.locales import canonical_locale

MAX_CONTENT_URLS = 1000
MAX_TTL_HOURS = 744
MIN_TTL_HOURS = 6

PunctuationMode = Literal["None", "Dictated", "Automatic", "DictatedAndAutomatic"]
ProfanityFilterMode = Literal["None", "Removed", "Tags", "Masked"]


class RequestModel(BaseModel):
    """A request body: JSON names only, unknown properties ignored."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=False, validate_by_alias=True)


class ResponseModel(BaseModel):
    """A response or file body: built by field name in Python, serialised with the JSON names."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


# ---------------------------------------------------------------- shared pieces


def _check_custom_properties(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    if len(value) > 10:
        raise PydanticCustomError("InvalidPayload", "customProperties allows at most 10 entries.")
    for key, item in value.items():
        if len(key) > 64 or len(item) > 256:
            raise PydanticCustomError(
                "InvalidPayload", "customProperties keys are limited to 64 and values to 256 characters."
            )
    return value


CustomProperties = Annotated[dict[str, str] | None, AfterValidator(_check_custom_properties)]


class EntityReference(ResponseModel):
    self_: str = Field(alias="self")


class SpeakerCount(ResponseModel):
    min_count: int = Field(ge=1)
    max_count: int = Field(ge=1, le=35)

    @model_validator(mode="after")
    def _ordered(self) -> SpeakerCount:
        if self.min_count > self.max_count:
            raise PydanticCustomError("InvalidPayload", "diarization.speakers.minCount exceeds maxCount.")
        return self


class DiarizationV32(ResponseModel):
    speakers: SpeakerCount


class DiarizationV2024(ResponseModel):
    enabled: bool = False
    max_speakers: int = Field(default=2, ge=2, le=35)


class LanguageIdentification(ResponseModel):
    mode: Literal["Continuous", "Single"] = "Continuous"
    candidate_locales: list[str]
    speech_model_mapping: dict[str, EntityReference] | None = None

    @model_validator(mode="after")
    def _candidate_count(self) -> LanguageIdentification:
        low, high = (2, 10) if self.mode == "Continuous" else (1, None)
        count = len(self.candidate_locales)
        if count < low or (high is not None and count > high):
            raise PydanticCustomError(
                "InvalidParameterValue",
                "languageIdentification.candidateLocales needs {low} to {high} locales in {mode} mode.",
                {"low": low, "high": high or "any number of", "mode": self.mode},
            )
        return self


def _check_destination(url: str | None) -> str | None:
    """The service only writes into a container-level ad-hoc SAS URL (not a blob, folder or plain URL)."""
    if url is None:
        return None
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    segments = [segment for segment in parts.path.split("/") if segment]
    # Azure hosts name the account (<account>.blob.core.windows.net); emulators put it in the path.
    container_segments = 1 if ".blob." in (parts.hostname or "") else 2
    if query.get("sr") != ["c"] or "sig" not in query or len(segments) != container_segments:
        raise PydanticCustomError(
            "InvalidPayload",
            "The property transcription.properties.DestinationContainerUrl is not a SAS URL for a container.",
        )
    return url


# ---------------------------------------------------------------- requests


class PropertiesBase(RequestModel):
    word_level_timestamps_enabled: bool = False
    display_form_word_level_timestamps_enabled: bool = False
    channels: list[Annotated[int, Field(ge=0, le=1)]] | None = None
    punctuation_mode: PunctuationMode = "DictatedAndAutomatic"
    profanity_filter_mode: ProfanityFilterMode = "Masked"
    destination_container_url: Annotated[str | None, AfterValidator(_check_destination)] = None
    language_identification: LanguageIdentification | None = None


class PropertiesV32(PropertiesBase):
    diarization_enabled: bool = False
    diarization: DiarizationV32 | None = None
    time_to_live: str | None = None
    email: str | None = None

    @field_validator("time_to_live")
    @classmethod
    def _ttl(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            seconds = iso_to_seconds(value)
        except ValueError:
            raise PydanticCustomError(
                "InvalidTimeToLive", "timeToLive must be an ISO-8601 duration."
            ) from None
        if seconds < 0 or seconds > MAX_TTL_HOURS * 3600:
            raise PydanticCustomError("InvalidTimeToLive", "timeToLive must be between 0 and 31 days.")
        return value


class PropertiesV2024(PropertiesBase):
    diarization: DiarizationV2024 | None = None
    time_to_live_hours: int | None = Field(default=None, validate_default=True)

    @field_validator("time_to_live_hours")
    @classmethod
    def _ttl(cls, value: int | None) -> int:
        if value is None or not MIN_TTL_HOURS <= value <= MAX_TTL_HOURS:
            raise PydanticCustomError(
                "InvalidTimeToLive",
                "The property transcription.properties.timeToLiveHours is required and must be between "
                "{low} and {high} hours.",
                {"low": MIN_TTL_HOURS, "high": MAX_TTL_HOURS},
            )
        return value


class TranscriptionBase(RequestModel):
    display_name: str = Field(min_length=1)
    locale: str
    description: str | None = None
    custom_properties: CustomProperties = None
    model: EntityReference | None = None
    dataset: EntityReference | None = None
    content_urls: list[str] | None = None
    content_container_url: str | None = None

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        supported = canonical_locale(value)
        if supported is None:
            raise PydanticCustomError(
                "InvalidLocale", "The locale '{locale}' is not supported.", {"locale": value}
            )
        return supported

    @model_validator(mode="after")
    def _inputs(self) -> TranscriptionBase:
        given = [bool(self.content_urls), self.content_container_url is not None, self.dataset is not None]
        if sum(given) != 1:
            raise PydanticCustomError(
                "OnlyOneOfUrlsOrContainerOrDataset",
                "Exactly one of contentUrls, contentContainerUrl or dataset must be set.",
            )
        if self.content_urls is not None and len(self.content_urls) > MAX_CONTENT_URLS:
            raise PydanticCustomError(
                "ExceededNumberOfRecordingsUris",
                "A transcription accepts at most {limit} contentUrls.",
                {"limit": MAX_CONTENT_URLS},
            )
        if self.dataset is not None:
            raise PydanticCustomError("InvalidDataset", "Dataset input is not supported by the emulator.")
        return self


class TranscriptionCreateV32(TranscriptionBase):
    properties: PropertiesV32 = Field(default_factory=PropertiesV32)
    project: EntityReference | None = None


class TranscriptionCreateV2024(TranscriptionBase):
    properties: PropertiesV2024


class TranscriptionCreateV2025(TranscriptionCreateV2024):
    project: EntityReference | None = None


class TranscriptionUpdateV2024(RequestModel):
    """PATCH body (merge-patch: absent = unchanged, null = cleared)."""

    display_name: str | None = Field(default=None, min_length=1)
    description: str | None = None
    custom_properties: CustomProperties = None


class TranscriptionUpdateV32(TranscriptionUpdateV2024):
    project: EntityReference | None = None


class TranscriptionUpdateV2025(TranscriptionUpdateV32):
    pass


TranscriptionCreate = TranscriptionCreateV32 | TranscriptionCreateV2024 | TranscriptionCreateV2025
TranscriptionUpdate = TranscriptionUpdateV32 | TranscriptionUpdateV2024 | TranscriptionUpdateV2025


# ---------------------------------------------------------------- responses


class EntityError(ResponseModel):
    code: str
    message: str


class TranscriptionLinks(ResponseModel):
    files: str


class TranscriptionPropertiesOut(ResponseModel):
    diarization_enabled: bool | None = None
    word_level_timestamps_enabled: bool
    display_form_word_level_timestamps_enabled: bool
    channels: list[int]
    punctuation_mode: str
    profanity_filter_mode: str
    destination_container_url: str | None = None
    time_to_live: str | None = None
    time_to_live_hours: int | None = None
    diarization: DiarizationV32 | DiarizationV2024 | None = None
    language_identification: LanguageIdentification | None = None
    email: str | None = None
    duration: str | None = None
    duration_milliseconds: int | None = None
    error: EntityError | None = None


class TranscriptionOut(ResponseModel):
    self_: str = Field(alias="self")
    model: EntityReference | None = None
    dataset: EntityReference | None = None
    project: EntityReference | None = None
    links: TranscriptionLinks
    properties: TranscriptionPropertiesOut
    last_action_date_time: str
    status: str
    created_date_time: str
    locale: str
    display_name: str
    description: str | None = None
    custom_properties: dict[str, str] | None = None


class FileLinks(ResponseModel):
    content_url: str


class FileProperties(ResponseModel):
    size: int


class FileOut(ResponseModel):
    self_: str = Field(alias="self")
    name: str
    kind: str
    links: FileLinks
    properties: FileProperties
    created_date_time: str


class PaginatedTranscriptions(ResponseModel):
    values: list[TranscriptionOut]
    next_link: str | None = Field(default=None, alias="@nextLink")


class PaginatedFiles(ResponseModel):
    values: list[FileOut]
    next_link: str | None = Field(default=None, alias="@nextLink")


class TranscriptionLocales(ResponseModel):
    transcribe: list[str] = Field(alias="Transcribe")
    submit: list[str] = Field(alias="Submit")


class InnerError(ResponseModel):
    code: str
    details: dict[str, str] | None = None
    message: str
    target: str | None = None
    inner_error: InnerError | None = None


class ErrorBody(ResponseModel):
    code: str
    details: list[ErrorBody] | None = None
    message: str
    target: str | None = None
    inner_error: InnerError | None = None


# ---------------------------------------------------------------- result files


# Times as every version writes them (ticks, ISO), and as 2024-11-15 and later may add them (milliseconds); a
# `times=ms` input has milliseconds only. Declared in each model, in the service's field order.


class Word(ResponseModel):
    word: str
    offset: str | None = None
    duration: str | None = None
    offset_in_ticks: float | None = None
    duration_in_ticks: float | None = None
    offset_milliseconds: int | None = None
    duration_milliseconds: int | None = None
    confidence: float


class DisplayWord(ResponseModel):
    display_text: str
    offset: str | None = None
    duration: str | None = None
    offset_in_ticks: float | None = None
    duration_in_ticks: float | None = None
    offset_milliseconds: int | None = None
    duration_milliseconds: int | None = None


class NBest(ResponseModel):
    confidence: float
    lexical: str
    itn: str
    masked_itn: str = Field(alias="maskedITN")
    display: str
    words: list[Word] | None = None
    display_words: list[DisplayWord] | None = None


class RecognizedPhrase(ResponseModel):
    recognition_status: str
    channel: int
    speaker: int | None = None
    locale: str | None = None
    offset: str | None = None
    duration: str | None = None
    offset_in_ticks: float | None = None
    duration_in_ticks: float | None = None
    offset_milliseconds: int | None = None
    duration_milliseconds: int | None = None
    n_best: list[NBest] | None = None  # none, or an empty list, when the phrase was not recognised


class CombinedPhrase(ResponseModel):
    channel: int
    lexical: str
    itn: str
    masked_itn: str = Field(alias="maskedITN")
    display: str


class TranscriptHeader(ResponseModel):
    """The leading scalar fields of a Transcription file (the emulator streams the lists after them)."""

    source: str
    timestamp: str
    duration_in_ticks: int
    duration_milliseconds: int | None = None
    duration: str


class TranscriptResult(TranscriptHeader):
    """A whole Transcription file; what clients parse (and what the conformance tests validate against)."""

    combined_recognized_phrases: list[CombinedPhrase]
    recognized_phrases: list[RecognizedPhrase]


class ReportDetail(ResponseModel):
    source: str
    status: Literal["Succeeded", "Failed"]
    error_kind: str | None = None
    error_message: str | None = None


class TranscriptionReport(ResponseModel):
    successful_transcriptions_count: int
    failed_transcriptions_count: int
    details: list[ReportDetail]
