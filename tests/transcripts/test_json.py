import json

import pytest

from shared.transcripts.model import SCHEMA_VERSION, Channel, Phrase, Transcript, TranscriptHeader, Word
from shared.transcripts.render_json import render_json


def test_round_trip_through_the_schema():
    header = TranscriptHeader(
        source="https://store/audio/a.wav",
        timestamp="2025-05-24T13:37:05Z",
        duration_seconds=12.5,
        locale=None,
        locales=["en-US", "de-DE"],
        channels=[Channel(channel=0, label="Agent"), Channel(channel=1)],
        speakers=["1"],
    )
    phrases = [
        Phrase(
            start=0.76,
            end=2.08,
            channel=0,
            speaker="1",
            locale="en-US",
            display='Hello "world" \u2028 ü.',
            lexical="hello world",
            confidence=0.56,
            words=[
                Word(text="hello", start=0.76, end=1.52, confidence=0.9),
                Word(text="world", start=1.52, end=2.08),
            ],
        ),
        Phrase(start=3.0, end=4.0, channel=1, display="Hallo.", locale="de-DE"),
    ]
    data = b"".join(render_json(header, phrases))
    document = Transcript.model_validate_json(data)
    assert document.schema_version == SCHEMA_VERSION == "2.0"
    assert TranscriptHeader.model_validate(document.model_dump(exclude={"phrases"})) == header
    assert document.phrases == phrases
    assert data.count(b"\n") == len(phrases) + 2  # one phrase per line: readable and diff-able


def test_field_names_are_camel_case_like_every_published_document():
    header = TranscriptHeader(duration_seconds=2.0, channels=[Channel(channel=0)])
    phrase = Phrase(
        start=0, end=1, display="Hi there.", display_words=[Word(text="Hi", start=0, end=0.5)], words=None
    )
    document = json.loads(b"".join(render_json(header, [phrase])))
    assert list(document) == [
        "schemaVersion",
        "kind",
        "source",
        "timestamp",
        "durationSeconds",
        "locale",
        "locales",
        "channels",
        "speakers",
        "phrases",
    ]
    assert list(document["phrases"][0]) == [
        "start",
        "end",
        "channel",
        "speaker",
        "locale",
        "display",
        "lexical",
        "confidence",
        "words",
        "displayWords",
    ]
    assert document["phrases"][0]["displayWords"] == [
        {"text": "Hi", "start": 0, "end": 0.5, "confidence": None}
    ]
    assert Transcript.model_json_schema()["properties"].keys() >= {"schemaVersion", "durationSeconds"}


def test_empty_transcript_is_a_valid_document():
    data = b"".join(render_json(TranscriptHeader(), []))
    assert Transcript.model_validate_json(data).phrases == []
    assert json.loads(data)["phrases"] == []


def test_schema_rejects_unknown_fields():
    data = b"".join(render_json(TranscriptHeader(), [Phrase(start=0, end=1, display="x")]))
    tampered = json.loads(data)
    tampered["phrases"][0]["surprise"] = True
    with pytest.raises(ValueError, match="surprise"):
        Transcript.model_validate(tampered)
