"""The transport stack over real HTTP: retries, Retry-After, rate limiting, network failures, redaction.

`waits` records what the client would have slept, so nothing here sleeps; attempt counts come both from the
server's log and from the client's own `calls` counter.
"""

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from shared.failures import Failure, classify
from shared.speech import (
    ApiVersion,
    AuthenticationError,
    InvalidRequestError,
    RetryRules,
    ServiceError,
    SpeechClient,
    SpeechTransportError,
    ThrottledError,
    TranscriptionDefinition,
)
from tests.speech.scripted_server import DroppingServer, Reply, ScriptedServer, refused_url

JOB = {"self": "http://svc/speechtotext/transcriptions/job-1?api-version=2024-11-15", "status": "Running"}
THROTTLED = {"code": "TooManyRequests", "message": "Too many requests."}
BROKEN = {"code": "InternalServerError", "message": "Something broke."}


def client(url: str, key: str, waits: list[float], **kwargs) -> SpeechClient:
    return SpeechClient(url, key=key, sleep=waits.append, **kwargs)


def definition() -> TranscriptionDefinition:
    return TranscriptionDefinition.for_version(
        ApiVersion.V2024_11_15, locale="en-US", display_name="t", content_urls=["https://a/x.wav"]
    )


def test_429_with_retry_after_is_waited_out_exactly(server: ScriptedServer, key, waits):
    throttled = Reply(429, THROTTLED, {"Retry-After": "2"})
    server.script(throttled, throttled, Reply(json=JOB))
    speech = client(server.url, key, waits)
    assert speech.get_transcription("job-1").wire == JOB
    assert waits == [2.0, 2.0]
    assert len(server.received) == 3
    assert speech.calls == 3


def test_retry_after_as_http_date(server: ScriptedServer, key, waits):
    started = time.monotonic()
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)  # whole seconds
    server.script(Reply(503, BROKEN, {"Retry-After": when}), Reply(json=JOB))
    client(server.url, key, waits).get_transcription("job-1")
    took = time.monotonic() - started  # the wait is counted from the answer: however slow the machine
    assert len(waits) == 1
    assert 29.0 - took <= waits[0] <= 30.0


def test_500_then_200_backs_off_with_jitter_below_base(server: ScriptedServer, key, waits):
    server.script(Reply(500, BROKEN), Reply(json=JOB))
    speech = client(server.url, key, waits)
    assert speech.get_transcription("job-1").id == "job-1"
    assert len(waits) == 1
    assert 0.0 <= waits[0] < 0.5
    assert speech.calls == 2


def test_5xx_until_attempts_run_out_raises_service_error(server: ScriptedServer, key, waits):
    server.script(default=Reply(503, BROKEN, {"apim-request-id": "rid-9"}))
    speech = client(server.url, key, waits, retry=RetryRules(max_attempts=4, base=0.5, cap=1.0))
    with pytest.raises(ServiceError) as caught:
        speech.get_transcription("job-1")
    assert (caught.value.status, caught.value.code, caught.value.request_id) == (
        503,
        "InternalServerError",
        "rid-9",
    )
    assert speech.calls == len(server.received) == 4
    assert len(waits) == 3
    assert all(0.0 <= w <= bound for w, bound in zip(waits, [0.5, 1.0, 1.0], strict=True))


def test_408_is_retried(server: ScriptedServer, key, waits):
    server.script(Reply(408, {"code": "RequestTimeout", "message": "slow"}), Reply(json=JOB))
    client(server.url, key, waits).get_transcription("job-1")
    assert len(server.received) == 2


@pytest.mark.parametrize(
    ("status", "error"), [(400, InvalidRequestError), (401, AuthenticationError), (409, InvalidRequestError)]
)
def test_other_4xx_are_never_retried(server: ScriptedServer, key, waits, status, error):
    server.script(
        default=Reply(
            status, {"code": "InvalidRequest", "message": "no", "innerError": {"code": "InvalidPayload"}}
        )
    )
    speech = client(server.url, key, waits)
    with pytest.raises(error) as caught:
        speech.get_transcription("job-1")
    assert caught.value.inner_code == "InvalidPayload"
    assert speech.calls == len(server.received) == 1
    assert waits == []


def test_throttling_beyond_the_wait_budget_gives_up_at_once(server: ScriptedServer, key, waits):
    server.script(default=Reply(429, THROTTLED, {"Retry-After": "500"}))
    speech = client(server.url, key, waits)
    with pytest.raises(ThrottledError) as caught:
        speech.list_locales()
    assert caught.value.retry_after == 500.0
    assert classify(caught.value) is Failure.TRANSIENT
    assert speech.calls == 1
    assert waits == []


def test_throttling_within_budget_until_attempts_run_out(server: ScriptedServer, key, waits):
    server.script(default=Reply(429, THROTTLED, {"Retry-After": "1"}))
    speech = client(server.url, key, waits, retry=RetryRules(max_attempts=3))
    with pytest.raises(ThrottledError):
        speech.get_transcription("job-1")
    assert waits == [1.0, 1.0]
    assert speech.calls == 3


def test_truncated_body_is_retried_for_reads(server: ScriptedServer, key, waits):
    server.script(Reply(truncate=True), Reply(json={"values": [JOB]}))
    speech = client(server.url, key, waits)
    assert [t.id for t in speech.list_transcriptions()] == ["job-1"]
    assert speech.calls == 2
    assert len(waits) == 1


def test_unparseable_json_in_a_200_counts_as_a_cut_body(server: ScriptedServer, key, waits):
    server.script(Reply(raw=b'{"self": "http://svc/x/job-1", "stat'), Reply(json=JOB))
    assert client(server.url, key, waits).get_transcription("job-1").id == "job-1"
    assert len(server.received) == 2


def test_truncated_bodies_until_attempts_run_out_raise_transport_error(server: ScriptedServer, key, waits):
    server.script(default=Reply(truncate=True))
    speech = client(server.url, key, waits, retry=RetryRules(max_attempts=2))
    with pytest.raises(SpeechTransportError) as caught:
        speech.get_transcription("job-1")
    assert "gave up after 2 attempt(s)" in str(caught.value)
    assert caught.value.status == 0
    assert speech.calls == 2


def test_read_timeout_is_retried(server: ScriptedServer, key, waits):
    server.script(Reply(json=JOB, delay=0.5), Reply(json=JOB))
    speech = client(server.url, key, waits, timeout=(2.0, 0.2))
    assert speech.get_transcription("job-1").id == "job-1"
    assert speech.calls == 2


def test_dropped_connection_is_retried_for_reads(key, waits):
    with DroppingServer() as dropping:
        speech = client(dropping.url, key, waits, retry=RetryRules(max_attempts=3))
        with pytest.raises(SpeechTransportError) as caught:
            speech.get_transcription("job-1")
        assert dropping.connections == 3
    assert speech.calls == 3
    assert len(waits) == 2
    assert key not in str(caught.value)


def test_submit_is_not_resent_once_the_service_may_have_seen_it(key, waits):
    with DroppingServer() as dropping:
        speech = client(dropping.url, key, waits)
        with pytest.raises(SpeechTransportError):
            speech.submit_transcription(definition())
        assert dropping.connections == 1
    assert waits == []


def test_submit_is_retried_when_the_connection_never_opened(key, waits):
    speech = client(refused_url(), key, waits, retry=RetryRules(max_attempts=3))
    with pytest.raises(SpeechTransportError, match=r"POST .*transcriptions:submit"):
        speech.submit_transcription(definition())
    assert speech.calls == 3
    assert len(waits) == 2


@pytest.mark.parametrize(
    "first",
    [Reply(429, THROTTLED), Reply(503, BROKEN, {"Retry-After": "1"})],
    ids=["429", "503-with-retry-after"],
)
def test_submit_is_retried_when_the_service_refused_it(server: ScriptedServer, key, waits, first):
    server.script(first, Reply(201, JOB))
    assert client(server.url, key, waits).submit_transcription(definition()).id == "job-1"
    assert [r.target for r in server.received] == [
        "/speechtotext/transcriptions:submit?api-version=2024-11-15"
    ] * 2


@pytest.mark.parametrize(
    ("first", "error"),
    [
        (Reply(503, BROKEN), ServiceError),
        (Reply(500, BROKEN, {"Retry-After": "1"}), ServiceError),
        (Reply(truncate=True), SpeechTransportError),
    ],
    ids=["503", "500-with-retry-after", "truncated"],
)
def test_submit_is_not_retried_when_the_service_may_have_acted(
    server: ScriptedServer, key, waits, first, error
):
    server.script(first, Reply(201, JOB))
    with pytest.raises(error):
        client(server.url, key, waits).submit_transcription(definition())
    assert len(server.received) == 1
    assert waits == []


def test_rate_limit_waits_instead_of_exceeding_and_is_shared(server: ScriptedServer, key, waits):
    server.script(default=Reply(json=JOB))
    started = time.monotonic()
    first = client(server.url, key, waits, rate_limit=2, rate_window=10.0)
    for _ in range(4):
        first.get_transcription("job-1")
    # Each wait is the window less the time since the reservation it queues behind, so no less than the
    # window less everything this test has spent so far (a fraction of a second, more on a busy machine).
    assert len(waits) == 2
    took = time.monotonic() - started
    assert all(10.0 - took <= w <= 10.0 for w in waits)

    other_waits: list[float] = []
    second = client(server.url, key, other_waits, rate_limit=2, rate_window=10.0)
    second.get_transcription("job-1")
    assert len(other_waits) == 1
    took = time.monotonic() - started
    assert 20.0 - took <= other_waits[0] <= 20.0  # queued behind the first client's reservations

    unrelated: list[float] = []
    client(server.url, key + "-other", unrelated, rate_limit=2, rate_window=10.0).get_transcription("job-1")
    assert unrelated == []


def test_error_messages_never_contain_the_key_or_signatures(server: ScriptedServer, key, waits):
    message = f"Key {key} is invalid for https://a.blob.core.windows.net/c/x.wav?sv=1&sig=S3CR3T%3D"
    server.script(Reply(401, {"code": "Unauthorized", "message": message}))
    with pytest.raises(AuthenticationError) as caught:
        client(server.url, key, waits).get_transcription("job-1")
    assert key not in str(caught.value)
    assert "S3CR3T" not in str(caught.value)
    assert "sig=REDACTED" in str(caught.value)


def test_retries_are_logged_without_secrets(server: ScriptedServer, key, waits, caplog):
    server.script(Reply(500, BROKEN), Reply(json=JOB))
    with caplog.at_level("WARNING", logger="shared.speech.transport"):
        client(server.url, key, waits).get_transcription("job-1")
    assert "HTTP 500; retry 1 of 5" in caplog.text
    assert key not in caplog.text
