"""`make bench`: every bench in turn, with the arguments the README's figures come from."""

from __future__ import annotations

from bench import (
    cold_start,
    harvest_throughput,
    large_result,
    many_files,
    poll_cost,
    rate_budget,
    webhook_latency,
)


def main() -> None:
    for name, run, argv in [
        ("poll cost", poll_cost.main, ["--n", "10000", "--k", "250"]),
        ("harvest throughput", harvest_throughput.main, ["--jobs", "200", "--workers", "6"]),
        ("webhook latency", webhook_latency.main, ["--jobs", "20"]),
        ("large result", large_result.main, ["--mb", "500"]),
        ("cold start", cold_start.main, ["--rounds", "7"]),
        ("many files", many_files.main, ["--files", "1000"]),
        ("rate budget", rate_budget.main, ["--hosts", "4", "--jobs", "1500", "--seconds", "60"]),
    ]:
        print(
            f"\n== {name}: python -m bench.{run.__module__.rsplit('.', 1)[-1]} {' '.join(argv)}", flush=True
        )
        run(argv)


if __name__ == "__main__":
    main()
