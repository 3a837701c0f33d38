import re

import pytest

from shared.transcripts.captions import render_srt, render_vtt
from shared.transcripts.labels import Labels
from shared.transcripts.model import Phrase, Word
from tests.transcripts.caption_checks import read_srt, read_vtt

AGENT_CUSTOMER = Labels(shown=True, channel_names={0: "Agent", 1: "Customer"})
NO_LABELS = Labels()

LONG = (
    "Thank you for calling Contoso, my name is Alex and I will be helping you today with your order, "
    "which I can see was placed last Tuesday and shipped on Thursday from our warehouse in Rotterdam, "
    "so it should arrive within the next two working days unless the carrier has a delay on their side."
)


def timed(text: str, start: float, end: float) -> list[Word]:
    words = text.split()
    step = (end - start) / len(words)
    return [Word(text=w, start=start + i * step, end=start + (i + 1) * step) for i, w in enumerate(words)]


def both(phrases: list[Phrase], labels: Labels = NO_LABELS) -> tuple[list, list]:
    return read_srt(b"".join(render_srt(phrases, labels))), read_vtt(b"".join(render_vtt(phrases, labels)))


def words_of(cues) -> list[str]:
    return [word for cue in cues for word in cue.text.split()]


def test_long_phrase_without_word_timings_is_split_proportionally():
    phrase = Phrase(start=10.0, end=40.0, channel=0, display=LONG)
    srt_cues, vtt_cues = both([phrase])
    for cues in (srt_cues, vtt_cues):
        assert len(cues) >= 4
        assert words_of(cues) == LONG.split()
        assert cues[0].start == 10_000
        assert cues[-1].end <= 40_000
    assert all(cue.voice is None for cue in vtt_cues)


def test_long_phrase_is_cut_at_word_timings():
    words = timed(LONG.lower(), 5.0, 35.0)
    phrase = Phrase(start=5.0, end=35.0, display=LONG, lexical=LONG.lower(), words=words)
    word_starts = {round(w.start * 1000) for w in words}
    for cues in both([phrase]):
        assert words_of(cues) == LONG.split()  # display text, timed by the lexical words
        assert all(cue.start in word_starts for cue in cues)


def test_no_stub_cue_at_the_end_of_a_phrase():
    text = (
        "I would like to change the delivery address for my order please, because I moved last week, thanks."
    )
    phrase = Phrase(start=0.0, end=6.0, display=text, words=timed(text, 0.0, 6.0))
    _, cues = both([phrase])
    assert len(cues) == 2
    shares = [len(cue.text) / len(text) for cue in cues]
    assert min(shares) > 0.35, [cue.text for cue in cues]  # greedy filling would leave a quarter


def test_crosstalk_between_channels_stays_one_ordered_track():
    agent = Phrase(start=0.0, end=12.0, channel=0, display=LONG[:150], words=timed(LONG[:150], 0.0, 12.0))
    customer = Phrase(start=3.0, end=4.5, channel=1, display="Sorry, which order?")
    srt_cues, vtt_cues = both([agent, customer], AGENT_CUSTOMER)
    voices = [cue.voice for cue in vtt_cues]
    assert "Customer" in voices
    assert voices[0] == "Agent"
    customer_cue = vtt_cues[voices.index("Customer")]
    assert customer_cue.start == 3000
    assert customer_cue.text == "Sorry, which order?"
    assert srt_cues[voices.index("Customer")].lines[0].startswith("Customer: ")
    assert all(cue.lines[0].startswith(("Agent: ", "Customer: ")) for cue in srt_cues)


def test_bursts_of_short_phrases_keep_minimum_durations():
    phrases = [
        Phrase(start=i * 0.2, end=i * 0.2 + 0.1, channel=i % 2, display=f"Word{i}.") for i in range(30)
    ]
    srt_cues, vtt_cues = both(phrases, AGENT_CUSTOMER)
    assert len(srt_cues) == len(vtt_cues) == 30
    assert [cue.text for cue in vtt_cues] == [f"Word{i}." for i in range(30)]


def test_short_cue_stays_a_second_when_there_is_room():
    _, cues = both([Phrase(start=1.0, end=1.3, display="Yes."), Phrase(start=5.0, end=6.0, display="No.")])
    assert (cues[0].start, cues[0].end) == (1000, 2000)


def test_cjk_without_spaces_is_cut_into_lines():
    text = (
        "今日はコントソにお電話いただきありがとうございます。ご注文の件でお問い合わせいただいたと伺いました。"
        * 3
    )
    srt_cues, vtt_cues = both([Phrase(start=0.0, end=20.0, display=text)])
    for cues in (srt_cues, vtt_cues):
        assert "".join(line for cue in cues for line in cue.lines) == text


def test_display_words_of_a_script_without_spaces_are_glued():
    pieces = ["你好", "\uff0c", "欢迎", "致电", "。"]  # the comma is a full-width one
    words = [Word(text=p, start=i * 0.5, end=(i + 1) * 0.5) for i, p in enumerate(pieces)]
    _, cues = both([Phrase(start=0.0, end=2.5, display="".join(pieces), words=words)])
    assert [cue.text for cue in cues] == ["".join(pieces)]


def test_webvtt_escapes_markup_and_srt_keeps_it():
    text = "Tom & Jerry said <b>hi</b> --> bye"
    srt_cues, vtt_cues = both([Phrase(start=0.0, end=2.0, display=text)])
    assert vtt_cues[0].text == text  # read back unescaped
    assert srt_cues[0].text == text
    raw = b"".join(render_vtt([Phrase(start=0.0, end=2.0, display=text)], NO_LABELS)).decode()
    assert "Tom &amp; Jerry said &lt;b&gt;hi&lt;/b&gt; --&gt; bye" in raw


def test_voice_labels_are_escaped_and_srt_prefix_is_short():
    labels = Labels(shown=True, channel_names={0: "Sales <EMEA> & Partners Team", 1: "B"})
    phrase = Phrase(start=0.0, end=3.0, channel=0, display="Hello there, how can we help?")
    srt_cues, vtt_cues = both([phrase], labels)
    assert vtt_cues[0].voice == "Sales <EMEA> & Partners Team"
    assert re.match(r"^Sales <EMEA> & Part…: ", srt_cues[0].lines[0])


def test_diarized_speakers():
    labels = Labels(shown=True)
    phrases = [
        Phrase(start=0.0, end=1.5, speaker="1", display="Hi."),
        Phrase(start=2.0, end=3.5, speaker="2", display="Hello."),
    ]
    srt_cues, vtt_cues = both(phrases, labels)
    assert [cue.voice for cue in vtt_cues] == ["Speaker 1", "Speaker 2"]
    assert [cue.text for cue in srt_cues] == ["Speaker 1: Hi.", "Speaker 2: Hello."]


def test_empty_and_blank_phrases():
    assert b"".join(render_srt([], NO_LABELS)) == b""
    assert b"".join(render_vtt([], NO_LABELS)) == b"WEBVTT\n\n"
    srt_cues, vtt_cues = both(
        [Phrase(start=0.0, end=1.0, display="   "), Phrase(start=1.0, end=2.0, display="")]
    )
    assert srt_cues == vtt_cues == []


def test_lexical_text_when_there_is_no_display_text():
    _, cues = both([Phrase(start=0.0, end=1.0, display="", lexical="just lexical")])
    assert [cue.text for cue in cues] == ["just lexical"]


@pytest.mark.parametrize("seconds", [0.0, 59.999, 3600.5, 36_000.25])
def test_timestamps(seconds: float):
    srt_text = b"".join(render_srt([Phrase(start=seconds, end=seconds + 2, display="x")], NO_LABELS)).decode()
    vtt_text = b"".join(render_vtt([Phrase(start=seconds, end=seconds + 2, display="x")], NO_LABELS)).decode()
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    stamp = f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}"
    assert f"1\n{stamp},{rest % 1000:03d} --> " in srt_text
    assert f"\n{stamp}.{rest % 1000:03d} --> " in vtt_text
