"""report.json summaries: every shape the wire model accepts is summarised, never a crash."""

from shared.harvest import summarize_report


def test_report_without_details_is_summarised():
    # The model allows `details` to be absent; such a report used to crash the harvest (poisoned after retries).
    summary, validation = summarize_report(
        b'{"successfulTranscriptionsCount": 1, "failedTranscriptionsCount": 0}'
    )
    assert validation.valid
    assert summary is not None
    assert summary.successful_transcriptions_count == 1
    assert summary.failures == []


def test_failed_details_are_listed_with_their_sas_removed():
    data = (
        b'{"successfulTranscriptionsCount": 0, "failedTranscriptionsCount": 1, "details": [{"source": '
        b'"https://a.blob.core.windows.net/c/x.wav?sv=1&sig=SECRET", "status": "Failed", "errorKind": "InvalidData"}]}'
    )
    summary, _ = summarize_report(data)
    assert summary is not None
    assert [f.source for f in summary.failures] == ["https://a.blob.core.windows.net/c/x.wav"]
    assert summary.failures[0].error_kind == "InvalidData"
