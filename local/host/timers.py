"""The timer trigger listener: NCRONTAB occurrences, runOnStartup, past-due runs and schedule monitoring.

One loop per timer function: it awaits each run (including code that outlived functionTimeout) before it
waits for the next occurrence, so runs of one timer never overlap; as in the host, a run that overran its
next occurrence is followed by one immediate catch-up run, not one per occurrence missed. A failed run is
logged and not retried; the next occurrence runs as planned.
Only this process runs the timer: the host's cross-instance singleton lock is not reproduced.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from azure.functions.timer import TimerRequest

from local.host.indexing import TimerFunction
from local.host.invocation import Invoker
from local.host.schedule_monitor import (
    ScheduleStatus,
    StatusStore,
    check_past_due,
    status_after_run,
    unmonitored_status,
)
from local.host.waits import wait_or_stop

log = logging.getLogger("local.host.timers")


class TimerListener:
    def __init__(self, function: TimerFunction, invoker: Invoker, store: StatusStore | None) -> None:
        self._function = function
        self._invoker = invoker
        self._store = store
        self._stopping = asyncio.Event()
        self._status: ScheduleStatus | None = None
        self._task: asyncio.Task[None] | None = None

    def _now(self) -> datetime:
        return datetime.now(self._function.schedule.zone)

    async def start(self) -> None:
        """Read (or initialise) the schedule status, then run the schedule in the background."""
        function, schedule = self._function, self._function.schedule
        now = self._now()
        past_due = False
        if self._store is None:
            self._status = unmonitored_status(now, schedule)
        else:
            stored = await asyncio.to_thread(self._store.read, function.name)
            check = check_past_due(now, schedule, stored)
            self._status, past_due = check.status, check.past_due
            if check.store:
                await self._save()
        upcoming = ", ".join(moment.isoformat() for moment in schedule.occurrences(now, 5))
        log.info(
            "The next 5 occurrences of the '%s' schedule (Cron: '%s') will be: %s",
            function.name,
            schedule,
            upcoming,
        )
        self._task = asyncio.create_task(self._run(past_due), name=f"timer {function.name}")

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    def stop(self) -> None:
        self._stopping.set()

    async def _run(self, past_due: bool) -> None:
        if past_due:
            await self._fire(past_due=True)
        elif self._function.run_on_startup:
            await self._fire(run_on_startup=True)
        while not self._stopping.is_set():
            assert self._status is not None
            if await wait_or_stop(self._stopping, (self._status.next - self._now()).total_seconds()):
                return
            await self._fire()

    async def _fire(self, *, past_due: bool = False, run_on_startup: bool = False) -> None:
        function, status = self._function, self._status
        assert status is not None
        invoked_at = self._now()
        request = TimerRequest(
            past_due=past_due,
            schedule_status=status.model_dump(mode="json", by_alias=True) if self._store else None,
            schedule={"AdjustForDST": True},
        )
        details = None
        if past_due:
            details = f"UnscheduledInvocationReason: IsPastDue, OriginalSchedule: {status.next.isoformat()}"
        elif run_on_startup:
            details = "UnscheduledInvocationReason: RunOnStartup"
        outcome = await self._invoker.invoke(
            function, request, reason=f"Timer fired at {invoked_at.isoformat()}", details=details
        )
        await outcome.wait_finished()
        self._status = status_after_run(
            function.schedule, status, invoked_at, scheduled=not (past_due or run_on_startup)
        )
        if self._store is not None:
            await self._save()

    async def _save(self) -> None:
        """Best effort, as in the host: a status that cannot be written is logged, the schedule goes on."""
        assert self._store is not None
        assert self._status is not None
        try:
            await asyncio.to_thread(self._store.write, self._function.name, self._status)
        except Exception:
            log.exception("Function '%s' failed to update the timer trigger status.", self._function.name)
