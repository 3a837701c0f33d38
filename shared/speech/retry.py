"""Retry decisions and backoff: pure functions of a policy, a status or exception, and the time so far.

What is retried: 408, 429 and 5xx answers and network failures (refused or dropped connections, timeouts,
bodies cut short), with exponential backoff and full jitter, or exactly the wait the service asks for in
Retry-After. Other 4xx answers never are: the same request will fail the same way.

Requests that create something (submitting a transcription, creating a web hook) are not idempotent: if the
service received one and the answer was lost, a retry would create a second job that is billed and
harvested twice. They are retried only when the service certainly did not act on them: 429 (throttled before
processing), 503 with Retry-After (the service asks for a retry), or a connection that never opened.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
import urllib3.exceptions


class IncompleteBodyError(requests.exceptions.RequestException):
    """A 2xx answer whose JSON body does not parse: the connection was cut without the framing noticing."""


# Failures where no usable answer arrived; retrying the same request may well work.
_NETWORK_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    IncompleteBodyError,
)
# Certificate and TLS problems are configuration, not weather.
_PERMANENT_NETWORK_ERRORS = (requests.exceptions.SSLError,)


@dataclass(frozen=True)
class RetryRules:
    """At most `max_attempts` sends; waits of up to `cap` s growing from `base` s; at most `max_total_wait` s
    of waiting in all (a Retry-After beyond what is left ends the retries instead of blocking the caller)."""

    max_attempts: int = 6
    base: float = 0.5
    cap: float = 30.0
    max_total_wait: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base < 0 or self.cap < 0 or self.max_total_wait < 0:
            raise ValueError(f"invalid retry policy: {self}")


def backoff_delay(policy: RetryRules, attempt: int, rand: float) -> float:
    """Full jitter after the `attempt`-th failure: uniform in [0, min(cap, base * 2**(attempt-1))).

    `rand` is a uniform draw in [0, 1); full jitter spreads clients that failed together (all of a throttled
    poller's workers, say) so they do not come back together.
    """
    return rand * min(policy.cap, policy.base * 2 ** (attempt - 1))


def next_wait(
    policy: RetryRules, *, attempt: int, waited: float, retry_after: float | None, rand: float
) -> float | None:
    """Seconds to wait before the next attempt, or None to give up.

    `attempt` is how many attempts have been made, `waited` the seconds already spent waiting.
    """
    if attempt >= policy.max_attempts:
        return None
    delay = max(0.0, retry_after) if retry_after is not None else backoff_delay(policy, attempt, rand)
    if waited + delay > policy.max_total_wait:
        return None
    return delay


def is_retryable_status(status: int, *, idempotent: bool, has_retry_after: bool) -> bool:
    if idempotent:
        return status in (408, 429) or 500 <= status < 600
    return status == 429 or (status == 503 and has_retry_after)


def failed_before_sending(exc: BaseException) -> bool:
    """True when the connection never opened, so the service cannot have seen the request."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError)


def is_retryable_exception(exc: BaseException, *, idempotent: bool) -> bool:
    if not isinstance(exc, _NETWORK_ERRORS) or isinstance(exc, _PERMANENT_NETWORK_ERRORS):
        return False
    return idempotent or failed_before_sending(exc)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After value: delta-seconds or an HTTP date; None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    when = http_date(text)
    return None if when is None else max(0.0, (when - now).total_seconds())


def http_date(value: str | None) -> datetime | None:
    """An HTTP date (`Date`, `Retry-After`) as an aware datetime; None if absent or unreadable."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def retry_after_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """The service's requested wait: `retry-after-ms` / `x-ms-retry-after-ms` (Azure) or `Retry-After`."""
    lowered = {name.lower(): value for name, value in headers.items()}
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        try:
            return max(0.0, float(lowered[name]) / 1000)
        except (KeyError, ValueError):
            continue
    return parse_retry_after(lowered.get("retry-after"), now)
