"""Bounded memory: a large result file streams through parsing, spooling and all four renderers while
Python's own allocations stay small. (The process-level limit, 256 MB RSS for 500 MB files, rests on this.)"""

import time
import tracemalloc
from collections.abc import Iterator

from shared.transcripts.derive import FORMATS, Deriver
from tests.transcripts.builders import chunked

TARGET_BYTES = 30 * 1024 * 1024
PEAK_LIMIT = 20 * 1024 * 1024
SENTENCES = [
    "Thank you for calling Contoso, my name is Alex, how can I help you today?",
    "Hi, I am calling about my order, it was supposed to arrive on Tuesday but nothing came.",
    "I am sorry to hear that.",
    "Let me look it up, could you give me the order number please, it starts with two letters.",
    "Sure, it is AB 1234 5678.",
]


def _iso(ticks: int) -> str:
    return f"PT{ticks // 10_000_000}.{ticks // 100_000 % 100:02d}S"


def phrase_json(text: str, start: int, duration: int, channel: int) -> str:
    """One phrase in the service's shape (times in ticks, written as floats like the service does), built
    with string formatting only: generating it must cost little next to what is measured."""
    words = text.lower().strip(".?!").replace(",", "").split()
    step = duration // len(words)
    timing = [
        f'"offset":"{_iso(start + i * step)}","duration":"{_iso(step)}",'
        f'"offsetInTicks":{start + i * step}.0,"durationInTicks":{step}.0'
        for i in range(len(words))
    ]
    timed = ",".join(f'{{"word":"{w}",{t},"confidence":0.93}}' for w, t in zip(words, timing, strict=True))
    shown = ",".join(f'{{"displayText":"{w}",{t}}}' for w, t in zip(text.split(), timing, strict=False))
    lexical = " ".join(words)
    return (
        f'{{"recognitionStatus":"Success","channel":{channel},"offset":"{_iso(start)}",'
        f'"duration":"{_iso(duration)}","offsetInTicks":{start}.0,"durationInTicks":{duration}.0,'
        f'"nBest":[{{"confidence":0.9,"lexical":"{lexical}","itn":"{lexical}","maskedITN":"{lexical}",'
        f'"display":"{text}","words":[{timed}],"displayWords":[{shown}]}},'
        f'{{"confidence":0.2,"lexical":"{lexical}","itn":"{lexical}","maskedITN":"{lexical}","display":"{lexical}"}}]}}'
    )


def generated_result(target: int) -> Iterator[bytes]:
    """A stereo result with both kinds of word timings and an alternative, header after the phrases."""
    yield b'{"combinedRecognizedPhrases": [{"channel": 0, "display": "' + b"x" * 100_000 + b'"}], '
    yield b'"recognizedPhrases": ['
    size, index, clock = 0, 0, 0
    while size < target:
        text = SENTENCES[index % len(SENTENCES)]
        duration = len(text) * 700_000  # ticks: about 14 characters a second
        piece = ((", " if index else "") + phrase_json(text, clock, duration, index % 2)).encode()
        size += len(piece)
        index += 1
        clock += duration + 3_000_000
        yield piece
    yield b'], "source": "https://h/c/big.wav?sig=x", "durationInTicks": ' + str(clock).encode() + b"}"


def test_large_result_streams_in_bounded_memory(tmp_path):
    sizes: dict[str, int] = {}
    started = time.monotonic()
    tracemalloc.start()
    try:
        with Deriver(
            formats=frozenset(FORMATS), channel_labels={0: "Agent"}, spool_dir=str(tmp_path)
        ) as deriver:
            fed = 0
            for chunk in chunked(generated_result(TARGET_BYTES), 1024 * 1024):
                fed += len(chunk)
                deriver.feed(chunk)
            derived = deriver.finish()
            for output in derived.outputs:
                sizes[output.extension] = sum(len(piece) for piece in output.chunks())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started
    assert derived.outcome.valid, derived.outcome.problems
    assert derived.outcome.phrase_count > 5000
    assert derived.outcome.source == "https://h/c/big.wav?sig=x"
    assert fed >= TARGET_BYTES
    assert set(sizes) == set(FORMATS)
    assert all(sizes.values())
    assert peak < PEAK_LIMIT, f"peak {peak / 1e6:.1f} MB for {fed / 1e6:.0f} MB in {elapsed:.1f}s"
