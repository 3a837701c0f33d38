"""Client-side sliding-window rate limit, shared by every client in the process that uses the same resource.

The service allows 100 requests per 10 s per resource and answers 429 beyond that. A poller, several
harvest workers and a webhook handler in one Functions worker would each stay under the limit alone and
exceed it together; sharing one window per endpoint and credential keeps the process as a whole under it,
so throttling becomes a short local wait instead of failed calls and retry storms.
"""

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol


class RateLimiter(Protocol):
    """What the transport asks before every attempt: this process-wide window, or an app-wide budget."""

    def acquire(self, sleep: Callable[[float], None]) -> float:
        """Wait (with the caller's `sleep`) until a request may be sent; return the seconds waited."""
        ...


def next_slot(sent: Sequence[float], now: float, limit: int, window: float) -> float:
    """The earliest time >= now at which one more request keeps every `window` s at `limit` requests or fewer.

    `sent` holds the (possibly future, reserved) send times in ascending order. Keeping
    sent[i] >= sent[i - limit] + window for every i is what bounds each window, and the slot is never before
    the last reservation so the sequence stays sorted.
    """
    slot = now
    if len(sent) >= limit:
        slot = max(slot, sent[len(sent) - limit] + window)
    if sent:
        slot = max(slot, sent[-1])
    return slot


class SlidingWindowLimiter:
    """Hands out send times; a caller whose slot is in the future sleeps until then (outside the lock)."""

    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"rate limit must be >= 1 request per > 0 s, got {limit} per {window}")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Reserve the next slot; return how long the caller must wait for it (0 if it may send now)."""
        with self._lock:
            now = self._clock()
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            slot = next_slot(self._sent, now, self.limit, self.window)
            self._sent.append(slot)
            return slot - now

    def acquire(self, sleep: Callable[[float], None]) -> float:
        """Wait (with the caller's `sleep`) until a request may be sent; return the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            sleep(wait)
        return wait


_shared: dict[tuple[str, str, int, float], SlidingWindowLimiter] = {}
_shared_lock = threading.Lock()


def credential_fingerprint(key: str | None) -> str:
    """Tells keys apart without keeping them: regional endpoints serve many resources, told apart by key.
    Token credentials need a custom-domain endpoint, which already names the resource."""
    return hashlib.sha256(key.encode()).hexdigest()[:16] if key else "token"


def shared_limiter(endpoint_origin: str, fingerprint: str, limit: int, window: float) -> SlidingWindowLimiter:
    """The process-wide limiter for one resource (and one limit setting)."""
    key = (endpoint_origin, fingerprint, limit, window)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = SlidingWindowLimiter(limit, window)
        return _shared[key]
