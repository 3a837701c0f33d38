"""The normalised transcript schema: what the derived `transcript/<stem>.json` holds, versioned.

One shape for every kind of source (stereo calls, diarization, language identification, Whisper display-only
results, conversations), so consumers never read the service's result format. Times are seconds from the
start of the audio. Field names are camelCase on the wire, like every JSON document the app publishes.
Bump SCHEMA_VERSION on any change a reader could notice; additions bump the minor part.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

SCHEMA_VERSION = "2.0"


class _Schema(BaseModel):
    # Forbid unknown fields: a document that does not match this schema exactly is not ours.
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class Word(_Schema):
    text: str
    start: float
    end: float
    confidence: float | None = None


class Phrase(_Schema):
    """One recognised phrase, from the best recognition candidate only."""

    start: float
    end: float
    channel: int | None = None
    speaker: str | None = None
    locale: str | None = None
    display: str
    lexical: str = ""
    confidence: float | None = None
    # Word timings as the result has them: lexical `words` (wordLevelTimestampsEnabled) and display-form
    # words (displayFormWordLevelTimestampsEnabled, no confidence); None when the result has none.
    words: list[Word] | None = None
    display_words: list[Word] | None = None

    @property
    def text(self) -> str:
        return shown_text(self.display, self.lexical)


def shown_text(display: str, lexical: str) -> str:
    """What a reader sees: the display form, or the lexical form when a result has no display text."""
    return display if display.strip() else lexical


class Channel(_Schema):
    channel: int
    label: str | None = None


class TranscriptHeader(_Schema):
    schema_version: str = SCHEMA_VERSION
    kind: Literal["transcription", "conversation"] = "transcription"
    source: str | None = None  # the input audio's URL, without any SAS
    timestamp: str | None = None  # when the service wrote the result, as it wrote it
    duration_seconds: float | None = None
    locale: str | None = None
    locales: list[str] = Field(default_factory=list)  # identified locales, first seen first
    channels: list[Channel] = Field(default_factory=list)
    speakers: list[str] = Field(default_factory=list)


class Transcript(TranscriptHeader):
    """The whole derived JSON document (rendered as a stream; this model reads it back)."""

    phrases: list[Phrase]
