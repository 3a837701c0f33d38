from shared.transcripts.labels import Labels
from shared.transcripts.model import Channel, Phrase, TranscriptHeader
from shared.transcripts.render_text import EMPTY_NOTE, PARAGRAPH_CHARS, render_txt

STEREO = TranscriptHeader(channels=[Channel(channel=0, label="Agent"), Channel(channel=1, label="Customer")])
MONO = TranscriptHeader(channels=[Channel(channel=0)])


def txt(header: TranscriptHeader, phrases: list[Phrase], labels: Labels | None = None) -> str:
    return b"".join(render_txt(header, phrases, labels)).decode()


def test_stereo_paragraphs_merge_consecutive_phrases_of_a_voice():
    phrases = [
        Phrase(start=0.4, channel=0, end=2.0, display="Thank you for calling."),
        Phrase(start=2.1, channel=0, end=3.0, display="How can I help?"),
        Phrase(start=62.0, channel=1, end=64.0, display="My order is late."),
        Phrase(start=3725.0, channel=0, end=3726.0, display="Let me check."),
    ]
    assert txt(STEREO, phrases) == (
        "[00:00:00] Agent: Thank you for calling. How can I help?\n\n"
        "[00:01:02] Customer: My order is late.\n\n"
        "[01:02:05] Agent: Let me check.\n"
    )


def test_configured_labels_win_and_unnamed_channels_are_numbered():
    header = TranscriptHeader(channels=[Channel(channel=0), Channel(channel=2)])
    phrases = [
        Phrase(start=0, end=1, channel=0, display="A."),
        Phrase(start=1, end=2, channel=2, display="B."),
    ]
    labels = Labels.for_transcript(header, {0: "Support"})
    assert txt(header, phrases, labels) == "[00:00:00] Support: A.\n\n[00:00:01] Channel 2: B.\n"


def test_diarization_labels_speakers():
    header = TranscriptHeader(channels=[Channel(channel=0)], speakers=["1", "2"])
    phrases = [
        Phrase(start=0, end=1, channel=0, speaker="1", display="Hi."),
        Phrase(start=1, end=2, channel=0, speaker="2", display="Hello."),
        Phrase(start=2, end=3, channel=0, speaker="2", display="Bye."),
    ]
    assert txt(header, phrases) == "[00:00:00] Speaker 1: Hi.\n\n[00:00:01] Speaker 2: Hello. Bye.\n"


def test_single_voice_has_no_labels_and_long_monologues_break():
    sentence = "This is a sentence of a long monologue that goes on."
    phrases = [Phrase(start=i * 3.0, end=i * 3.0 + 2.5, channel=0, display=sentence) for i in range(60)]
    text = txt(MONO, phrases)
    paragraphs = text.rstrip("\n").split("\n\n")
    assert len(paragraphs) > 1
    assert all(p.startswith("[") and ": " not in p for p in paragraphs)
    assert all(len(p) <= PARAGRAPH_CHARS + len(sentence) + 20 for p in paragraphs)
    assert text.count(sentence) == 60


def test_whitespace_lexical_fallback_and_blank_phrases():
    phrases = [
        Phrase(start=0, end=1, display="  spaced \n  out  "),
        Phrase(start=1, end=2, display="", lexical="lexical only"),
        Phrase(start=2, end=3, display="   "),
    ]
    assert txt(MONO, phrases) == "[00:00:00] spaced out lexical only\n"


def test_empty_transcript_has_a_note():
    assert txt(MONO, []) == EMPTY_NOTE
    assert txt(MONO, [Phrase(start=0, end=1, display="")]) == EMPTY_NOTE
