"""The result file example from the service's documentation (seed 003), verbatim: one phrase, display words,
five candidates, ticks as floats."""

from shared.transcripts.derive import FORMATS, Deriver
from shared.transcripts.model import Transcript
from tests.transcripts.builders import feed_randomly
from tests.transcripts.caption_checks import read_srt, read_vtt

DOCUMENTED_RESULT = b"""{
"source": "...",
"timestamp": "2025-05-24T13:37:05Z",
"durationInTicks": 25800000,
"durationMilliseconds": 2580,
"duration": "PT2.58S",
"combinedRecognizedPhrases": [
{
"channel": 0,
"lexical": "hello world",
"itn": "hello world",
"maskedITN": "hello world",
"display": "Hello world."
}
],
"recognizedPhrases": [
{
"recognitionStatus": "Success",
"channel": 0,
"offset": "PT0.76S",
"duration": "PT1.32S",
"offsetInTicks": 7600000.0,
"durationInTicks": 13200000.0,
"nBest": [
{
"confidence": 0.5643338,
"lexical": "hello world",
"itn": "hello world",
"maskedITN": "hello world",
"display": "Hello world.",
"displayWords": [
{
"displayText": "Hello",
"offset": "PT0.76S",
"duration": "PT0.76S",
"offsetInTicks": 7600000.0,
"durationInTicks": 7600000.0
},
{
"displayText": "world.",
"offset": "PT1.52S",
"duration": "PT0.56S",
"offsetInTicks": 15200000.0,
"durationInTicks": 5600000.0
}
]
},
{
"confidence": 0.1769063,
"lexical": "helloworld",
"itn": "helloworld",
"maskedITN": "helloworld",
"display": "helloworld"
},
{
"confidence": 0.49964225,
"lexical": "hello worlds",
"itn": "hello worlds",
"maskedITN": "hello worlds",
"display": "hello worlds"
},
{
"confidence": 0.4995761,
"lexical": "hello worm",
"itn": "hello worm",
"maskedITN": "hello worm",
"display": "hello worm"
},
{
"confidence": 0.49418187,
"lexical": "hello word",
"itn": "hello word",
"maskedITN": "hello word",
"display": "hello word"
}
]
}
]
}"""


def test_documented_result_file(tmp_path):
    with Deriver(formats=frozenset(FORMATS), channel_labels={}, spool_dir=str(tmp_path)) as deriver:
        feed_randomly(deriver.feed, DOCUMENTED_RESULT, seed=3)
        derived = deriver.finish()
        outputs = {output.extension: b"".join(output.chunks()) for output in derived.outputs}
    outcome = derived.outcome
    assert outcome.valid, outcome.problems
    assert outcome.phrase_count == 1
    assert (outcome.source, outcome.timestamp, outcome.duration_seconds) == (
        "...",
        "2025-05-24T13:37:05Z",
        2.58,
    )
    assert outcome.channels == [0]

    transcript = Transcript.model_validate_json(outputs["json"])
    assert transcript.duration_seconds == 2.58
    (phrase,) = transcript.phrases
    assert (phrase.start, phrase.end, phrase.display, phrase.confidence) == (
        0.76,
        2.08,
        "Hello world.",
        0.5643338,
    )
    assert phrase.words is None
    assert phrase.display_words is not None
    assert [(w.text, w.start, w.end) for w in phrase.display_words] == [
        ("Hello", 0.76, 1.52),
        ("world.", 1.52, 2.08),
    ]

    assert outputs["txt"] == b"[00:00:00] Hello world.\n"
    assert outputs["srt"] == b"1\n00:00:00,760 --> 00:00:02,080\nHello world.\n\n"
    assert outputs["vtt"] == b"WEBVTT\n\n00:00:00.760 --> 00:00:02.080\nHello world.\n\n"
    assert [cue.text for cue in read_srt(outputs["srt"])] == ["Hello world."]
    assert [cue.text for cue in read_vtt(outputs["vtt"])] == ["Hello world."]
