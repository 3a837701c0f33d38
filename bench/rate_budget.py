"""One Speech rate budget for the whole app: 4 hosts (`python -m local.host`) on one emulator and one Azurite.

    python -m bench.rate_budget [--hosts 4] [--jobs 1500] [--seconds 60] [--submitters 0]

The emulator throttles at the service's 100 requests per 10 s. For each SPEECH_RATE_SCOPE, side by side in one
run on the same machine: seed --jobs finished transcriptions, start --hosts hosts on one storage account (each
polls and harvests), let them warm up, then count what reaches the emulator during --seconds while work is
left: requests answered, requests answered 429, and the answered rate as a share of the limit.
- instance: each host keeps its own window of 95 per 10 s (together they ask for up to 4x the limit);
- app:      the hosts lease from one budget row in storage (shared/rate_budget.py).
With --submitters N, N client threads also POST /api/transcriptions to the hosts in turn (one Speech call
each, far cheaper than a harvest), so the hosts ask for more than the limit even on a busy machine.
"""

from __future__ import annotations

import argparse
import contextlib
import threading
import time
from datetime import UTC, datetime, timedelta

import requests

from bench.stack import BenchStack, bench_stack
from local.host_process import local_host

LIMIT = 100
WINDOW = 10.0
WARM_UP_SECONDS = 8.0


def submit_until(urls: list[str], stop: float, index: int) -> None:
    """POST transcriptions to the hosts in turn until `stop` (a client of the app's submission API)."""
    body = {"contentUrls": ["https://bench.invalid/audio/load.wav"], "locale": "en-US", "displayName": "load"}
    session = requests.Session()
    while time.monotonic() < stop:
        url = urls[index % len(urls)]
        index += 1
        with contextlib.suppress(requests.RequestException):
            session.post(url, json=body, params={"code": "bench"}, timeout=30)


def run(
    stack: BenchStack, scope: str, hosts: int, jobs: int, seconds: float, submitters: int
) -> dict[str, float]:
    stack.emulator.admin.reset()
    old = datetime.now(UTC) - timedelta(minutes=10)
    stack.emulator.admin.seed(jobs, status="Succeeded", inputs=1, created=old, last_action=old)
    env = stack.env(
        SPEECH_RATE_SCOPE=scope,
        POLL_SCHEDULE="*/10 * * * * *",
        OUTPUT_FORMATS="json",
        LOCAL_HOST_FUNCTION_KEY="bench",
    )
    with contextlib.ExitStack() as running:
        started = [running.enter_context(local_host(env)) for _ in range(hosts)]
        urls = [f"{host.base_url}/api/transcriptions" for host in started]
        stop = time.monotonic() + WARM_UP_SECONDS + seconds
        load = [
            threading.Thread(target=submit_until, args=(urls, stop, index), daemon=True)
            for index in range(submitters)
        ]
        for thread in load:
            thread.start()
        time.sleep(WARM_UP_SECONDS)
        stack.emulator.admin.reset_stats()
        began = time.perf_counter()
        time.sleep(seconds)
        stats = stack.emulator.admin.stats()
        elapsed = time.perf_counter() - began
        for thread in load:
            thread.join(60)
    throttled = stats.statuses.get("429", 0)
    answered = stats.total - throttled
    harvested = stats.routes.get("GET /transcriptions/{id}/files", 0)
    return {
        "total": stats.total,
        "throttled": throttled,
        "share": answered / elapsed * WINDOW / LIMIT,
        "jobs_per_s": harvested / elapsed,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=1500)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--submitters", type=int, default=0)
    args = parser.parse_args(argv)
    results = {}
    with bench_stack(throttle_limit=LIMIT) as stack:
        for scope in ("instance", "app"):
            results[scope] = run(stack, scope, args.hosts, args.jobs, args.seconds, args.submitters)
    print(
        f"rate budget, {args.hosts} hosts on one emulator ({LIMIT} requests / {WINDOW:.0f} s) and one Azurite, "
        f"{args.seconds:.0f} s measured after a {WARM_UP_SECONDS:.0f} s warm-up, {args.submitters} submitters"
    )
    for scope, result in results.items():
        print(
            f"  SPEECH_RATE_SCOPE={scope:8s}: {result['total']:5.0f} requests, "
            f"{result['throttled']:4.0f} answered 429 ({result['throttled'] / max(1, result['total']):.1%}), "
            f"answered {result['share']:.0%} of the limit, {result['jobs_per_s']:.1f} jobs/s"
        )


if __name__ == "__main__":
    main()
