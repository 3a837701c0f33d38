"""Per-key request throttling over a sliding window, like the service's "100 requests per 10 s" limit."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowThrottle:
    """Admits at most `limit` requests per key within any `window_seconds`; rejected requests use no slot."""

    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window = window_seconds
        self._clock = clock
        self._admitted: dict[str, deque[float]] = {}

    def admit(self, key: str) -> int | None:
        """None when the request may proceed, else the whole seconds until a slot frees (at least 1)."""
        now = self._clock()
        admitted = self._admitted.setdefault(key, deque())
        while admitted and admitted[0] <= now - self._window:
            admitted.popleft()
        if len(admitted) >= self._limit:
            return max(1, math.ceil(admitted[0] + self._window - now))
        admitted.append(now)
        return None

    def clear(self) -> None:
        self._admitted.clear()
