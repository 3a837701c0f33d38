"""Speech calls' spans and metrics, against a scripted HTTP server through the production client."""

from shared.speech import SpeechClient
from tests.speech.scripted_server import Reply, ScriptedServer

JOB = {"self": "http://svc/speechtotext/transcriptions/job-1?api-version=2024-11-15", "status": "Running"}
THROTTLED = {"code": "TooManyRequests", "message": "Too many requests."}


def test_one_span_per_call_with_attempts_throttling_and_status_and_a_metric_per_attempt(
    server: ScriptedServer, key, waits, otel
):
    operation = "GET /transcriptions/{id}"
    throttled_before = otel.total("speech.throttled", operation=operation)
    ok_before = otel.total("speech.requests", operation=operation, status_code="200")
    server.script(Reply(429, THROTTLED, {"Retry-After": "1"}), Reply(json=JOB))
    SpeechClient(server.url, key=key, sleep=waits.append).get_transcription("job-1")

    (span,) = [s for s in otel.spans() if s.attributes.get("speech.operation") == operation]
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["speech.attempts"] == 2
    assert span.attributes["speech.retries"] == 1
    assert span.attributes["speech.throttled"] == 1
    assert key not in str(dict(span.attributes))
    assert otel.total("speech.throttled", operation=operation) == throttled_before + 1
    assert otel.total("speech.requests", operation=operation, status_code="200") == ok_before + 1


def test_urls_in_spans_have_the_sas_signature_redacted(server: ScriptedServer, key, waits, otel):
    server.script(Reply(json={"values": []}))
    client = SpeechClient(server.url, key=key, sleep=waits.append)
    client._pipeline.call("GET", f"{server.url}/speechtotext/transcriptions?sig=secret-signature&se=2030")
    (span,) = [s for s in otel.spans() if s.attributes.get("speech.operation") == "GET /transcriptions"]
    assert "secret-signature" not in span.attributes["url.full"]
    assert "sig=REDACTED" in span.attributes["url.full"]
