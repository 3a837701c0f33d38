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
from typing import IO

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
    duration_milliseconds: bool


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


def _timed(ticks: int) -> tuple[str, float]:
    return ticks_to_iso(ticks), float(ticks)


def phrase_at(seed: str, index: int, options: TranscriptOptions) -> RecognizedPhrase:
    rng = random.Random(f"{seed}#{index}")
    channel = options.channels[index % len(options.channels)]
    lexical_words = [rng.choice(_VOCABULARY) for _ in range(rng.randint(2, 8))]
    itn_words = _itn(lexical_words)
    display = _display(itn_words, options.punctuation, rng)
    start = index * SLOT_TICKS + rng.randint(1, 5) * _TEN_MS
    spans = [rng.randint(25, 40) * _TEN_MS for _ in lexical_words]
    offsets = [start + sum(spans[:position]) for position in range(len(spans))]
    best = NBest(
        confidence=round(rng.uniform(0.6, 0.97), 7),
        lexical=" ".join(lexical_words),
        itn=" ".join(itn_words),
        masked_itn=" ".join(itn_words),
        display=display,
    )
    if options.words:
        best.words = [
            Word(
                word=word,
                offset=ticks_to_iso(offset),
                duration=ticks_to_iso(span),
                offset_in_ticks=float(offset),
                duration_in_ticks=float(span),
                confidence=round(rng.uniform(0.5, 1.0), 7),
            )
            for word, offset, span in zip(lexical_words, offsets, spans, strict=True)
        ]
    if options.display_words:
        best.display_words = [
            DisplayWord(
                display_text=token,
                offset=ticks_to_iso(offset),
                duration=ticks_to_iso(span),
                offset_in_ticks=float(offset),
                duration_in_ticks=float(span),
            )
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
    duration = sum(spans)
    return RecognizedPhrase(
        recognition_status="Success",
        channel=channel,
        speaker=rng.randint(1, options.max_speakers) if options.max_speakers else None,
        locale=rng.choice(options.candidate_locales) if options.candidate_locales else None,
        offset=ticks_to_iso(start),
        duration=ticks_to_iso(duration),
        offset_in_ticks=float(start),
        duration_in_ticks=float(duration),
        n_best=[best, *alternates],
    )


def _drain(spool: IO[bytes]) -> Iterator[bytes]:
    spool.seek(0)
    while chunk := spool.read(_READ_BYTES):
        yield chunk


def _json_text(text: str) -> bytes:
    return json.dumps(text, ensure_ascii=False)[1:-1].encode()


def transcript_chunks(
    source: str, timestamp: str, knobs: Knobs, options: TranscriptOptions
) -> Iterator[bytes]:
    """The Transcription file for one input, as a stream of byte chunks.

    `phrases=N` gives exactly N phrases (spread over the channels in turn); `bytes=N` keeps adding phrases until
    the phrase and combined-text bytes reach N, so the whole file is at least N bytes.
    """
    with ExitStack() as stack:

        def spool() -> IO[bytes]:
            return stack.enter_context(SpooledTemporaryFile(max_size=_SPOOL_BYTES))

        phrases_out = spool()
        combined = {channel: {name: spool() for name in _COMBINED_FIELDS} for channel in options.channels}
        count = produced = 0
        while options.channels and (count < knobs.phrases if knobs.bytes is None else produced < knobs.bytes):
            phrase = phrase_at(knobs.seed, count, options)
            data = phrase.model_dump_json(exclude_none=True).encode()
            produced += phrases_out.write(b"," + data if count else data)
            best = phrase.n_best[0]
            for name, text in zip(
                _COMBINED_FIELDS, (best.lexical, best.itn, best.masked_itn, best.display), strict=False
            ):
                out = combined[phrase.channel][name]
                piece = _json_text(text)
                produced += out.write(b" " + piece if out.tell() else piece)
            count += 1
        ticks = count * SLOT_TICKS
        header = TranscriptHeader(
            source=source,
            timestamp=timestamp,
            duration_in_ticks=ticks,
            duration_milliseconds=ticks // TICKS_PER_MILLISECOND if options.duration_milliseconds else None,
            duration=ticks_to_iso(ticks),
        ).model_dump_json(exclude_none=True)
        yield header[:-1].encode() + b',"combinedRecognizedPhrases":['
        for position, channel in enumerate(options.channels):
            yield (b',{"channel":' if position else b'{"channel":') + str(channel).encode()
            for name in _COMBINED_FIELDS:
                yield f',"{name}":"'.encode()
                yield from _drain(combined[channel][name])
                yield b'"'
            yield b"}"
        yield b'],"recognizedPhrases":['
        yield from _drain(phrases_out)
        yield b"]}"


def report_bytes(details: list[ReportDetail]) -> bytes:
    succeeded = sum(1 for detail in details if detail.status == "Succeeded")
    report = TranscriptionReport(
        successful_transcriptions_count=succeeded,
        failed_transcriptions_count=len(details) - succeeded,
        details=details,
    )
    return report.model_dump_json(exclude_none=True).encode()
