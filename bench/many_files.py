"""A job of many small result files: the harvest (files in parallel) next to a parallel raw copy of them.

    python -m bench.many_files [--files 1000] [--concurrency 8] [--serial]

The emulator holds one finished job with --files inputs (small results, listed once before timing so they
exist in Azurite). Side by side in one run, on the same stack:
- copy:    the result files' bytes from their contentUrls into destination blobs, --concurrency at a time
           (the same download and conditional upload the harvest uses, nothing else);
- harvest: the real harvester on the whole job with HARVEST_FILE_CONCURRENCY=--concurrency (raw copies,
           the four derived formats, manifest, ledger);
- with --serial, the harvest again with HARVEST_FILE_CONCURRENCY=1 (one file after another, as before).
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

from bench.stack import BenchStack, bench_stack
from shared import runtime
from shared.queueing import HarvestRequest


def copy(stack: BenchStack, urls: list[str], concurrency: int) -> float:
    parts = stack.parts()

    def one(item: tuple[int, str]) -> None:
        index, url = item
        with parts.content.open(url) as chunks:
            parts.destination.write(f"copy/{index}.json", chunks, content_type="application/json")

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, enumerate(urls)))
    return time.perf_counter() - began


def harvest(stack: BenchStack, job_id: str, concurrency: int) -> float:
    parts = stack.parts(HARVEST_FILE_CONCURRENCY=str(concurrency), HARVEST_TIME_BUDGET_SECONDS="3600")
    began = time.perf_counter()
    outcome = runtime.harvester(parts).harvest(HarvestRequest(id=job_id))
    seconds = time.perf_counter() - began
    if outcome.value != "harvested":
        raise SystemExit(f"the harvest ended {outcome.value}")
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--serial", action="store_true", help="also harvest one file at a time")
    args = parser.parse_args(argv)
    with bench_stack(throttle_limit=1_000_000) as stack:
        parts = stack.parts()
        [job_id] = stack.emulator.admin.seed(1, status="Succeeded", inputs=args.files)
        files = [f for f in parts.speech.list_files(job_id) if f.kind == "Transcription"]
        urls = [f.content_url or "" for f in files]
        copied = copy(stack, urls, args.concurrency)
        harvested = harvest(stack, job_id, args.concurrency)
        serial = (
            harvest(stack, stack.emulator.admin.seed(1, status="Succeeded", inputs=args.files)[0], 1)
            if args.serial
            else None
        )
    print(f"many files: one job of {len(files)} result files, side by side on one stack")
    print(f"  parallel raw copy ({args.concurrency} at a time):       {copied:6.1f} s")
    print(
        f"  harvest, HARVEST_FILE_CONCURRENCY={args.concurrency}:       {harvested:6.1f} s"
        f"  = {harvested / copied:.2f}x the copy (target 1.5x)"
    )
    if serial is not None:
        print(f"  harvest, HARVEST_FILE_CONCURRENCY=1 (serial): {serial:6.1f} s")


if __name__ == "__main__":
    main()
