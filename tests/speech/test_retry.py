from datetime import UTC, datetime

import pytest
import requests
import urllib3.exceptions

from shared.speech.retry import (
    IncompleteBodyError,
    RetryRules,
    backoff_delay,
    failed_before_sending,
    is_retryable_exception,
    is_retryable_status,
    next_wait,
    parse_retry_after,
    retry_after_seconds,
)

NOW = datetime(2025, 5, 24, 13, 37, 0, tzinfo=UTC)
POLICY = RetryRules()


def refused() -> requests.ConnectionError:
    reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/x", reason))  # type: ignore[arg-type]


def aborted() -> requests.ConnectionError:
    reason = urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError())
    return requests.ConnectionError(reason)


@pytest.mark.parametrize(
    ("status", "idempotent", "has_retry_after", "expected"),
    [
        (408, True, False, True),
        (429, True, False, True),
        (500, True, False, True),
        (502, True, False, True),
        (503, True, False, True),
        (504, True, False, True),
        (400, True, True, False),
        (401, True, False, False),
        (403, True, False, False),
        (404, True, False, False),
        (409, True, False, False),
        (200, True, True, False),
        (429, False, False, True),
        (503, False, True, True),
        (503, False, False, False),
        (500, False, True, False),
        (408, False, False, False),
    ],
)
def test_is_retryable_status(status, idempotent, has_retry_after, expected):
    assert is_retryable_status(status, idempotent=idempotent, has_retry_after=has_retry_after) is expected


@pytest.mark.parametrize(
    ("exc", "idempotent", "expected"),
    [
        (refused(), True, True),
        (refused(), False, True),
        (requests.ConnectTimeout(), False, True),
        (aborted(), True, True),
        (aborted(), False, False),
        (requests.ReadTimeout(), True, True),
        (requests.ReadTimeout(), False, False),
        (requests.exceptions.ChunkedEncodingError(), True, True),
        (requests.exceptions.ChunkedEncodingError(), False, False),
        (IncompleteBodyError(), True, True),
        (requests.exceptions.SSLError(), True, False),
        (requests.exceptions.InvalidURL(), True, False),
        (ValueError(), True, False),
    ],
)
def test_is_retryable_exception(exc, idempotent, expected):
    assert is_retryable_exception(exc, idempotent=idempotent) is expected


def test_failed_before_sending_tells_refused_from_aborted():
    assert failed_before_sending(refused())
    assert not failed_before_sending(aborted())
    assert not failed_before_sending(requests.ConnectionError())


@pytest.mark.parametrize("attempt", range(1, 12))
def test_backoff_is_full_jitter_within_the_exponential_bound(attempt):
    bound = min(POLICY.cap, POLICY.base * 2 ** (attempt - 1))
    assert backoff_delay(POLICY, attempt, 0.0) == 0.0
    assert backoff_delay(POLICY, attempt, 0.5) == pytest.approx(bound / 2)
    assert backoff_delay(POLICY, attempt, 0.999999) == pytest.approx(bound, rel=1e-5)
    assert backoff_delay(POLICY, attempt, 0.999999) <= POLICY.cap


def test_backoff_bounds_grow_then_cap():
    bounds = [backoff_delay(POLICY, attempt, 1.0) for attempt in range(1, 10)]
    assert bounds == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_next_wait_stops_after_max_attempts():
    policy = RetryRules(max_attempts=3)
    assert next_wait(policy, attempt=1, waited=0, retry_after=None, rand=1.0) == 0.5
    assert next_wait(policy, attempt=2, waited=0.5, retry_after=None, rand=1.0) == 1.0
    assert next_wait(policy, attempt=3, waited=1.5, retry_after=None, rand=1.0) is None


def test_next_wait_honours_retry_after_beyond_cap_but_within_total():
    policy = RetryRules(cap=1.0, max_total_wait=100.0)
    assert next_wait(policy, attempt=1, waited=0, retry_after=60.0, rand=0.0) == 60.0
    assert next_wait(policy, attempt=2, waited=60, retry_after=41.0, rand=0.0) is None
    assert next_wait(policy, attempt=2, waited=60, retry_after=40.0, rand=0.0) == 40.0
    assert next_wait(policy, attempt=1, waited=0, retry_after=-3.0, rand=0.7) == 0.0


def test_total_wait_of_the_default_policy_is_bounded():
    waited, attempt = 0.0, 1
    while (
        delay := next_wait(POLICY, attempt=attempt, waited=waited, retry_after=None, rand=0.999999)
    ) is not None:
        waited += delay
        attempt += 1
    assert attempt == POLICY.max_attempts
    assert waited <= POLICY.max_total_wait
    assert waited == pytest.approx(0.5 + 1 + 2 + 4 + 8, rel=1e-5)


def test_retry_policy_rejects_nonsense():
    with pytest.raises(ValueError, match="retry policy"):
        RetryRules(max_attempts=0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        ("Sat, 24 May 2025 13:37:30 GMT", 30.0),
        ("Sat, 24 May 2025 13:36:00 GMT", 0.0),
        ("Sat, 24 May 2025 13:37:30", 30.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, NOW) == expected


def test_retry_after_seconds_prefers_milliseconds_headers():
    assert retry_after_seconds({"Retry-After": "5", "retry-after-ms": "1500"}, NOW) == 1.5
    assert retry_after_seconds({"x-ms-retry-after-ms": "250"}, NOW) == 0.25
    assert retry_after_seconds({"retry-after": "2"}, NOW) == 2.0
    assert retry_after_seconds({"retry-after-ms": "bad", "Retry-After": "3"}, NOW) == 3.0
    assert retry_after_seconds({}, NOW) is None
