"""One-pass rendering and its way back to the exact path: every shape of result file gives the golden outputs
whichever path it takes, and each assumption a file can break sends it the exact way (a spool is made)."""

import json
from typing import Any

import pytest

from shared.transcripts import derive, onepass
from shared.transcripts.derive import FORMATS, Deriver
from tests.transcripts import test_golden
from tests.transcripts.builders import encode, feed_randomly, phrase, result


@pytest.fixture
def spools(monkeypatch) -> list[object]:
    """The phrase spools made: one means the file went the exact way."""
    made: list[object] = []

    class CountedSpool(derive.PhraseSpool):
        def __init__(self, directory: str | None = None) -> None:
            super().__init__(directory)
            made.append(self)

    monkeypatch.setattr(derive, "PhraseSpool", CountedSpool)
    return made


@pytest.mark.parametrize("window", [1, 2, 3, 7])
@pytest.mark.parametrize("shape", sorted(test_golden.SHAPES))
def test_golden_outputs_whatever_the_window(shape: str, window: int, tmp_path, monkeypatch):
    monkeypatch.setattr(onepass, "WINDOW_PHRASES", window)
    golden = json.loads(test_golden.GOLDEN.read_text())
    assert test_golden.digests(shape, str(tmp_path)) == golden[shape]


@pytest.mark.parametrize(
    ("shape", "window", "exact"),
    [
        ("mono-words", 1, False),  # one voice throughout: streamed after the first phrase
        ("stereo-labels", 2, False),  # the second channel speaks within the window
        ("stereo-labels", 1, True),  # ... and after it: the labels would change
        ("stereo-by-channel-long", 500, True),  # channel 1 goes back in time
        ("diarization", 500, False),
    ],
)
def test_which_way_a_file_goes(shape: str, window: int, exact: bool, spools, tmp_path, monkeypatch):
    monkeypatch.setattr(onepass, "WINDOW_PHRASES", window)
    test_golden.outputs(shape, str(tmp_path))
    assert len(spools) == int(exact)


def _derive(document: dict[str, Any], tmp_path) -> dict[str, bytes]:
    with Deriver(formats=frozenset(FORMATS), channel_labels={}, spool_dir=str(tmp_path)) as deriver:
        feed_randomly(deriver.feed, encode(document), seed=1, largest=300)
        derived = deriver.finish()
        assert derived.outcome.valid, derived.outcome.problems
        return {output.extension: b"".join(output.chunks()) for output in derived.outputs}


def test_a_header_after_the_phrases_is_checked_at_the_end(spools, tmp_path, monkeypatch):
    """Captions end with the audio: rendered before its length was known, they are rendered again."""
    monkeypatch.setattr(onepass, "WINDOW_PHRASES", 1)
    phrases = [phrase(f"Phrase number {n}.", 2.0 * n, 2.0 * n + 0.3) for n in range(5)]
    last = _derive(result(phrases, duration=8.6, header_last=True), tmp_path)
    assert len(spools) == 1
    first = _derive(result(phrases, duration=8.6), tmp_path)
    assert len(spools) == 1  # the header came first: streamed
    assert last == first
    assert b"00:00:08,600" in first["srt"]  # shown for a second, but not past the audio


def test_a_late_speaker_after_the_window(spools, tmp_path, monkeypatch):
    monkeypatch.setattr(onepass, "WINDOW_PHRASES", 2)
    phrases = [phrase(f"Words {n}.", float(n), n + 0.5, speaker=1 if n < 4 else 2) for n in range(6)]
    outputs = _derive(result(phrases), tmp_path)
    assert len(spools) == 1
    assert outputs["txt"].startswith(b"[00:00:00] Speaker 1: Words 0.")


def test_nothing_left_on_disk_on_either_way(spools, tmp_path, monkeypatch):
    monkeypatch.setattr(onepass, "WINDOW_PHRASES", 1)
    for order in ("time", "channel"):
        phrases = [phrase(f"P {n}.", float(n), n + 0.5, channel=n % 2) for n in range(6)]
        if order == "channel":
            phrases = phrases[0::2] + phrases[1::2]
        _derive(result(phrases), tmp_path)
    assert len(spools) == 2  # both: the second channel spoke after the window of one
    assert list(tmp_path.iterdir()) == []
