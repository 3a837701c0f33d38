"""What one invocation's Speech calls cost and what the service's clock said, kept per invocation.

A client is shared by every invocation in a worker, and invocations run at once (the Functions Python worker
runs sync functions on a thread pool), so counts and the service's `Date` cannot live on the client: another
invocation's calls would inflate a tick's count and its answers would move the tick's watermark. Each
request sent is counted on, and each accepted answer's `Date` goes to, the meter of the context that sent it.

    with metered() as meter:
        poller.tick()            # meter.calls, meter.server_time: this tick's, whoever else is calling
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class CallMeter:
    """HTTP requests sent (retries included) and the `Date` of the latest accepted answer, in one context."""

    calls: int = 0
    server_time: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def sent(self) -> None:
        with self._lock:
            self.calls += 1

    def answered(self, server_time: datetime | None) -> None:
        if server_time is not None:
            with self._lock:
                self.server_time = server_time


_current: ContextVar[CallMeter | None] = ContextVar("speech_call_meter", default=None)


@contextmanager
def metered() -> Iterator[CallMeter]:
    """Count the Speech calls made in this context (this thread or task) until the block ends."""
    meter = CallMeter()
    token = _current.set(meter)
    try:
        yield meter
    finally:
        _current.reset(token)


def current() -> CallMeter | None:
    return _current.get()
