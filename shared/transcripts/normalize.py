"""From the service's phrase to the normalised Phrase: best candidate only, ticks to seconds, words if timed."""

from math import isfinite
from typing import Any

from shared.transcripts.model import Phrase
from shared.transcripts.timing import TICKS_PER_SECOND, ticks
from shared.transcripts.wire import DisplayWord, NBest, RecognizedPhrase, Word


class UnusablePhrase(ValueError):
    """A phrase that validated but cannot be placed in time."""


# The normalised phrase as plain values, keyed and ordered like the `Phrase` schema: the harvest's hot path
# serialises and spools these without building a model (the values come from a validated wire phrase, so a
# second validation would check nothing new); `normalize_phrase` turns them into the model.
PhraseFields = dict[str, Any]


def normalize_phrase(wire: RecognizedPhrase) -> Phrase:
    return Phrase.model_validate(phrase_fields(wire))


def phrase_fields(wire: RecognizedPhrase) -> PhraseFields:
    start = ticks(wire.offset_in_ticks, wire.offset)
    if start is None:
        raise UnusablePhrase("offset missing")
    duration = ticks(wire.duration_in_ticks, wire.duration)
    if duration is None:
        raise UnusablePhrase("duration missing")
    best = wire.n_best[0]
    return {
        "start": start / TICKS_PER_SECOND,
        "end": (start + duration) / TICKS_PER_SECOND,
        "channel": wire.channel,
        "speaker": None if wire.speaker is None else str(wire.speaker),
        "locale": wire.locale,
        "display": best.display or "",
        "lexical": best.lexical or "",
        "confidence": best.confidence,
        "words": _words(best),
    }


def _words(best: NBest) -> list[dict[str, Any]] | None:
    """Lexical words when present, else display words; None when neither is there or a timing is missing
    (a partial timeline would mislead captions more than none). Runs per word, so kept lean."""
    timed: list[Word] | list[DisplayWord] | None = best.words or best.display_words
    if not timed:
        return None
    words = []
    for word in timed:
        start, length = word.offset_in_ticks, word.duration_in_ticks
        if start is None or length is None or not isfinite(start + length):
            start, length = ticks(start, word.offset), ticks(length, word.duration)
            if start is None or length is None:
                return None
        words.append(
            {
                "text": word.text,
                "start": start / TICKS_PER_SECOND,
                "end": (start + length) / TICKS_PER_SECOND,
                "confidence": word.confidence,
            }
        )
    return words
