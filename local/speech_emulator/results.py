"""Deterministic result-file content: Transcription files and report.json.

Everything here is pure: the same input URL (see inputs.py) and options always give the same phrases, so tests
can predict what a harvester must copy. Phrase i is generated from its own seeded RNG and sits in its own
4-second slot of the audio, so any phrase can be produced without the ones before it.

A Transcription file lists combinedRecognizedPhrases (every phrase's text joined, per channel) before
recognizedPhrases, but with `bytes=N` the number of phrases is only known once enough bytes were produced.
The generator therefore writes phrases and combined texts into spooled temporary files (memory up to a few MB,
then disk) in one pass and streams the document out of them afterwards: memory stays bounded for files of
hundreds of MB.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from pydantic import BaseModel

from local.speech_emulator.inputs import Knobs
from local.speech_emulator.isotime import TICKS_PER_MILLISECOND, TICKS_PER_SECOND, ticks_to_iso
from local.speech_emulator.store import Options
from local.speech_emulator.wire import (
    DisplayWord,
    NBest,
    RecognizedPhrase,
    ReportDetail,
    TranscriptHeader,
    TranscriptionReport,
    Word,
)

SLOT_TICKS = 4 * TICKS_PER_SECOND
# Rough size of one serialised phrase; only used to estimate a `bytes=` input's audio duration up front.
NOMINAL_PHRASE_BYTES = 900
_TEN_MS = 100_000
_SPOOL_BYTES = 4 * 1024 * 1024
_READ_BYTES = 1024 * 1024
_COMBINED_FIELDS = ("lexical", "itn", "maskedITN", "display")

_VOCABULARY = tuple(
    [
        "hello",
        "world",
        "thanks",
        "for",
        "calling",
        "the",
        "support",
        "line",
        "my",
        "order",
        "number",
        "is",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "please",
        "confirm",
        "delivery",
        "address",
        "account",
        "payment",
        "invoice",
        "today",
        "tomorrow",
        "morning",
        "afternoon",
        "meeting",
        "schedule",
        "agenda",
        "project",
        "update",
        "weather",
        "forecast",
        "rain",
        "sunny",
        "cloudy",
        "customer",
        "service",
        "manager",
        "team",
        "report",
        "quarter",
        "budget",
        "review",
        "question",
        "answer",
        "again",
        "sorry",
        "could",
        "you",
        "repeat",
        "that",
        "sure",
        "of",
        "course",
        "great",
        "perfect",
        "right",
        "okay",
        "yes",
        "no",
        "maybe",
        "later",
        "call",
        "back",
        "email",
        "message",
        "text",
        "phone",
        "ticket",
        "issue",
        "resolved",
        "open",
        "closed",
        "priority",
        "high",
        "low",
        "medium",
        "system",
        "network",
        "password",
        "reset",
        "login",
        "access",
        # Real files are UTF-8 with any script in them.
        "café",
        "Zürich",
        "naïve",
        "résumé",
        "Ελλάδα",
        "привет",
        "東京",
    ]
)
_NUMBERS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}  # fmt: skip


@dataclass(frozen=True)
class TranscriptOptions:
    """What shapes one input's Transcription file."""

    channels: tuple[int, ...]
    words: bool
    display_words: bool
    max_speakers: int | None
    candidate_locales: tuple[str, ...]
    punctuation: bool
    duration_milliseconds: bool  # 2024-11-15 and later: the header, phrases and words carry milliseconds too
    # The shapes real files take, from the input's knobs (inputs.Knobs).
    pretty: bool = False
    empty_every: int = 0
    nomatch_every: int = 0
    long_every: int = 0
    by_channel: bool = False
    ms_only: bool = False


def transcript_options(options: Options, knobs: Knobs, *, duration_milliseconds: bool) -> TranscriptOptions:
    """Channels are those the audio has (stereo names have two) that the job asked to transcribe."""
    audio_channels = (0, 1) if knobs.stereo else (0,)
    language_id = options.language_id
    return TranscriptOptions(
        channels=tuple(channel for channel in audio_channels if channel in options.channels),
        words=options.word_level_timestamps,
        display_words=options.display_word_timestamps,
        max_speakers=options.max_speakers,
        candidate_locales=language_id.candidate_locales if language_id else (),
        punctuation=options.punctuation_mode != "None",
        duration_milliseconds=duration_milliseconds,
        pretty=knobs.pretty,
        empty_every=knobs.empty_every,
        nomatch_every=knobs.nomatch_every,
        long_every=knobs.long_every,
        by_channel=knobs.by_channel,
        ms_only=knobs.ms_only and duration_milliseconds,
    )


def audio_ticks(knobs: Knobs, options: TranscriptOptions) -> int:
    """The input's audio length as the job reports it (for `bytes=` inputs an estimate made before generating)."""
    if not options.channels:
        return 0
    if knobs.bytes is None:
        return knobs.phrases * SLOT_TICKS
    return -(-knobs.bytes // NOMINAL_PHRASE_BYTES) * SLOT_TICKS


def _display(words: list[str], punctuation: bool, rng: random.Random) -> str:
    text = " ".join(words)
    text = text[:1].upper() + text[1:]
    return text + rng.choice((".", ".", "?")) if punctuation else text


def _itn(words: list[str]) -> list[str]:
    return [_NUMBERS.get(word, word) for word in words]


def _every(every: int, index: int) -> bool:
    return every > 0 and index % every == every - 1


@dataclass(frozen=True)
class _Drawn:
    """The random choices behind phrase `index`, before they take a version's shape."""

    rng: random.Random
    channel: int
    lexical_words: list[str]
    itn_words: list[str]
    display: str
    start: int  # ticks
    spans: list[int]  # of each word, in ticks


def _draw(seed: str, index: int, options: TranscriptOptions) -> _Drawn:
    rng = random.Random(f"{seed}#{index}")
    channel = options.channels[index % len(options.channels)]
    count = rng.randint(2, 8) if not _every(options.long_every, index) else rng.randint(40, 60)
    lexical_words = [rng.choice(_VOCABULARY) for _ in range(count)]
    itn_words = _itn(lexical_words)
    display = _display(itn_words, options.punctuation, rng)
    start = index * SLOT_TICKS + rng.randint(1, 5) * _TEN_MS
    spans = [rng.randint(25, 40) * _TEN_MS for _ in lexical_words]
    return _Drawn(rng, channel, lexical_words, itn_words, display, start, spans)


def utterance_at(seed: str, index: int) -> tuple[str, int, int]:
    """(display text, offset, duration in ticks) of a one-channel phrase: a conversation's utterance."""
    drawn = _draw(seed, index, _ONE_CHANNEL)
    return drawn.display, drawn.start, sum(drawn.spans)


def _times(offset: int, duration: int, options: TranscriptOptions) -> dict[str, Any]:
    """A time in the spellings the version writes (`times=ms`: milliseconds only)."""
    times: dict[str, Any] = {}
    if not options.ms_only:
        times.update(
            offset=ticks_to_iso(offset),
            duration=ticks_to_iso(duration),
            offset_in_ticks=float(offset),
            duration_in_ticks=float(duration),
        )
    if options.duration_milliseconds:
        times.update(
            offset_milliseconds=offset // TICKS_PER_MILLISECOND,
            duration_milliseconds=duration // TICKS_PER_MILLISECOND,
        )
    return times


def phrase_at(seed: str, index: int, options: TranscriptOptions) -> RecognizedPhrase:
    drawn = _draw(seed, index, options)
    rng, lexical_words, itn_words, display, start, spans = (
        drawn.rng,
        drawn.lexical_words,
        drawn.itn_words,
        drawn.display,
        drawn.start,
        drawn.spans,
    )
    offsets = [start + sum(spans[:position]) for position in range(len(spans))]
    duration = sum(spans)
    if _every(options.nomatch_every, index):
        # Not recognised: real files either leave nBest out or write an empty list.
        return RecognizedPhrase(
            recognition_status="NoMatch",
            channel=drawn.channel,
            speaker=_speaker(rng, options),
            locale=_locale(rng, options),
            n_best=[] if index // options.nomatch_every % 2 else None,
            **_times(start, duration, options),
        )
    if _every(options.empty_every, index):
        # Silence recognised as an empty phrase.
        empty = NBest(confidence=0.0, lexical="", itn="", masked_itn="", display="")
        return RecognizedPhrase(
            recognition_status="Success",
            channel=drawn.channel,
            speaker=_speaker(rng, options),
            locale=_locale(rng, options),
            n_best=[empty],
            **_times(start, duration, options),
        )
    best = NBest(
        confidence=round(rng.uniform(0.6, 0.97), 7),
        lexical=" ".join(lexical_words),
        itn=" ".join(itn_words),
        masked_itn=" ".join(itn_words),
        display=display,
    )
    if options.words:
        best.words = [
            Word(word=word, confidence=round(rng.uniform(0.5, 1.0), 7), **_times(offset, span, options))
            for word, offset, span in zip(lexical_words, offsets, spans, strict=True)
        ]
    if options.display_words:
        best.display_words = [
            DisplayWord(display_text=token, **_times(offset, span, options))
            for token, offset, span in zip(display.split(" "), offsets, spans, strict=True)
        ]
    alternates = []
    for _ in range(rng.randint(0, 2)):
        variant = list(lexical_words)
        variant[rng.randrange(len(variant))] = rng.choice(_VOCABULARY)
        variant_itn = _itn(variant)
        alternates.append(
            NBest(
                confidence=round(rng.uniform(0.1, best.confidence), 7),
                lexical=" ".join(variant),
                itn=" ".join(variant_itn),
                masked_itn=" ".join(variant_itn),
                display=" ".join(variant_itn),
            )
        )
    return RecognizedPhrase(
        recognition_status="Success",
        channel=drawn.channel,
        speaker=_speaker(rng, options),
        locale=_locale(rng, options),
        n_best=[best, *alternates],
        **_times(start, duration, options),
    )


def _speaker(rng: random.Random, options: TranscriptOptions) -> int | None:
    return rng.randint(1, options.max_speakers) if options.max_speakers else None


def _locale(rng: random.Random, options: TranscriptOptions) -> str | None:
    return rng.choice(options.candidate_locales) if options.candidate_locales else None


_ONE_CHANNEL = TranscriptOptions(
    channels=(0,),
    words=False,
    display_words=False,
    max_speakers=None,
    candidate_locales=(),
    punctuation=True,
    duration_milliseconds=False,
)


def _drain(spool: IO[bytes]) -> Iterator[bytes]:
    spool.seek(0)
    while chunk := spool.read(_READ_BYTES):
        yield chunk


def _json_text(text: str) -> bytes:
    return json.dumps(text, ensure_ascii=False)[1:-1].encode()


class _Layout:
    """Compact JSON, or indented by two spaces per level (`pretty=1`) as some real files are."""

    def __init__(self, pretty: bool) -> None:
        self.pretty = pretty

    def newline(self, level: int) -> bytes:
        return b"\n" + b"  " * level if self.pretty else b""

    def key(self, name: str) -> bytes:
        return f'"{name}": '.encode() if self.pretty else f'"{name}":'.encode()

    def value(self, model: BaseModel, level: int) -> bytes:
        """A model serialised at nesting `level` (0 at the top)."""
        if not self.pretty:
            return model.model_dump_json(exclude_none=True).encode()
        text = json.dumps(model.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False)
        return text.replace("\n", "\n" + "  " * level).encode()


def transcript_chunks(
    source: str, timestamp: str, knobs: Knobs, options: TranscriptOptions
) -> Iterator[bytes]:
    """The Transcription file for one input, as a stream of byte chunks.

    `phrases=N` gives exactly N phrases (spread over the channels in turn); `bytes=N` keeps adding phrases until
    the phrase and combined-text bytes reach N, so the whole file is at least N bytes.
    """
    layout = _Layout(options.pretty)
    with ExitStack() as stack:

        def spool() -> IO[bytes]:
            return stack.enter_context(SpooledTemporaryFile(max_size=_SPOOL_BYTES))

        # One phrase list, or one per channel when the file lists a channel's phrases after the other's.
        phrase_spools = {channel: spool() for channel in options.channels} if options.by_channel else {}
        phrases_out = spool()
        combined = {channel: {name: spool() for name in _COMBINED_FIELDS} for channel in options.channels}
        count = produced = end = 0
        while options.channels and (count < knobs.phrases if knobs.bytes is None else produced < knobs.bytes):
            phrase = phrase_at(knobs.seed, count, options)
            data = layout.value(phrase, 2)
            out = phrase_spools.get(phrase.channel, phrases_out)
            separator = b"," + layout.newline(2)
            produced += out.write(separator + data if out.tell() else data)
            best = phrase.n_best[0] if phrase.n_best else None
            start, length = _phrase_span(phrase)
            end = max(end, start + length)
            count += 1
            if best is None or not best.display:
                continue
            for name, text in zip(
                _COMBINED_FIELDS, (best.lexical, best.itn, best.masked_itn, best.display), strict=False
            ):
                out = combined[phrase.channel][name]
                piece = _json_text(text)
                produced += out.write(b" " + piece if out.tell() else piece)
        # Long phrases may run past their slot: the audio lasts until the last one ends.
        ticks = max(count * SLOT_TICKS, end)
        header = TranscriptHeader(
            source=source,
            timestamp=timestamp,
            duration_in_ticks=ticks,
            duration_milliseconds=ticks // TICKS_PER_MILLISECOND if options.duration_milliseconds else None,
            duration=ticks_to_iso(ticks),
        )
        yield layout.value(header, 0)[:-1].rstrip() + b"," + layout.newline(1)
        yield layout.key("combinedRecognizedPhrases") + b"["
        for position, channel in enumerate(options.channels):
            yield (b"," if position else b"") + layout.newline(2) + b"{" + layout.newline(3)
            yield layout.key("channel") + str(channel).encode()
            for name in _COMBINED_FIELDS:
                yield b"," + layout.newline(3) + layout.key(name) + b'"'
                yield from _drain(combined[channel][name])
                yield b'"'
            yield layout.newline(2) + b"}"
        yield layout.newline(1) + b"]," + layout.newline(1) + layout.key("recognizedPhrases") + b"["
        spools = [phrase_spools[channel] for channel in options.channels] if phrase_spools else [phrases_out]
        first = True
        for phrases in spools:
            if not phrases.tell():
                continue
            yield (b"" if first else b",") + layout.newline(2)
            first = False
            yield from _drain(phrases)
        yield layout.newline(1) + b"]" + layout.newline(0) + b"}"


def _phrase_span(phrase: RecognizedPhrase) -> tuple[int, int]:
    """A generated phrase's offset and duration in ticks, whichever spelling it carries."""
    if phrase.offset_in_ticks is not None and phrase.duration_in_ticks is not None:
        return int(phrase.offset_in_ticks), int(phrase.duration_in_ticks)
    return (phrase.offset_milliseconds or 0) * TICKS_PER_MILLISECOND, (
        phrase.duration_milliseconds or 0
    ) * TICKS_PER_MILLISECOND


def report_bytes(details: list[ReportDetail]) -> bytes:
    succeeded = sum(1 for detail in details if detail.status == "Succeeded")
    report = TranscriptionReport(
        successful_transcriptions_count=succeeded,
        failed_transcriptions_count=len(details) - succeeded,
        details=details,
    )
    return report.model_dump_json(exclude_none=True).encode()
