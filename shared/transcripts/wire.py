"""The Speech batch transcription result file (`kind: Transcription`), as the service writes it.

Tolerant on purpose: the service adds fields between versions (accepted, never rejected), leaves out what a
request did not ask for (word timings, speakers, locales), may write nulls, writes ticks as floats
(7600000.0), 2024-11-15 and later may add `offsetMilliseconds`/`durationMilliseconds`, and Whisper models
leave `lexical` empty. Only what makes a phrase unusable is an error: no `nBest` candidate, a confidence that
is not a finite number (JSON can spell 1e400). Times may be infinite here: normalize falls back to another
spelling of the same time.
The parser validates phrases (one at a time or in batches) and the header scalars through ResultFile; the raw file
itself is always kept byte-exact, so nothing here needs to round-trip.
"""

from typing import Annotated, Required

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, TypeAdapter
from pydantic.alias_generators import to_camel
from typing_extensions import TypedDict


class WireModel(BaseModel):
    """snake_case in Python, camelCase on the wire. Unknown fields are accepted but not kept: the raw copy
    keeps them, and carrying them through every phrase and word would cost a fifth of the parse time."""

    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True)


# A phrase and what it holds are TypedDicts that pydantic validates (PHRASE): they validate exactly like
# models, unknown keys ignored, but come out as plain dicts, which costs a third less per phrase than building
# a model for every phrase, candidate and word (bench.large_result; a 500 MB file holds millions of words).
# Runs of phrases are decoded against these same TypedDicts by msgspec (parse.py), which is stricter than
# pydantic and ignores its constraints: keep constraints few (nBest's min_length is checked there). Keys are
# the wire's own names.


class _Timed(TypedDict, total=False):
    offset: str | None
    duration: str | None
    offsetInTicks: float | None
    durationInTicks: float | None
    offsetMilliseconds: float | None
    durationMilliseconds: float | None
    confidence: FiniteFloat | None  # display words have none today; here so both kinds read alike


class Word(_Timed, total=False):
    """A lexical word (`wordLevelTimestampsEnabled`)."""

    word: str | None


class DisplayWord(_Timed, total=False):
    """A display-form word (`displayFormWordLevelTimestampsEnabled`)."""

    displayText: str | None


class NBest(TypedDict, total=False):
    """One recognition candidate; the first is the best."""

    confidence: FiniteFloat | None
    lexical: str | None
    itn: str | None
    maskedITN: str | None
    display: str | None
    words: list[Word] | None
    displayWords: list[DisplayWord] | None


class RecognizedPhrase(TypedDict, total=False):
    recognitionStatus: str | None  # "Success"; failure spellings are not unified, so an open string
    channel: int | None
    speaker: int | str | None  # diarization only
    locale: str | None  # language identification only
    offset: str | None
    duration: str | None
    offsetInTicks: float | None
    durationInTicks: float | None
    offsetMilliseconds: float | None
    durationMilliseconds: float | None
    nBest: Required[Annotated[list[NBest], Field(min_length=1)]]


PHRASE: TypeAdapter[RecognizedPhrase] = TypeAdapter(RecognizedPhrase)


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
