"""Cold start: how long `import function_app` takes, which is what the Functions host pays to index the app.

    python -m bench.cold_start [--rounds 7]

Each round copies function_app.py and shared/ into a fresh folder (no bytecode for the app's own modules, as
on a read-only deployment; PYTHONDONTWRITEBYTECODE keeps it that way) and runs, in fresh interpreters, side by
side so machine load hits both alike:
- app:   `import function_app` (the triggers import shared.runtime when they first run);
- eager: `import function_app, shared.runtime`, i.e. everything loaded up front (what the import cost before
  the triggers imported lazily, and what the first invocation adds on top of the cold start).
Prints the median and range of each, and the modules that cost the most in the last `python -X importtime`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENV = {
    "SPEECH_ENDPOINT": "https://westeurope.api.cognitive.microsoft.com",
    "SPEECH_KEY": "cold-start-bench",
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "DESTINATION_CONNECTION": "UseDevelopmentStorage=true",
    "DESTINATION_CONTAINER": "transcripts",
    "PYTHONDONTWRITEBYTECODE": "1",
}
PROGRAMS = {
    "app": "import function_app",
    "eager": "import function_app, shared.runtime",
}
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def fresh_app(root: Path) -> Path:
    """function_app.py and shared/ without any __pycache__."""
    app = root / "app"
    app.mkdir()
    shutil.copy2(REPO / "function_app.py", app / "function_app.py")
    shutil.copytree(REPO / "shared", app / "shared", ignore=shutil.ignore_patterns("__pycache__"))
    return app


def measure(program: str) -> tuple[float, str]:
    """Seconds for `program` in a fresh interpreter on a fresh copy of the app, and its importtime report."""
    with tempfile.TemporaryDirectory(prefix="cold-start-") as root:
        app = fresh_app(Path(root))
        timed = f"import time; t = time.perf_counter(); {program}; print(time.perf_counter() - t)"
        env = {**os.environ, **ENV, "PYTHONPATH": str(app)}
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", timed],
            cwd=app,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
    return float(result.stdout.strip().splitlines()[-1]), result.stderr


def costliest(report: str, count: int) -> list[tuple[str, float]]:
    """The costliest modules one level below what the program imports (cumulative seconds)."""
    rows = [
        (m.group(4), int(m.group(2)) / 1e6)
        for m in map(_LINE.match, report.splitlines())
        if m and len(m.group(3)) == 2
    ]
    return sorted(rows, key=lambda row: -row[1])[:count]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {name: [] for name in PROGRAMS}
    reports: dict[str, str] = {}
    for _ in range(args.rounds):
        for name, program in PROGRAMS.items():
            seconds, reports[name] = measure(program)
            times[name].append(seconds)
    print(f"cold start, {args.rounds} rounds, fresh copy of the app without bytecode (side by side)")
    for name, program in PROGRAMS.items():
        values = times[name]
        print(
            f"  {name:5s} `{program}`: median {statistics.median(values):.2f} s "
            f"(min {min(values):.2f}, max {max(values):.2f})"
        )
        costly = ", ".join(f"{module} {seconds:.2f}" for module, seconds in costliest(reports[name], 5))
        print(f"        costliest imports (last round, s): {costly}")


if __name__ == "__main__":
    main()
