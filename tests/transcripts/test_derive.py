import os
from typing import Any

import pytest

from shared.transcripts.derive import (
    CONTENT_TYPES,
    FORMATS,
    Derived,
    Deriver,
    derive_from_phrases,
)
from shared.transcripts.model import Phrase, Transcript, TranscriptHeader
from shared.transcripts.options import parse_channel_labels, parse_formats
from shared.transcripts.timing import ticks_to_seconds
from tests.transcripts.builders import encode, feed_randomly, phrase, result
from tests.transcripts.caption_checks import read_srt, read_vtt

ALL = frozenset(FORMATS)


def derive(document: Any, tmp_path, *, labels: dict[int, str] | None = None, seed: int = 0, **options: Any):
    data = document if isinstance(document, bytes) else encode(document)
    with Deriver(
        formats=options.pop("formats", ALL), channel_labels=labels or {}, spool_dir=str(tmp_path), **options
    ) as d:
        feed_randomly(d.feed, data, seed, largest=500)
        derived = d.finish()
        outputs = {output.extension: b"".join(output.chunks()) for output in derived.outputs}
    assert os.listdir(tmp_path) == [], "the spool and rendered files must be gone"
    if "srt" in outputs:
        read_srt(outputs["srt"])  # parses, and every cue follows the conventions
    if "vtt" in outputs:
        read_vtt(outputs["vtt"])
    return derived, outputs


def test_stereo_call_centre(tmp_path):
    phrases = [
        phrase("Thank you for calling Contoso, this is Alex.", 0.5, 3.0, channel=0, words="lexical"),
        phrase("Hi Alex, my parcel never arrived.", 2.8, 5.0, channel=1, words="lexical"),
        phrase("I am sorry to hear that, let me look it up.", 5.2, 8.0, channel=0, words="lexical"),
    ]
    derived, out = derive(result(phrases), tmp_path, labels={0: "Agent", 1: "Customer"})
    assert derived.outcome.valid
    assert [o.extension for o in derived.outputs] == list(FORMATS)
    assert [o.content_type for o in derived.outputs] == [CONTENT_TYPES[f] for f in FORMATS]
    transcript = Transcript.model_validate_json(out["json"])
    assert transcript.source == "https://store.blob.core.windows.net/audio/call-0042.wav"  # no SAS
    assert b"SECRET" not in b"".join(out.values())
    assert [(c.channel, c.label) for c in transcript.channels] == [(0, "Agent"), (1, "Customer")]
    assert [p.channel for p in transcript.phrases] == [0, 1, 0]
    assert out["txt"].decode() == (
        "[00:00:00] Agent: Thank you for calling Contoso, this is Alex.\n\n"
        "[00:00:02] Customer: Hi Alex, my parcel never arrived.\n\n"
        "[00:00:05] Agent: I am sorry to hear that, let me look it up.\n"
    )
    assert [c.voice for c in read_vtt(out["vtt"])] == ["Agent", "Customer", "Agent"]
    assert all(c.lines[0].startswith(("Agent: ", "Customer: ")) for c in read_srt(out["srt"]))


def test_channel_listed_after_channel(tmp_path):
    """Results often list one channel's phrases, then the other's: outputs are still in time order."""
    channel0 = [phrase(f"Agent line {i}.", i * 4.0, i * 4.0 + 1.5, channel=0) for i in range(5)]
    channel1 = [phrase(f"Customer line {i}.", i * 4.0 + 2.0, i * 4.0 + 3.5, channel=1) for i in range(5)]
    _, out = derive(result(channel0 + channel1), tmp_path)
    starts = [p.start for p in Transcript.model_validate_json(out["json"]).phrases]
    assert starts == sorted(starts)
    assert [c.text for c in read_vtt(out["vtt"])][:3] == [
        "Agent line 0.",
        "Customer line 0.",
        "Agent line 1.",
    ]
    assert [c.voice for c in read_vtt(out["vtt"])][:2] == ["Channel 0", "Channel 1"]


def test_diarization(tmp_path):
    phrases = [
        phrase("Hello.", 0, 1, speaker=1),
        phrase("Hi.", 1.5, 2.5, speaker=2),
        phrase("Bye.", 3, 4, speaker=1),
    ]
    _derived, out = derive(result(phrases), tmp_path)
    assert Transcript.model_validate_json(out["json"]).speakers == ["1", "2"]
    assert out["txt"].startswith(b"[00:00:00] Speaker 1: Hello.\n\n[00:00:01] Speaker 2: Hi.")
    assert [c.voice for c in read_vtt(out["vtt"])] == ["Speaker 1", "Speaker 2", "Speaker 1"]


def test_language_identification(tmp_path):
    phrases = [phrase("Hola.", 0, 1, locale="es-ES"), phrase("Hello.", 1, 2, locale="en-US")]
    _, out = derive(result(phrases), tmp_path)
    transcript = Transcript.model_validate_json(out["json"])
    assert transcript.locales == ["es-ES", "en-US"]
    assert transcript.locale is None  # several: no single locale
    assert [p.locale for p in transcript.phrases] == ["es-ES", "en-US"]
    single = result([phrase("Hola.", 0, 1, locale="es-ES")])
    _, out = derive(single, tmp_path)
    assert Transcript.model_validate_json(out["json"]).locale == "es-ES"
    _, out = derive(result([phrase("Hi.", 0, 1)]), tmp_path, locale="en-GB")
    assert Transcript.model_validate_json(out["json"]).locale == "en-GB"  # the job's locale, when given


def test_whisper_display_only(tmp_path):
    phrases = [phrase("Whisper writes display text only.", 0, 3, lexical="")]
    derived, out = derive(result(phrases), tmp_path)
    assert derived.outcome.valid
    assert out["txt"] == b"[00:00:00] Whisper writes display text only.\n"
    assert [c.text for c in read_srt(out["srt"])] == ["Whisper writes display text only."]


def test_empty_result(tmp_path):
    derived, out = derive(result([]), tmp_path)
    assert derived.outcome.valid
    assert Transcript.model_validate_json(out["json"]).phrases == []
    assert out["txt"] == b"(no speech recognized)\n"
    assert out["srt"] == b""
    assert out["vtt"] == b"WEBVTT\n\n"


def test_minimal_fields_and_float_ticks(tmp_path):
    document = {
        "recognizedPhrases": [
            {"offsetInTicks": 7600000.0, "durationInTicks": 1.32e7, "nBest": [{"display": "Hi."}]}
        ]
    }
    derived, out = derive(document, tmp_path)
    assert derived.outcome.valid
    transcript = Transcript.model_validate_json(out["json"])
    assert transcript.source is None
    assert transcript.channels == []
    assert (transcript.phrases[0].start, transcript.phrases[0].end) == (0.76, 2.08)


def test_invalid_file_has_no_outputs(tmp_path):
    broken = phrase("Hi.", 0, 1)
    del broken["nBest"]
    derived, out = derive(result([phrase("Hello.", 0, 1), broken]), tmp_path)
    assert not derived.outcome.valid
    assert derived.outputs == []
    assert out == {}
    derived, _ = derive(b'{"recognizedPhrases": [', tmp_path)
    assert derived.outputs == []
    assert derived.outcome.problems[0].startswith("invalid JSON at byte 23")


def test_format_subset_and_no_formats(tmp_path):
    derived, _ = derive(result([phrase("Hi.", 0, 1)]), tmp_path, formats=frozenset({"vtt", "txt"}))
    assert [o.extension for o in derived.outputs] == ["txt", "vtt"]
    derived, _ = derive(result([phrase("Hi.", 0, 1)]), tmp_path, formats=frozenset())
    assert derived.outcome.valid
    assert derived.outcome.phrase_count == 1
    assert derived.outputs == []


def test_outputs_can_be_read_again_until_the_deriver_closes(tmp_path):
    with Deriver(formats=ALL, channel_labels={}, spool_dir=str(tmp_path)) as deriver:
        deriver.feed(encode(result([phrase("Once more.", 0, 1)])))
        derived: Derived = deriver.finish()
        assert deriver.finish() is derived
        for output in derived.outputs:
            assert b"".join(output.chunks()) == b"".join(output.chunks())
    for output in derived.outputs:
        with pytest.raises(ValueError, match="closed file"):
            list(output.chunks())  # its temporary file is closed, and so deleted


def test_custom_source_display(tmp_path):
    _, out = derive(result([]), tmp_path, source_display=lambda url: "hidden")
    assert Transcript.model_validate_json(out["json"]).source == "hidden"


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="pdf"):
        Deriver(formats=frozenset({"pdf"}), channel_labels={}, spool_dir=str(tmp_path))
    with pytest.raises(ValueError, match="pdf"):
        derive_from_phrases(TranscriptHeader(), [], formats={"pdf"}, channel_labels={})


def test_conversation_reuses_the_renderers():
    """offlinetask results: userId, text, offsetInTicks, durationInTicks; the user id is the speaker."""
    entries = [
        {
            "userId": "alice@contoso.com",
            "text": "Shall we start?",
            "offsetInTicks": 5_000_000,
            "durationInTicks": 12_000_000,
        },
        {
            "userId": "bob@contoso.com",
            "text": "Yes, go ahead.",
            "offsetInTicks": 20_000_000,
            "durationInTicks": 9_000_000,
        },
    ]
    phrases = [
        Phrase(
            start=ticks_to_seconds(e["offsetInTicks"]),
            end=ticks_to_seconds(e["offsetInTicks"] + e["durationInTicks"]),
            speaker=e["userId"],
            display=e["text"],
        )
        for e in entries
    ]
    header = TranscriptHeader(
        kind="conversation", source="conversation-123", speakers=[e["userId"] for e in entries]
    )
    outputs = derive_from_phrases(header, phrases, formats=ALL, channel_labels={})
    out = {o.extension: b"".join(o.chunks()) for o in outputs}
    assert Transcript.model_validate_json(out["json"]).kind == "conversation"
    assert (
        out["txt"]
        == b"[00:00:00] alice@contoso.com: Shall we start?\n\n[00:00:02] bob@contoso.com: Yes, go ahead.\n"
    )
    assert [c.voice for c in read_vtt(out["vtt"])] == ["alice@contoso.com", "bob@contoso.com"]
    assert read_srt(out["srt"])[1].lines[0].startswith("bob@contoso.com: ")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("json,txt,srt,vtt", ALL),
        (" JSON , vtt ", frozenset({"json", "vtt"})),
        ("", frozenset()),
        ("txt,txt", frozenset({"txt"})),
    ],
)
def test_parse_formats(value: str, expected: frozenset[str]):
    assert parse_formats(value) == expected


def test_parse_formats_names_the_unknown():
    with pytest.raises(ValueError, match="docx, pdf"):
        parse_formats("json,pdf,docx")


def test_parse_channel_labels():
    assert parse_channel_labels("Agent,Customer") == {0: "Agent", 1: "Customer"}
    assert parse_channel_labels(" Agent , Customer ") == {0: "Agent", 1: "Customer"}
    assert parse_channel_labels("") == {}
    with pytest.raises(ValueError, match="empty"):
        parse_channel_labels("Agent,,Customer")
