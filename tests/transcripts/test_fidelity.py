"""Transcripts true to the service's result files (issue 9, items 8 and 10-15): numbers, the job's locale,
captions within the audio, empty and unrecognised phrases, display-word timing, millisecond fields."""

import json

from shared.transcripts.model import Transcript
from tests.transcripts.builders import encode, phrase, result
from tests.transcripts.caption_checks import read_srt, read_vtt
from tests.transcripts.test_derive import derive
from tests.transcripts.test_parse import parse_everywhere


def test_a_non_finite_confidence_never_reaches_a_transcript(tmp_path):
    loud = phrase("Hello there.", 0, 1, words="lexical")
    loud["nBest"][0]["confidence"] = 1e400
    quiet = phrase("Bye.", 1, 2, words="lexical")
    quiet["nBest"][0]["words"][0]["confidence"] = -1e400
    data = encode(result([loud, quiet])).replace(b"-Infinity", b"-1e400").replace(b"Infinity", b"1e400")
    assert b"1e400" in data
    derived, out = derive(data, tmp_path)
    assert not derived.outcome.valid
    assert derived.outcome.problems == [
        "recognizedPhrases[0]: nBest[0].confidence: Input should be a finite number",
        "recognizedPhrases[1]: nBest[0].words[0].confidence: Input should be a finite number",
    ]
    assert out == {}


def test_an_infinite_audio_duration_falls_back_to_another_spelling(tmp_path):
    document = result([phrase("Hi.", 0, 1)], duration=2.0)
    document["durationInTicks"] = 1e400
    data = encode(document).replace(b"Infinity", b"1e400")
    derived, out = derive(data, tmp_path)
    assert derived.outcome.valid
    assert b"Infinity" not in out["json"]
    assert json.loads(out["json"])["durationSeconds"] == 2.0


def test_negative_offsets_and_durations_are_flagged():
    early = phrase("Too early.", 0, 1)
    early.update(offsetInTicks=-5_000_000.0, offset="-PT0.5S")
    backwards = phrase("Backwards.", 2, 3)
    backwards.update(durationInTicks=-5_000_000.0, duration="-PT0.5S")
    word = phrase("Word back.", 4, 5, words="lexical")
    word["nBest"][0]["words"][1]["durationInTicks"] = -1.0
    fine = phrase("Fine.", 6, 7)
    document = result([early, backwards, word, fine])
    document["durationInTicks"] = -1.0
    outcome, parsed = parse_everywhere(encode(document))
    assert outcome.problems == [
        "recognizedPhrases[0]: negative offset",
        "recognizedPhrases[1]: negative duration",
        "recognizedPhrases[2]: nBest[0].words[1]: negative duration",
        "duration: negative",
    ]
    assert [p.display for p in parsed] == ["Fine."]
    assert all(p.end >= p.start for p in parsed)


def test_locale_is_the_jobs_unless_the_file_identifies_one(tmp_path):
    _, out = derive(result([phrase("Hi.", 0, 1)]), tmp_path, locale="en-GB")
    assert Transcript.model_validate_json(out["json"]).locale == "en-GB"
    _, out = derive(result([phrase("Hola.", 0, 1, locale="es-ES")]), tmp_path, locale="en-GB")
    assert Transcript.model_validate_json(out["json"]).locale == "es-ES"  # identified wins over the job's
    several = result([phrase("Hola.", 0, 1, locale="es-ES"), phrase("Hi.", 1, 2, locale="en-US")])
    _, out = derive(several, tmp_path, locale="en-GB")
    assert Transcript.model_validate_json(out["json"]).locale is None


def test_no_caption_ends_after_the_audio(tmp_path):
    """The last phrase ends 0.3 s before the audio does: its 1 s minimum display time is cut there."""
    phrases = [phrase("First words.", 0, 1.5), phrase("Two.", 9.2, 9.4), phrase("Last.", 9.5, 9.7)]
    _, out = derive(result(phrases, duration=10.0), tmp_path)
    for cues in (read_srt(out["srt"]), read_vtt(out["vtt"])):
        assert max(cue.end for cue in cues) == 10_000
        assert [cue.text for cue in cues] == ["First words.", "Two.", "Last."]
        assert cues[0].end == 1500


def test_empty_candidates_are_dropped_from_every_format(tmp_path):
    silence = phrase("", 1, 2, lexical="")
    blank = phrase("  ", 3, 4, lexical=" ")
    _, out = derive(result([phrase("Hello.", 0, 1), silence, blank, phrase("Bye.", 5, 6)]), tmp_path)
    transcript = Transcript.model_validate_json(out["json"])
    assert [p.display for p in transcript.phrases] == ["Hello.", "Bye."]
    assert out["txt"] == b"[00:00:00] Hello. Bye.\n"
    assert [c.text for c in read_srt(out["srt"])] == ["Hello.", "Bye."]
    assert [c.text for c in read_vtt(out["vtt"])] == ["Hello.", "Bye."]


def test_lexical_text_shows_when_the_display_form_is_blank(tmp_path):
    _, out = derive(result([phrase(" ", 0, 1, lexical="hello there")]), tmp_path)
    assert out["txt"] == b"[00:00:00] hello there\n"
    assert [c.text for c in read_srt(out["srt"])] == ["hello there"]


def test_unrecognised_phrase_with_an_empty_candidate_list_is_skipped(tmp_path):
    failed = phrase("x", 1, 2)
    failed.update(recognitionStatus="InitialSilenceTimeout", nBest=[])
    derived, out = derive(result([phrase("Hello.", 0, 1), failed, phrase("Bye.", 3, 4)]), tmp_path)
    assert derived.outcome.valid, derived.outcome.problems
    assert derived.outcome.phrase_count == 2
    assert [p.display for p in Transcript.model_validate_json(out["json"]).phrases] == ["Hello.", "Bye."]
    recognised = phrase("y", 1, 2)
    recognised["nBest"] = []
    derived, _ = derive(result([recognised]), tmp_path)
    assert derived.outcome.problems == [
        "recognizedPhrases[0]: nBest: List should have at least 1 item after validation, not 0"
    ]


def test_captions_are_timed_by_display_words(tmp_path):
    """Formatted numbers make fewer display words than lexical words: the display words time the cues."""
    display = "Call 555 1234 now, and then we will talk about the order that is 42 days late."
    lexical = "call five five five one two three four now and then we will talk about the order that is forty two days late"
    spoken = phrase(display, 0, 12, lexical=lexical, words="lexical")
    # Display words run late: the caption split must follow them, not the evenly spread lexical words.
    spoken["nBest"][0]["displayWords"] = [
        {"displayText": text, "offsetInTicks": float(index * 10_000_000 // 2), "durationInTicks": 5_000_000.0}
        for index, text in enumerate(display.split())
    ]
    _, out = derive(result([spoken], duration=20.0), tmp_path)
    transcript = Transcript.model_validate_json(out["json"])
    lexical_words = transcript.phrases[0].words
    assert lexical_words is not None
    assert len(lexical_words) == len(lexical.split())
    assert transcript.phrases[0].display_words is not None
    cues = read_srt(out["srt"])
    assert " ".join(cue.text for cue in cues) == display
    words_before = {cue.text.split()[0]: cue.start for cue in cues}
    for text, start in words_before.items():
        index = display.split().index(text)
        assert start == index * 500  # where that display word starts


def test_millisecond_fields_are_read_when_ticks_and_iso_are_absent(tmp_path):
    spoken = phrase("Hello there.", 1.25, 2.5, words="lexical")
    for holder in [spoken, *spoken["nBest"][0]["words"]]:
        start, length = holder.pop("offsetInTicks"), holder.pop("durationInTicks")
        del holder["offset"], holder["duration"]
        holder.update(offsetMilliseconds=start / 10_000, durationMilliseconds=length / 10_000)
    document = result([spoken], duration=3.0)
    del document["durationInTicks"], document["duration"]
    derived, out = derive(document, tmp_path)
    assert derived.outcome.valid, derived.outcome.problems
    transcript = Transcript.model_validate_json(out["json"])
    assert (transcript.phrases[0].start, transcript.phrases[0].end) == (1.25, 2.5)
    assert transcript.phrases[0].words is not None
    assert [(w.start, w.end) for w in transcript.phrases[0].words] == [(1.25, 1.875), (1.875, 2.5)]
    assert transcript.duration_seconds == 3.0
