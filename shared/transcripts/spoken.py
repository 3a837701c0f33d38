"""What the renderers read of a phrase, cheap to build: the hot path of a harvest renders every phrase of a
result file four times over, and pydantic models cost several microseconds each to build or to read back.

A Spoken carries the phrase's normalised JSON (`line`, exactly as the `Phrase` schema serialises it, so the
JSON renderer copies it), and for the text and caption renderers only the fields they use, with word timings
as the plain dicts the parser made (captions read them only for phrases too long for one cue). `Spoken.of`
builds one from a `Phrase`, `Spoken.of_fields` from the parser's plain values (the hot path).
"""

from typing import NamedTuple, TypedDict

from pydantic_core import to_json

from shared.transcripts.model import Phrase, shown_text
from shared.transcripts.normalize import PhraseFields


class TimedWord(TypedDict):
    """A timed word as normalize.phrase_fields makes it (its confidence is not read here)."""

    text: str
    start: float  # seconds
    end: float


class Spoken(NamedTuple):
    start: float
    end: float
    channel: int | None
    speaker: str | None
    text: str  # the display form, or the lexical form when there is no display text
    # Word timings for captions: display words when the result has them (they spell the displayed text),
    # else lexical words.
    words: list[TimedWord] | None
    line: bytes

    @classmethod
    def of(cls, phrase: Phrase) -> "Spoken":
        timed = phrase.display_words or phrase.words
        words: list[TimedWord] | None = None
        if timed is not None:
            words = [{"text": word.text, "start": word.start, "end": word.end} for word in timed]
        return cls(
            phrase.start,
            phrase.end,
            phrase.channel,
            phrase.speaker,
            phrase.text,
            words,
            phrase.model_dump_json().encode(),
        )

    @classmethod
    def of_fields(cls, fields: PhraseFields) -> "Spoken":
        """From a normalised phrase as plain values (normalize.phrase_fields), already valid: no model."""
        return cls(
            fields["start"],
            fields["end"],
            fields["channel"],
            fields["speaker"],
            shown_text(fields["display"], fields["lexical"]),
            fields["displayWords"] or fields["words"],
            to_json(fields),
        )
