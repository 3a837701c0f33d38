"""Speech API calls per poll tick, counted by the emulator: first start, idle, k changed, and idle hours.

python -m bench.poll_cost [--n 1000] [--k 250]

The idle hour is measured three ways side by side: the app's design (an hourly delta sweep and a daily complete
sweep, in the hour the complete sweep begins), the same app with the complete sweep every hour (the design
before), and design B (one list a tick whose filter ors the incremental list with a 60th of the createdDateTime
range), whose Speech calls are counted here alone, as it was not kept.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import math
import time
from datetime import UTC, datetime, timedelta

from bench.stack import bench_stack
from local.speech_emulator.admin_client import AdminClient
from local.speech_emulator.admin_wire import SeedStatus
from shared import backlog
from shared.poll import Poller, odata_time
from shared.speech import SpeechClient
from shared.states import OPEN_STATES, JobKind, LedgerState

BATCH = 10  # jobs created in the same second; batches are 6 s apart, so createdDateTime can be sliced


def seed_spread(admin: AdminClient, count: int, status: SeedStatus, first: datetime) -> list[str]:
    ids: list[str] = []
    for batch in range(math.ceil(count / BATCH)):
        created = first + timedelta(seconds=6 * batch)
        ids += admin.seed(min(BATCH, count - len(ids)), status=status, created=created, last_action=created)
    return ids


def one_list_a_tick_hour(
    speech: SpeechClient, admin: AdminClient, watermark: datetime, first: datetime, last: datetime
) -> list[int]:
    """Design B's calls in an idle hour: each tick `lastActionDateTime ge <watermark> or (createdDateTime ge A
    and createdDateTime lt B)`, [A, B) the tick's 60th of the creation times, every page of it listed."""
    step = (last + timedelta(seconds=1) - first) / 60
    bounds = [first + step * tick for tick in range(60)] + [last + timedelta(seconds=1)]
    calls = []
    for low, high in itertools.pairwise(bounds):
        admin.reset_stats()
        since, a, b = odata_time(watermark), odata_time(low), odata_time(high)
        list(
            speech.list_transcriptions(
                filter=f"lastActionDateTime ge {since} or (createdDateTime ge {a} and createdDateTime lt {b})"
            )
        )
        calls.append(admin.stats().total)
    return calls


def hour_line(label: str, calls: list[int]) -> str:
    return f"    {label} {sum(calls):4d} calls = {sum(calls) / len(calls):.2f} per tick, max {max(calls)} in one tick"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="transcriptions in the resource")
    parser.add_argument("--k", type=int, default=250, help="transcriptions that change between two ticks")
    args = parser.parse_args(argv)

    with bench_stack() as stack:
        parts = stack.parts(REQUEUE_AFTER_MINUTES="100000", PENDING_WARNING_MINUTES="100000")
        admin = stack.emulator.admin
        # Created over 100 minutes (10,000 jobs), all more than 2 hours ago, so no delta sweep lists them.
        oldest = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=4)
        done = seed_spread(admin, args.n - args.k, "Succeeded", oldest)
        running = seed_spread(
            admin, args.k, "Running", oldest + timedelta(seconds=6 * math.ceil(len(done) / BATCH))
        )
        newest = oldest + timedelta(
            seconds=6 * (math.ceil(len(done) / BATCH) + math.ceil(args.k / BATCH) - 1)
        )
        start = datetime.now(UTC)
        clock = {"now": start}
        poller = Poller(parts.settings, parts.speech, parts.ledger, parts.queue, clock=lambda: clock["now"])
        hourly = Poller(
            parts.settings.model_copy(update={"full_reconcile_hours": 1}),
            parts.speech,
            parts.ledger,
            parts.queue,
            clock=lambda: clock["now"],
        )

        def tick(which: Poller = poller) -> tuple[int, float]:
            admin.reset_stats()
            gc.collect()  # the emulator shares this process: its garbage is not the tick's time
            began = time.perf_counter()
            which.tick()
            return admin.stats().total, time.perf_counter() - began

        def hour(which: Poller, after: datetime) -> list[int]:
            calls: list[int] = []
            for minute in range(1, 61):
                clock["now"] = after + timedelta(minutes=minute)
                calls.append(tick(which)[0])
            return calls

        first, first_s = tick()
        # Ticks a minute apart on the app's clock (the default schedule), however long the backfill took here:
        # the idle tick is not the five-minutely housekeeping tick.
        clock["now"] = start + timedelta(minutes=1)
        idle, idle_s = tick()
        for job_id in running:
            admin.complete(job_id, "Succeeded")
        second = datetime.now(UTC).replace(microsecond=0)
        # The service stamps changes to the second; the next tick reads from its clock (the Date header).
        while admin.server_time() <= second:
            time.sleep(0.05)
        clock["now"] = start + timedelta(minutes=2)
        changed, changed_s = tick()

        # The backlog gauges (every tick) over the open rows, next to reading those rows whole as they were read.
        gc.collect()
        began = time.perf_counter()
        open_rows = len(list(parts.ledger.query(JobKind.TRANSCRIPTION, [*OPEN_STATES, LedgerState.POISONED])))
        whole_s = time.perf_counter() - began
        began = time.perf_counter()
        backlog.observe(
            parts.ledger, parts.queue, clock["now"], timedelta(hours=parts.settings.ttl_warning_hours)
        )
        gauges_s = time.perf_counter() - began

        # The design before: the complete sweep every hour (due an hour after the backfill).
        before = hour(hourly, start + timedelta(minutes=59))
        # The app: the hour in which the daily complete sweep begins, with the hourly delta sweep in it too.
        finished = parts.ledger.poller_state("transcriptions").reconcile_finished
        assert finished is not None
        kept = hour(
            poller, finished + timedelta(hours=parts.settings.full_reconcile_hours) - timedelta(minutes=1)
        )
        watermark = parts.ledger.poller_state("transcriptions").watermark
        assert watermark is not None
        one_list = one_list_a_tick_hour(parts.speech, admin, watermark, oldest, newest)

        print(f"poll cost, N = {args.n} transcriptions (emulator request counts)")
        print(
            f"  first start (backfill):  {first:4d} calls  (ceil(N/100) = {math.ceil(args.n / 100)}), {first_s:.1f} s"
        )
        print(f"  idle tick:               {idle:4d} calls, {idle_s * 1000:.0f} ms")
        print(
            f"  k = {args.k} changed:        {changed:4d} calls  (budget ceil(k/100)+2 = {math.ceil(args.k / 100) + 2}), {changed_s:.1f} s"
        )
        print(
            f"  backlog gauges over {open_rows} open rows: {gauges_s:.2f} s (reading the rows whole: {whole_s:.2f} s)"
        )
        print("  an idle hour of 60 ticks with a full reconcile (budget 2 per tick):")
        print(hour_line("delta sweep hourly, complete sweep daily (kept):     ", kept))
        print(hour_line("complete sweep hourly (the design before):           ", before))
        print(hour_line("B: one list a tick, incremental or a createdDateTime slice:", one_list))


if __name__ == "__main__":
    main()
