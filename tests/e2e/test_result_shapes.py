"""Result files in every shape the service writes them, harvested end to end: the transcripts stay true to
them (issue 9, items 10-16) over Azurite, the emulator and the production client."""

import json

import pytest

from shared import runtime
from shared.harvest import Outcome
from shared.queueing import HarvestRequest
from tests.transcripts.caption_checks import read_srt, read_vtt

pytestmark = pytest.mark.e2e

SHAPES = "phrases=40&pretty=1&empty=3&nomatch=4&long=5&order=channel"


def test_every_shape_is_harvested_into_valid_transcripts(make_stack):
    stack = make_stack("2024-11-15", CHANNEL_LABELS="Agent,Customer")
    job = stack.submit(
        [f"call-stereo.wav?{SHAPES}", f"memo.wav?{SHAPES}&times=ms"],
        locale="de-DE",
        word_level_timestamps=True,
    )
    stack.finished(job)
    assert runtime.harvester(stack.parts).harvest(HarvestRequest(id=job)) is Outcome.HARVESTED

    manifest = stack.manifest(job)
    assert manifest is not None
    blobs = stack.blobs(job)
    for name, stem in (("contenturl_0.json", "call-stereo"), ("contenturl_1.json", "memo")):
        (result,) = [r for r in manifest["results"] if r["name"] == name]
        assert result["validation"] == {"valid": True, "problems": []}
        raw = json.loads(blobs[result["blob"]])
        shown = [p for p in raw["recognizedPhrases"] if p.get("nBest") and p["nBest"][0]["display"].strip()]
        root = f"transcriptions/{job}/transcript/{stem}"
        transcript = json.loads(blobs[root + ".json"])
        assert transcript["locale"] == "de-DE"  # the job's: the file names no locale
        assert len(transcript["phrases"]) == len(shown) == 20  # empty and unrecognised ones dropped
        assert all(p["end"] > p["start"] for p in transcript["phrases"])
        audio_end = round(transcript["durationSeconds"] * 1000)
        for cues in (read_srt(blobs[root + ".srt"]), read_vtt(blobs[root + ".vtt"])):
            assert cues[-1].end <= audio_end
        text = blobs[root + ".txt"].decode()
        assert text.count("\n\n") + 1 <= len(shown)
        assert any(ord(char) > 127 for char in text)
