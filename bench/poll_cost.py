"""Speech API calls per poll tick, counted by the emulator: first start, idle, k changed, and a full hour.

python -m bench.poll_cost [--n 1000] [--k 250]
"""

from __future__ import annotations

import argparse
import math
import time
from datetime import UTC, datetime, timedelta

from bench.stack import bench_stack
from shared.poll import Poller


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="transcriptions in the resource")
    parser.add_argument("--k", type=int, default=250, help="transcriptions that change between two ticks")
    args = parser.parse_args(argv)

    with bench_stack() as stack:
        parts = stack.parts(REQUEUE_AFTER_MINUTES="100000")
        admin = stack.emulator.admin
        old = datetime.now(UTC) - timedelta(hours=1)
        admin.seed(args.n - args.k, status="Succeeded", created=old, last_action=old)
        running = admin.seed(args.k, status="Running", created=old, last_action=old)
        start = datetime.now(UTC)
        clock = {"now": start}
        poller = Poller(parts.settings, parts.speech, parts.ledger, parts.queue, clock=lambda: clock["now"])

        def tick() -> tuple[int, float]:
            admin.reset_stats()
            began = time.perf_counter()
            poller.tick()
            return admin.stats().total, time.perf_counter() - began

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

        hour = []
        for minute in range(1, 61):
            # Simulated minutes from here on: the hour in which the reconcile falls due.
            clock["now"] = start + timedelta(minutes=60 + minute)
            hour.append(tick()[0])

        print(f"poll cost, N = {args.n} transcriptions (emulator request counts)")
        print(
            f"  first start (backfill):  {first:4d} calls  (ceil(N/100) = {math.ceil(args.n / 100)}), {first_s:.1f} s"
        )
        print(f"  idle tick:               {idle:4d} calls, {idle_s * 1000:.0f} ms")
        print(
            f"  k = {args.k} changed:        {changed:4d} calls  (budget ceil(k/100)+2 = {math.ceil(args.k / 100) + 2}), {changed_s:.1f} s"
        )
        print(
            f"  an hour of idle ticks with a full reconcile: {sum(hour)} calls in 60 ticks = {sum(hour) / 60:.2f} per tick (budget 2), max {max(hour)} in one tick"
        )


if __name__ == "__main__":
    main()
