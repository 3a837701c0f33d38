"""The Speech batch transcription result file (`kind: Transcription`), as the service writes it.

Tolerant on purpose: the service adds fields between versions (accepted, never rejected), leaves out what a
request did not ask for (word timings, speakers, locales), may write nulls, writes ticks as floats
(7600000.0), 2024-11-15 and later may add `offsetMilliseconds`/`durationMilliseconds`, and Whisper models
leave `lexical` empty. Only what makes a phrase unusable is an error: no `nBest` candidate, a confidence that
is not a finite number (JSON can spell 1e400). Times may be infinite here: normalize falls back to another
spelling of the same time.
The parser validates one RecognizedPhrase at a time and the header scalars through ResultFile; the raw file
itself is always kept byte-exact, so nothing here needs to round-trip.
"""

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """snake_case in Python, camelCase on the wire. Unknown fields are accepted but not kept: the raw copy
    keeps them, and carrying them through every phrase and word would cost a fifth of the parse time."""

    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True)


class Word(WireModel):
    """A lexical word (`wordLevelTimestampsEnabled`)."""

    word: str | None = None
    offset: str | None = None
    duration: str | None = None
    offset_in_ticks: float | None = None
    duration_in_ticks: float | None = None
    offset_milliseconds: float | None = None
    duration_milliseconds: float | None = None
    confidence: FiniteFloat | None = None

    @property
    def text(self) -> str:
        return self.word or ""


class DisplayWord(WireModel):
    """A display-form word (`displayFormWordLevelTimestampsEnabled`)."""

    display_text: str | None = None
    offset: str | None = None
    duration: str | None = None
    offset_in_ticks: float | None = None
    duration_in_ticks: float | None = None
    offset_milliseconds: float | None = None
    duration_milliseconds: float | None = None
    confidence: FiniteFloat | None = None  # not written today; here so both kinds of word read alike

    @property
    def text(self) -> str:
        return self.display_text or ""


class NBest(WireModel):
    """One recognition candidate; the first is the best."""

    confidence: FiniteFloat | None = None
    lexical: str | None = None
    itn: str | None = None
    masked_itn: str | None = Field(default=None, alias="maskedITN")
    display: str | None = None
    words: list[Word] | None = None
    display_words: list[DisplayWord] | None = None


class RecognizedPhrase(WireModel):
    recognition_status: str | None = None  # "Success"; failure spellings are not unified, so an open string
    channel: int | None = None
    speaker: int | str | None = None  # diarization only
    locale: str | None = None  # language identification only
    offset: str | None = None
    duration: str | None = None
    offset_in_ticks: float | None = None
    duration_in_ticks: float | None = None
    offset_milliseconds: float | None = None
    duration_milliseconds: float | None = None
    n_best: list[NBest] = Field(min_length=1)


class CombinedPhrase(WireModel):
    """The whole text of one channel; the parser skips these (they repeat the phrases)."""

    channel: int | None = None
    lexical: str | None = None
    itn: str | None = None
    masked_itn: str | None = Field(default=None, alias="maskedITN")
    display: str | None = None


class ResultFile(WireModel):
    """The whole file. Streaming validates the header scalars through this model, without the two lists."""

    source: str | None = None
    timestamp: str | None = None
    duration_in_ticks: float | None = None
    duration_milliseconds: float | None = None
    duration: str | None = None
    combined_recognized_phrases: list[CombinedPhrase] = Field(default_factory=list)
    recognized_phrases: list[RecognizedPhrase] = Field(default_factory=list)
