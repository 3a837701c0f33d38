"""From the service's phrase to the normalised Phrase: best candidate only, times to seconds, words if timed."""

from collections.abc import Sequence
from math import isfinite
from typing import Any, cast

from shared.transcripts.model import Phrase
from shared.transcripts.timing import TICKS_PER_SECOND, ticks
from shared.transcripts.wire import RecognizedPhrase


class UnusablePhrase(ValueError):
    """A phrase that validated but cannot be placed in time."""


# The normalised phrase as plain values, keyed and ordered like the `Phrase` schema on the wire: the harvest's
# hot path serialises and spools these without building a model (the values come from a validated wire
# phrase, so a second validation would check nothing new); `normalize_phrase` turns them into the model.
PhraseFields = dict[str, Any]


def normalize_phrase(wire: RecognizedPhrase) -> Phrase:
    return Phrase.model_validate(phrase_fields(wire))


def phrase_fields(wire: RecognizedPhrase) -> PhraseFields:
    start = ticks(wire.get("offsetInTicks"), wire.get("offset"), wire.get("offsetMilliseconds"))
    if start is None:
        raise UnusablePhrase("offset missing")
    duration = ticks(wire.get("durationInTicks"), wire.get("duration"), wire.get("durationMilliseconds"))
    if duration is None:
        raise UnusablePhrase("duration missing")
    if start < 0 or duration < 0:
        raise UnusablePhrase(f"negative {'offset' if start < 0 else 'duration'}")
    best = wire["nBest"][0]
    speaker = wire.get("speaker")
    return {
        "start": start / TICKS_PER_SECOND,
        "end": (start + duration) / TICKS_PER_SECOND,
        "channel": wire.get("channel"),
        "speaker": None if speaker is None else str(speaker),
        "locale": wire.get("locale"),
        "display": best.get("display") or "",
        "lexical": best.get("lexical") or "",
        "confidence": best.get("confidence"),
        "words": _words(cast(_Words, best.get("words")), "words", "word"),
        "displayWords": _words(cast(_Words, best.get("displayWords")), "displayWords", "displayText"),
    }


# Both kinds of word, read alike (`key` names the text).
_Words = Sequence[dict[str, Any]] | None


def _words(timed: _Words, name: str, key: str) -> list[dict[str, Any]] | None:
    """The words with their times in seconds; None when there are none or a timing is missing (a partial
    timeline would mislead captions more than none). Runs per word, so kept lean."""
    if not timed:
        return None
    words = []
    for index, word in enumerate(timed):
        get = word.get
        start, length = get("offsetInTicks"), get("durationInTicks")
        if start is None or length is None or not isfinite(start + length):
            start = ticks(start, get("offset"), get("offsetMilliseconds"))
            length = ticks(length, get("duration"), get("durationMilliseconds"))
            if start is None or length is None:
                return None
        if start < 0 or length < 0:
            raise UnusablePhrase(
                f"nBest[0].{name}[{index}]: negative {'offset' if start < 0 else 'duration'}"
            )
        words.append(
            {
                "text": get(key) or "",
                "start": start / TICKS_PER_SECOND,
                "end": (start + length) / TICKS_PER_SECOND,
                "confidence": get("confidence"),
            }
        )
    return words
