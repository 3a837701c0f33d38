"""From the service's phrase to the normalised Phrase: best candidate only, times to seconds, words if timed."""

from collections.abc import Sequence
from math import isfinite
from typing import Any

from shared.transcripts.model import Phrase
from shared.transcripts.timing import TICKS_PER_SECOND, ticks
from shared.transcripts.wire import DisplayWord, RecognizedPhrase, Word


class UnusablePhrase(ValueError):
    """A phrase that validated but cannot be placed in time."""


# The normalised phrase as plain values, keyed and ordered like the `Phrase` schema on the wire: the harvest's
# hot path serialises and spools these without building a model (the values come from a validated wire
# phrase, so a second validation would check nothing new); `normalize_phrase` turns them into the model.
PhraseFields = dict[str, Any]


def normalize_phrase(wire: RecognizedPhrase) -> Phrase:
    return Phrase.model_validate(phrase_fields(wire))


def phrase_fields(wire: RecognizedPhrase) -> PhraseFields:
    start = ticks(wire.offset_in_ticks, wire.offset, wire.offset_milliseconds)
    if start is None:
        raise UnusablePhrase("offset missing")
    duration = ticks(wire.duration_in_ticks, wire.duration, wire.duration_milliseconds)
    if duration is None:
        raise UnusablePhrase("duration missing")
    if start < 0 or duration < 0:
        raise UnusablePhrase(f"negative {'offset' if start < 0 else 'duration'}")
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
        "words": _words(best.words, "words"),
        "displayWords": _words(best.display_words, "displayWords"),
    }


def _words(timed: Sequence[Word | DisplayWord] | None, name: str) -> list[dict[str, Any]] | None:
    """The words with their times in seconds; None when there are none or a timing is missing (a partial
    timeline would mislead captions more than none). Runs per word, so kept lean."""
    if not timed:
        return None
    words = []
    for index, word in enumerate(timed):
        start, length = word.offset_in_ticks, word.duration_in_ticks
        if start is None or length is None or not isfinite(start + length):
            start = ticks(start, word.offset, word.offset_milliseconds)
            length = ticks(length, word.duration, word.duration_milliseconds)
            if start is None or length is None:
                return None
        if start < 0 or length < 0:
            raise UnusablePhrase(
                f"nBest[0].{name}[{index}]: negative {'offset' if start < 0 else 'duration'}"
            )
        words.append(
            {
                "text": word.text,
                "start": start / TICKS_PER_SECOND,
                "end": (start + length) / TICKS_PER_SECOND,
                "confidence": word.confidence,
            }
        )
    return words
