"""Result files built in the tests: python dicts shaped like the service's output, fed in random chunks."""

import json
import random
from collections.abc import Callable, Iterable
from typing import Any

TICKS = 10_000_000


def iso(seconds: float) -> str:
    return f"PT{seconds:.3f}S"


def timed_words(texts: list[str], start: float, end: float, *, display: bool = False) -> list[dict[str, Any]]:
    """Words spread evenly over [start, end], in the service's shape (ticks as floats, like the service)."""
    step = (end - start) / len(texts)
    words = []
    for index, text in enumerate(texts):
        begin = start + index * step
        word: dict[str, Any] = {
            "displayText" if display else "word": text,
            "offset": iso(begin),
            "duration": iso(step),
            "offsetInTicks": float(round(begin * TICKS)),
            "durationInTicks": float(round(step * TICKS)),
        }
        if not display:
            word["confidence"] = 0.9
        words.append(word)
    return words


def phrase(
    display: str,
    start: float,
    end: float,
    *,
    channel: int | None = 0,
    speaker: int | None = None,
    locale: str | None = None,
    lexical: str | None = None,
    words: str | None = None,
    alternatives: int = 0,
) -> dict[str, Any]:
    """A recognized phrase; `words` is None, "lexical" or "display" (which word timings it carries)."""
    lexical = display.lower().strip(".?!,") if lexical is None else lexical
    best: dict[str, Any] = {
        "confidence": 0.91,
        "lexical": lexical,
        "itn": lexical,
        "maskedITN": lexical,
        "display": display,
    }
    if words == "lexical":
        best["words"] = timed_words(lexical.split(), start, end)
    elif words == "display":
        best["displayWords"] = timed_words(display.split(), start, end, display=True)
    result: dict[str, Any] = {
        "recognitionStatus": "Success",
        "offset": iso(start),
        "duration": iso(end - start),
        "offsetInTicks": float(round(start * TICKS)),
        "durationInTicks": float(round((end - start) * TICKS)),
        "nBest": [best] + [dict(best, confidence=0.1, display=f"{display} {n}") for n in range(alternatives)],
    }
    if channel is not None:
        result["channel"] = channel
    if speaker is not None:
        result["speaker"] = speaker
    if locale is not None:
        result["locale"] = locale
    return result


def result(
    phrases: list[dict[str, Any]],
    *,
    source: str | None = "https://store.blob.core.windows.net/audio/call-0042.wav?sv=2024&sig=SECRET",
    duration: float = 60.0,
    header_last: bool = False,
) -> dict[str, Any]:
    header: dict[str, Any] = {
        "timestamp": "2025-05-24T13:37:05Z",
        "durationInTicks": duration * TICKS,
        "durationMilliseconds": int(duration * 1000),
        "duration": iso(duration),
    }
    if source is not None:
        header["source"] = source
    channels = sorted({p["channel"] for p in phrases if "channel" in p})
    body = {
        "combinedRecognizedPhrases": [
            {"channel": c, "lexical": "x", "itn": "x", "maskedITN": "x", "display": 'X [y] {z} "q"'}
            for c in channels
        ],
        "recognizedPhrases": phrases,
    }
    return {**body, **header} if header_last else {**header, **body}


def encode(document: Any, *, indent: int | None = None) -> bytes:
    return json.dumps(document, indent=indent, ensure_ascii=False).encode()


def feed_randomly(feed: Callable[[bytes], None], data: bytes, seed: int, *, largest: int = 97) -> None:
    """Feed `data` in random small chunks, so every value is cut somewhere."""
    rng = random.Random(seed)
    position = 0
    while position < len(data):
        size = rng.randint(1, largest)
        feed(data[position : position + size])
        position += size


def chunked(pieces: Iterable[bytes], size: int) -> Iterable[bytes]:
    """Regroup generated pieces into chunks of about `size` bytes, like a download."""
    batch: list[bytes] = []
    length = 0
    for piece in pieces:
        batch.append(piece)
        length += len(piece)
        if length >= size:
            yield b"".join(batch)
            batch, length = [], 0
    if batch:
        yield b"".join(batch)
