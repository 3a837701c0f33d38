import json

import pytest

from shared.transcripts.model import Phrase
from shared.transcripts.parse import MAX_PROBLEMS, ParseOutcome, ResultFileParser
from tests.transcripts.builders import encode, feed_randomly, phrase, result

SEEDS = range(5)


def parse(data: bytes, seed: int | None = None) -> tuple[ParseOutcome, list[Phrase]]:
    phrases: list[Phrase] = []
    parser = ResultFileParser(phrases.append)
    if seed is None:
        parser.feed(data)
    else:
        feed_randomly(parser.feed, data, seed)
    return parser.close(), phrases


def parse_everywhere(data: bytes) -> tuple[ParseOutcome, list[Phrase]]:
    """Whole, byte by byte and in random chunks: all must agree."""
    expected = parse(data)
    assert parse(data, seed=None) == expected
    for seed in SEEDS:
        assert parse(data, seed) == expected, f"chunking seed {seed}"
    one_by_one: list[Phrase] = []
    parser = ResultFileParser(one_by_one.append)
    for index in range(len(data)):
        parser.feed(data[index : index + 1])
    assert (parser.close(), one_by_one) == expected
    return expected


def batches_taken(data: bytes, outcome: ParseOutcome) -> list[str]:
    """The runs of phrases the batch decoder took (the rest went one by one), parsing `data` to `outcome`."""
    taken: list[str] = []
    parser = ResultFileParser(lambda _: None)
    offer = parser._framer._on_batch
    assert offer is not None
    parser._framer._on_batch = lambda text: offer(text) and not taken.append(text)
    parser.feed(data)
    assert parser.close() == outcome
    return taken


def test_stereo_call_with_word_timings():
    phrases = [
        phrase("Thank you for calling Contoso.", 0.5, 2.5, channel=0, words="lexical"),
        phrase("Hi, my order is late.", 2.0, 4.0, channel=1, words="lexical", alternatives=2),
    ]
    outcome, parsed = parse_everywhere(encode(result(phrases), indent=2))
    assert outcome.valid, outcome.problems
    assert outcome.phrase_count == 2
    assert outcome.channels == [0, 1]
    assert outcome.speakers == []
    assert outcome.source == "https://store.blob.core.windows.net/audio/call-0042.wav?sv=2024&sig=SECRET"
    assert outcome.timestamp == "2025-05-24T13:37:05Z"
    assert outcome.duration_seconds == 60.0
    first, second = parsed
    assert (first.start, first.end, first.channel) == (0.5, 2.5, 0)
    assert first.display == "Thank you for calling Contoso."
    assert first.lexical == "thank you for calling contoso"
    assert first.confidence == 0.91
    assert first.words is not None
    assert [w.text for w in first.words] == ["thank", "you", "for", "calling", "contoso"]
    assert first.words[0].start == 0.5
    assert first.words[-1].end == 2.5
    assert first.words[0].confidence == 0.9
    assert second.display == "Hi, my order is late."  # the best candidate, not an alternative


def test_diarization_speakers():
    phrases = [
        phrase("Hello.", 0, 1, speaker=1),
        phrase("Hi there.", 1, 2, speaker=2),
        phrase("How are you?", 2, 3, speaker=10),
    ]
    outcome, parsed = parse_everywhere(encode(result(phrases)))
    assert outcome.valid
    assert outcome.speakers == ["1", "2", "10"]  # numeric order
    assert [p.speaker for p in parsed] == ["1", "2", "10"]


def test_language_identification_locales_in_first_seen_order():
    phrases = [
        phrase("Hola.", 0, 1, locale="es-ES"),
        phrase("Hello.", 1, 2, locale="en-US"),
        phrase("Adiós.", 2, 3, locale="es-ES"),
    ]
    outcome, parsed = parse_everywhere(encode(result(phrases)))
    assert outcome.locales == ["es-ES", "en-US"]
    assert [p.locale for p in parsed] == ["es-ES", "en-US", "es-ES"]


def test_whisper_display_only_and_display_words():
    phrases = [
        phrase("Whisper output, display only.", 0, 2, lexical=""),
        phrase("With display words.", 2, 4, lexical="", words="display"),
    ]
    outcome, parsed = parse_everywhere(encode(result(phrases)))
    assert outcome.valid
    assert parsed[0].lexical == ""
    assert parsed[0].text == "Whisper output, display only."
    assert parsed[0].words is parsed[0].display_words is None
    assert parsed[1].words is None
    assert parsed[1].display_words is not None
    assert [w.text for w in parsed[1].display_words] == ["With", "display", "words."]
    assert parsed[1].display_words[0].confidence is None


def test_missing_optional_fields():
    bare = {"offsetInTicks": 10_000_000, "durationInTicks": 5_000_000, "nBest": [{"display": "Just text."}]}
    outcome, parsed = parse_everywhere(encode({"recognizedPhrases": [bare]}))
    assert outcome.valid, outcome.problems
    assert (outcome.source, outcome.timestamp, outcome.duration_seconds) == (None, None, None)
    assert outcome.channels == []
    assert parsed == [Phrase(start=1.0, end=1.5, display="Just text.")]


def test_explicit_nulls():
    spoken = phrase("Hello there.", 0, 1, channel=None, words="lexical")
    spoken.update(channel=None, speaker=None, locale=None, recognitionStatus=None)
    spoken["nBest"][0].update(display=None, itn=None, maskedITN=None, confidence=None, displayWords=None)
    spoken["nBest"][0]["words"][0].update(word=None, confidence=None)
    document = {"source": None, "timestamp": None, "durationInTicks": None, "recognizedPhrases": [spoken]}
    outcome, parsed = parse_everywhere(encode(document))
    assert outcome.valid, outcome.problems
    assert parsed[0].text == "hello there"  # no display text: the lexical form
    assert parsed[0].words is not None
    assert [w.text for w in parsed[0].words] == ["", "there"]


def test_ticks_as_floats_and_iso_fallbacks():
    only_iso = phrase("Late phrase.", 0, 0, words="lexical")
    for holder in [only_iso, *only_iso["nBest"][0]["words"]]:
        del holder["offsetInTicks"], holder["durationInTicks"]
    only_iso["offset"], only_iso["duration"] = "PT1M2.5S", "PT1.5S"
    only_iso["nBest"][0]["words"][0].update(offset="PT1M2.5S", duration="PT0.75S")
    only_iso["nBest"][0]["words"][1].update(offset="PT1M3.25S", duration="PT0.75S")
    document = {"duration": "PT1H", "recognizedPhrases": [only_iso]}
    outcome, parsed = parse_everywhere(encode(document))
    assert outcome.valid, outcome.problems
    assert outcome.duration_seconds == 3600.0
    assert (parsed[0].start, parsed[0].end) == (62.5, 64.0)
    assert parsed[0].words is not None
    assert [(w.start, w.end) for w in parsed[0].words] == [(62.5, 63.25), (63.25, 64.0)]


def test_duration_from_milliseconds_when_ticks_missing():
    outcome, _ = parse(encode({"durationMilliseconds": 2580, "recognizedPhrases": []}))
    assert outcome.duration_seconds == 2.58


def test_header_after_phrases_and_unknown_fields_everywhere():
    spoken = phrase("Hello.", 0, 1, words="lexical")
    spoken["futureField"] = {"nested": ["]", "}", {"deep": [1, 2, {"x": '\\"]'}]}]}
    spoken["nBest"][0]["sentiment"] = {"positive": 0.9}
    spoken["nBest"][0]["words"][0]["pronunciation"] = "h@loU"
    document = result([spoken], header_last=True)
    document = {"newTopLevel": {"a": [{"b": "[{"}], "c": "\\"}, "nothing": None, "flag": False, **document}
    document.update(trailer=[None, True, 1.5e3], count=-12, note="x")
    outcome, parsed = parse_everywhere(encode(document, indent=1))
    assert outcome.valid, outcome.problems
    assert outcome.source is not None
    assert outcome.source.endswith("call-0042.wav?sv=2024&sig=SECRET")
    assert parsed[0].display == "Hello."


def test_combined_phrases_skipped_even_with_tricky_strings():
    combined = [
        {"channel": 0, "display": 'brackets ] } [ { and "quotes" and \\ backslashes \\\\" and ünïcødé'}
    ]
    document = {"combinedRecognizedPhrases": combined, "recognizedPhrases": [phrase("Hi.", 0, 1)]}
    outcome, parsed = parse_everywhere(encode(document))
    assert outcome.valid, outcome.problems
    assert len(parsed) == 1


def test_empty_result_is_valid():
    outcome, parsed = parse_everywhere(encode(result([])))
    assert outcome.valid
    assert outcome.phrase_count == 0
    assert parsed == []


def test_phrase_missing_nbest_is_reported_and_the_rest_kept():
    broken = phrase("Two.", 1, 2)
    del broken["nBest"]
    empty = phrase("Three.", 2, 3)
    empty["nBest"] = []
    document = result([phrase("One.", 0, 1), broken, empty, phrase("Four.", 3, 4)])
    outcome, parsed = parse_everywhere(encode(document))
    assert not outcome.valid
    assert outcome.problems[0] == "recognizedPhrases[1]: nBest missing"
    assert outcome.problems[1].startswith("recognizedPhrases[2]: nBest: List should have at least 1 item")
    assert [p.display for p in parsed] == ["One.", "Four."]
    assert outcome.phrase_count == 2


def test_unrecognised_phrase_without_nbest_is_skipped_silently():
    noise = {"recognitionStatus": "NoMatch", "channel": 0, "offsetInTicks": 0.0, "durationInTicks": 1.0}
    outcome, parsed = parse(encode(result([noise, phrase("Hello.", 1, 2)])))
    assert outcome.valid, outcome.problems
    assert [p.display for p in parsed] == ["Hello."]


def test_phrase_without_any_offset_is_reported():
    lost = phrase("Where?", 1, 2)
    del lost["offsetInTicks"], lost["offset"]
    outcome, parsed = parse(encode(result([lost])))
    assert outcome.problems == ["recognizedPhrases[0]: offset missing"]
    assert parsed == []


def test_wrong_types_inside_a_phrase_are_located():
    bad = phrase("Hello there.", 0, 1, words="lexical")
    bad["nBest"][0]["words"][1]["offsetInTicks"] = "soon"
    outcome, _ = parse(encode(result([bad])))
    assert outcome.problems == [
        "recognizedPhrases[0]: nBest[0].words[1].offsetInTicks: Input should be a valid number, "
        "unable to parse string as a number"
    ]


def test_elements_that_are_not_objects():
    outcome, _ = parse(b'{"recognizedPhrases": [1, "x", null, [], true]}')
    assert outcome.problems == [
        "recognizedPhrases[0]: expected an object, got a number",
        "recognizedPhrases[1]: expected an object, got a string",
        "recognizedPhrases[2]: expected an object, got null",
        "recognizedPhrases[3]: expected an object, got a list",
        "recognizedPhrases[4]: expected an object, got a boolean",
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"[1, 2]", "not a transcription result: top-level is a list"),
        (b'"text"', "not a transcription result: top-level is a string"),
        (b"42", "not a transcription result: top-level is a number"),
        (b"null", "not a transcription result: top-level is null"),
        (b"{}", "not a transcription result: recognizedPhrases missing"),
        (b'{"source": "x"}', "not a transcription result: recognizedPhrases missing"),
        (b'{"recognizedPhrases": {"a": 1}}', "recognizedPhrases: expected a list"),
        (b'{"recognizedPhrases": 3}', "recognizedPhrases: expected a list"),
    ],
)
def test_not_a_transcription_result(data: bytes, problem: str):
    outcome, _ = parse(data)
    assert not outcome.valid
    assert outcome.problems == [problem]


@pytest.mark.parametrize(
    ("data", "marker", "message"),
    [
        (b"", None, "empty document"),
        (b"   \n", None, "empty document"),
        (b'{"recognizedPhrases": [{"nBest": [{"display": "\xc3\xa9t\xc3\xa9"}],, }]}', b",,", "Expecting"),
        (b'{"recognizedPhrases": [] } trailing', b"trailing", "unexpected data after the top-level object"),
        (b'{"recognizedPhrases": [] "x": 1}', b'"x"', "expected ',' or '}' after a value"),
        (b'{"recognizedPhrases": [] {"b": 2}]}', b'{"b"', "expected ',' or '}' after a value"),
        (
            b'{"recognizedPhrases": [{"offsetInTicks": 0, "durationInTicks": 1, "nBest": [{}]} {"b": 2}]}',
            b'{"b"',
            "expected ',' or ']' in recognizedPhrases",
        ),
        (b'{"x": [[[{]]]}, "recognizedPhrases": []}', b"]]]}", "unexpected ']'"),
        # The C scanner does not say where a rejected constant is: the phrase is named instead.
        (b'{"recognizedPhrases": [{"offsetInTicks": NaN}]}', b'{"offsetInTicks"', "NaN is not JSON"),
        (b'{"s\xc3\xb6urce" "x"}', b'"x"', "expected ':'"),
        (b"{recognizedPhrases: []}", b"recognizedPhrases", "expected a property name"),
    ],
)
def test_invalid_json_names_the_byte(data: bytes, marker: bytes | None, message: str):
    for seed in [None, *SEEDS]:
        outcome, _ = parse(data, seed)
        assert not outcome.valid
        assert len(outcome.problems) == 1, outcome.problems
        at = len(data) if marker is None else data.index(marker)
        if marker == b",,":
            at += 1
        assert outcome.problems[0].startswith(f"invalid JSON at byte {at}: {message}"), outcome.problems


def test_truncated_file():
    data = encode(result([phrase("Hello there.", 0, 1, words="lexical")]))
    for cut in (1, len(data) // 3, len(data) // 2, len(data) - 1):
        outcome, _ = parse(data[:cut])
        assert not outcome.valid
        assert outcome.problems[-1].startswith("invalid JSON at byte"), outcome.problems
        assert "end of data" in outcome.problems[-1] or "Unterminated" in outcome.problems[-1]


def test_a_number_cut_by_a_chunk_boundary_is_not_taken_early():
    parser = ResultFileParser(lambda _: None)
    parser.feed(b'{"durationInTicks": 12')
    parser.feed(b'34, "recognizedPhrases": []}')
    assert parser.close().duration_seconds == 1234 / 10_000_000


def test_invalid_utf8():
    outcome, _ = parse(b'{"source": "caf\xe9", "recognizedPhrases": []}')
    assert outcome.problems == ["invalid UTF-8 at byte 15"]


def test_byte_order_mark_is_accepted():
    outcome, _ = parse(b"\xef\xbb\xbf" + encode(result([phrase("Hi.", 0, 1)])))
    assert outcome.valid, outcome.problems


def test_header_with_wrong_type_is_reported_and_the_rest_kept():
    outcome, _ = parse(b'{"source": 5, "recognizedPhrases": []}')
    assert outcome.problems == ["source: Input should be a valid string"]
    outcome, _ = parse(b'{"source": "https://h/a.wav", "durationInTicks": "long", "recognizedPhrases": []}')
    assert outcome.problems == [
        "durationInTicks: Input should be a valid number, unable to parse string as a number"
    ]
    assert outcome.source == "https://h/a.wav"


def test_deep_nesting_is_refused_not_crashed():
    deep = b"[" * 100_000 + b"]" * 100_000
    outcome, _ = parse(b'{"extra": ' + deep + b', "recognizedPhrases": []}')
    assert outcome.problems[0].endswith("nesting too deep")
    outcome, _ = parse(b'{"recognizedPhrases": [{"x": ' + deep + b"}]}")
    assert outcome.problems[0].endswith("nesting too deep")


def test_problems_are_capped():
    broken = {"channel": 0}
    outcome, _ = parse(encode({"recognizedPhrases": [broken] * (MAX_PROBLEMS + 10)}))
    assert len(outcome.problems) == MAX_PROBLEMS + 1
    assert outcome.problems[-1] == "... and 10 more problems"


def test_feed_after_an_error_is_ignored_and_close_is_stable():
    parser = ResultFileParser(lambda _: None)
    parser.feed(b'{"recognizedPhrases": [}')
    parser.feed(b"anything at all")
    first = parser.close()
    assert first.problems == ["invalid JSON at byte 23: Expecting value"]
    assert parser.close() is first


def test_seed_document_is_json():
    """Guard for the builders: what they produce is plain JSON."""
    assert json.loads(encode(result([phrase("x.", 0, 1, words="lexical")])))


def test_batched_phrases_agree_with_one_by_one_and_locate_problems():
    """Runs of phrases are validated as one JSON array; anything odd in a run (a phrase that does not
    validate, a nested value that looks like a phrase boundary, NaN) sends that run the one-by-one way."""
    phrases = [phrase(f"Line {i}.", i, i + 0.5, channel=i % 2, words="lexical") for i in range(100)]
    phrases[20]["nBest"][0]["display"] = "Not a number: NaN."
    phrases[40]["futureField"] = [{"x": 1}, {"recognitionStatus": "Success", "nBest": []}]
    del phrases[70]["nBest"]
    data = encode(result(phrases))
    outcome, parsed = parse_everywhere(data)
    assert outcome.problems == ["recognizedPhrases[70]: nBest missing"]
    assert outcome.phrase_count == 99
    one_by_one: list[Phrase] = []
    parser = ResultFileParser(one_by_one.append)
    parser._framer._on_batch = None  # the reference: every phrase framed and validated on its own
    parser.feed(data)
    assert (parser.close(), one_by_one) == (outcome, parsed)
    assert [p.display for p in parsed][69:71] == ["Line 69.", "Line 71."]
    assert parsed[20].display == "Not a number: NaN."
    assert len(batches_taken(data, outcome)) >= 3  # the batch path did most of the work


def test_infinite_numbers_fall_back_or_are_reported():
    """1e400 is valid JSON and decodes to infinity: never a crash, never an infinite time."""
    endless = phrase("Hello there.", 0, 1, words="lexical")
    endless["offsetInTicks"] = 1e400  # the ISO offset is still there
    endless["nBest"][0]["words"][0]["durationInTicks"] = 1e400
    lost = phrase("Where?", 1, 2)
    del lost["offset"]
    lost["offsetInTicks"] = 1e400
    data = encode(result([endless, lost])).replace(b"Infinity", b"1e400")
    outcome, parsed = parse_everywhere(data)
    assert outcome.problems == ["recognizedPhrases[1]: offset missing"]
    assert parsed[0].start == 0.0
    assert parsed[0].words is not None
    assert parsed[0].words[0].end == 0.5


def test_batches_read_every_spelling_as_pydantic_does():
    """The batch decoder (msgspec) takes a run only when it reads it exactly as pydantic's lax validation of
    each phrase would: spellings only pydantic accepts (numbers as strings, 1.0 as an int, a number beyond
    a double, an empty nBest) send their run the one-by-one way, with the same result."""
    phrases = [phrase(f"Line {i}.", i, i + 0.5, channel=i % 2, words="lexical") for i in range(100)]
    phrases[10]["nBest"][0]["confidence"] = "0.25"
    phrases[30]["channel"] = 1.0
    phrases[50]["nBest"][0]["words"][0]["offsetInTicks"] = 1e400
    phrases[60]["speaker"] = 2.0
    phrases[80]["recognitionStatus"] = "NoMatch"
    phrases[80]["nBest"] = []
    phrases[90]["offsetInTicks"] = int(phrases[90]["offsetInTicks"])  # an int where the service writes 1.0
    data = encode(result(phrases)).replace(b"Infinity", b"1e400")
    outcome, parsed = parse_everywhere(data)
    reference: list[Phrase] = []
    parser = ResultFileParser(reference.append)
    parser._framer._on_batch = None
    parser.feed(data)
    assert (parser.close(), reference) == (outcome, parsed)
    assert outcome.valid
    assert outcome.phrase_count == 99
    assert parsed[10].confidence == 0.25
    assert parsed[30].channel == 1
    assert parsed[60].speaker == "2"
    assert parsed[50].words is not None
    assert parsed[50].words[0].start == 50.0
    taken = batches_taken(data, outcome)
    assert (
        sum(text.count('"recognitionStatus"') for text in taken) >= 30
    )  # the clean runs; the rest one by one
