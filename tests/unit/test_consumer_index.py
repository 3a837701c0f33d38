"""The example consumer's pure part: a manifest and its .txt become one index row."""

from datetime import UTC, datetime

from examples.consumer.transcript_index.contract import Manifest
from examples.consumer.transcript_index.index import FIRST_WORDS, index_row, summarize_text


def test_speakers_are_the_txt_labels_and_first_words_skip_times_and_labels():
    text = (
        "[00:00:00] Agent: Hello, thanks for calling.\n\n"
        "[00:00:04] Customer: Hi: my order is late.\n\n"
        "[00:00:09] Agent: Let me check.\n"
    )
    summary = summarize_text(text)
    assert summary.speakers == ["Agent", "Customer"]
    assert summary.first_words.startswith("Hello, thanks for calling. Hi: my order is late.")


def test_a_single_voice_has_no_labels_and_long_text_is_cut():
    summary = summarize_text("[00:00:00] " + "word " * 200)
    assert summary.speakers == []
    assert len(summary.first_words) == FIRST_WORDS
    assert summary.first_words.endswith("…")
    assert summarize_text("(no speech recognized)").first_words == ""


def test_row_of_a_failed_job():
    manifest = Manifest.model_validate(
        {
            "kind": "transcription",
            "id": "j1",
            "status": "Failed",
            "error": {"code": "InvalidData", "message": "m"},
            "harvestedAt": datetime(2026, 11, 21, tzinfo=UTC).isoformat(),
            "unknownField": 1,
        }
    )
    row = index_row(manifest, "https://a/m.json", [], [], via="blob", event_id=None)
    assert (row["PartitionKey"], row["RowKey"], row["status"], row["error"]) == (
        "transcription",
        "j1",
        "Failed",
        "InvalidData",
    )
    assert row["firstWords"] == ""
    assert row["eventId"] == ""
