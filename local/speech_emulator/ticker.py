"""The emulator's background work, started and stopped with the server (ASGI lifespan).

The ticker is an asyncio task on the server's own event loop, not a thread: the job and hook stores are only
ever touched from that loop, so ticking needs no locks and cannot race a request. It announces due job
transitions every `tick_seconds`; only jobs created through the API are watched, so seeded thousands cost
nothing. The delivery worker thread, which makes the blocking callbacks, reports each attempt back onto the
loop with call_soon_threadsafe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from local.speech_emulator.notifier import Notifier
from local.speech_emulator.state import EmulatorState
from local.speech_emulator.webhook_delivery import Attempt, Delivery

log = logging.getLogger(__name__)


async def tick_forever(notifier: Notifier, interval: float) -> None:
    while True:
        try:
            notifier.tick()
        except Exception:
            log.exception("the web hook ticker failed; it carries on")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def background(app: Starlette) -> AsyncIterator[None]:
    state: EmulatorState = app.state.emulator
    notifier = state.notifier
    loop = asyncio.get_running_loop()

    def report(delivery: Delivery, attempt: Attempt) -> None:  # runs on the worker thread
        with contextlib.suppress(RuntimeError):  # the loop is already closed when the server has stopped
            loop.call_soon_threadsafe(notifier.apply, delivery, attempt)

    notifier.worker.start(report)
    ticker = asyncio.create_task(tick_forever(notifier, state.config.tick_seconds), name="webhook-ticker")
    try:
        yield
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        await asyncio.to_thread(notifier.worker.stop)
