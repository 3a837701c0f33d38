"""Derived outputs pinned byte for byte on every shape of result file the emulator writes, so that work on
speed cannot change what the harvest writes. The digests in golden.json were made before that work;
regenerate them (`python -m tests.transcripts.test_golden`) only for a deliberate change of the outputs."""

import hashlib
import json
import sys
from pathlib import Path

import pytest

from local.speech_emulator.inputs import knobs_for
from local.speech_emulator.results import TranscriptOptions, transcript_chunks
from shared.transcripts.beside import DeriveBeside
from shared.transcripts.derive import FORMATS, Deriver
from tests.transcripts.builders import chunked

GOLDEN = Path(__file__).with_name("golden.json")
VARIETY = "pretty=1&empty=3&nomatch=4&long=5"

# name: (input name and query, options, channel labels)
SHAPES: dict[str, tuple[str, dict[str, object], str]] = {
    "mono-plain": ("memo.wav?phrases=30", {}, ""),
    "mono-words": ("memo.wav?phrases=30", {"words": True}, ""),
    "mono-display-words": ("memo.wav?phrases=30", {"display_words": True}, ""),
    "mono-both-words-long": ("memo.wav?phrases=30&long=3", {"words": True, "display_words": True}, ""),
    "mono-no-punctuation": ("memo.wav?phrases=30", {"punctuation": False, "words": True}, ""),
    "stereo-labels": ("call-stereo.wav?phrases=30", {"words": True}, "Agent,Customer"),
    "stereo-by-channel-long": ("call-stereo.wav?phrases=30&order=channel&long=4", {"words": True}, ""),
    "stereo-variety": (f"call-stereo.wav?phrases=40&{VARIETY}", {"display_words": True}, "Agent,Customer"),
    "diarization": ("meeting.wav?phrases=30", {"max_speakers": 3, "words": True}, ""),
    "language-id": ("intl.wav?phrases=30", {"candidate_locales": ("en-US", "de-DE")}, ""),
    "ms-only": (f"memo.wav?phrases=30&times=ms&{VARIETY}", {"words": True, "ms": True}, ""),
    "ms-and-ticks": ("memo.wav?phrases=30", {"words": True, "display_words": True, "ms": True}, ""),
    "empty": ("memo.wav?phrases=0", {}, ""),
}


def _options(name: str, settings: dict[str, object]) -> TranscriptOptions:
    knobs = knobs_for(f"https://audio.example/{name}")
    return TranscriptOptions(
        channels=(0, 1) if knobs.stereo else (0,),
        words=bool(settings.get("words")),
        display_words=bool(settings.get("display_words")),
        max_speakers=settings.get("max_speakers"),  # type: ignore[arg-type]
        candidate_locales=settings.get("candidate_locales", ()),  # type: ignore[arg-type]
        punctuation=settings.get("punctuation", True) is True,
        duration_milliseconds=bool(settings.get("ms")),
        pretty=knobs.pretty,
        empty_every=knobs.empty_every,
        nomatch_every=knobs.nomatch_every,
        long_every=knobs.long_every,
        by_channel=knobs.by_channel,
        ms_only=knobs.ms_only and bool(settings.get("ms")),
    )


def outputs(shape: str, spool_dir: str, *, beside: bool = False) -> dict[str, bytes]:
    """The outputs as the harvest derives them: fed in the caller's thread, or (`beside`) in a thread of its
    own while the caller transfers the bytes."""
    name, settings, labels = SHAPES[shape]
    knobs = knobs_for(f"https://audio.example/{name}")
    source = f"https://audio.example/{name}"
    chunks = transcript_chunks(source, "2025-05-24T13:37:05Z", knobs, _options(name, settings))
    channel_labels = dict(enumerate(labels.split(","))) if labels else {}
    with Deriver(formats=frozenset(FORMATS), channel_labels=channel_labels, spool_dir=spool_dir) as deriver:
        with DeriveBeside(deriver) as feeding:
            feed, finish = (feeding.feed, feeding.finish) if beside else (deriver.feed, deriver.finish)
            for chunk in chunked(chunks, 4096):
                feed(chunk)
            derived = finish()
        assert derived.outcome.valid, derived.outcome.problems
        return {output.extension: b"".join(output.chunks()) for output in derived.outputs}


def digests(shape: str, spool_dir: str, *, beside: bool = False) -> dict[str, str]:
    return {
        ext: hashlib.sha256(data).hexdigest()
        for ext, data in outputs(shape, spool_dir, beside=beside).items()
    }


@pytest.mark.parametrize("beside", [False, True], ids=["inline", "beside"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_outputs_are_byte_identical_to_the_golden_ones(shape: str, beside: bool, tmp_path):
    golden = json.loads(GOLDEN.read_text())
    assert digests(shape, str(tmp_path), beside=beside) == golden[shape]


def test_golden_covers_every_shape():
    assert sorted(json.loads(GOLDEN.read_text())) == sorted(SHAPES)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        made = {shape: digests(shape, directory) for shape in sorted(SHAPES)}
    GOLDEN.write_text(json.dumps(made, indent=1) + "\n")
    print(f"wrote {len(made)} shapes to {GOLDEN}", file=sys.stderr)
