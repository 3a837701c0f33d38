"""Jobs harvested per second: a poll tick enqueues M finished jobs, then workers drain the queue the way the
queue trigger does (one message per invocation, several invocations at once).

    python -m bench.harvest_throughput [--jobs 200] [--workers 6]

Two figures: with the app's rate budget at the Speech service's 100 requests / 10 s (what a real resource
allows; each harvest costs 1 call, the file list, since the poll hands it the job's entity), and with the
limit lifted, which shows the harvester's own capacity on this machine; then the CPU each job cost the
harvesting process and Azurite with the limit lifted, which a busy machine distorts less than the rates (the
machine's 2 cores are shared by the harvester, Azurite and the emulator, and whatever else runs).
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from azure.storage.queue import BinaryBase64DecodePolicy

from bench.stack import BenchStack, bench_stack
from shared import runtime


@dataclass(frozen=True)
class Run:
    seconds: float
    calls: int  # Speech requests the emulator answered
    throttled: int  # of which 429
    cpu: float  # CPU seconds of this process (the app's harvest, and the emulator serving it)
    azurite_cpu: float  # CPU seconds of Azurite


def run(stack: BenchStack, jobs: int, workers: int, rate_limit: int | None) -> Run:
    parts = stack.parts(rate_limit=rate_limit)
    old = datetime.now(UTC) - timedelta(minutes=10)
    # Their results exist before the harvest, as in the service (not written by the emulator when listed).
    stack.emulator.admin.seed(
        jobs, status="Succeeded", inputs=2, created=old, last_action=old, materialise=True
    )
    runtime.poller(parts).tick()
    queue = parts.settings.storage.queue(
        parts.settings.harvest_queue, message_decode_policy=BinaryBase64DecodePolicy()
    )
    bodies: list[bytes] = []
    while batch := list(queue.receive_messages(max_messages=32)):
        for message in batch:
            bodies.append(message.content)
            queue.delete_message(message)
    stack.emulator.admin.reset_stats()
    began, cpu, azurite_cpu = time.perf_counter(), time.process_time(), stack.azurite.cpu_seconds()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda body: runtime.handle_message(body, 1, parts), bodies))
    seconds = time.perf_counter() - began
    cpu, azurite_cpu = time.process_time() - cpu, stack.azurite.cpu_seconds() - azurite_cpu
    stats = stack.emulator.admin.stats()
    return Run(seconds, stats.total, stats.statuses.get("429", 0), cpu, azurite_cpu)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=6, help="concurrent invocations (host.json allows 6)")
    args = parser.parse_args(argv)
    with bench_stack(throttle_limit=100) as stack:
        limited = run(stack, args.jobs, args.workers, None)
    with bench_stack(throttle_limit=1_000_000) as stack:
        lifted = run(stack, args.jobs, args.workers, 1_000_000)
    jobs = args.jobs
    print(f"harvest throughput, {jobs} jobs x 2 inputs, {args.workers} concurrent invocations")
    print(
        f"  at the Speech limit (100 requests / 10 s): {jobs / limited.seconds:.1f} jobs/s ({limited.calls / jobs:.1f} Speech calls per job, {limited.throttled} answered 429 and retried)"
    )
    print(f"  limit lifted (harvester capacity):         {jobs / lifted.seconds:.1f} jobs/s")
    print(
        f"  CPU per job, limit lifted: {1000 * lifted.cpu / jobs:.0f} ms in the harvesting process (with the emulator), {1000 * lifted.azurite_cpu / jobs:.0f} ms in Azurite; load average {os.getloadavg()[0]:.1f} at the end"
    )


if __name__ == "__main__":
    main()
