"""Interruptible waiting for the host's background loops (polling, schedules, lease renewal)."""

from __future__ import annotations

import asyncio


async def wait_or_stop(stopping: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds`; True as soon as `stopping` is set, so shutdown never waits out a delay."""
    try:
        await asyncio.wait_for(stopping.wait(), timeout=max(0.0, seconds))
    except TimeoutError:
        return stopping.is_set()
    return True
