"""Run `python -m local.host` as a child process: for the demo and the benches (tests use their fixture)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from local.azurite import REPO_ROOT


@dataclass(frozen=True)
class HostProcess:
    base_url: str
    log_path: Path

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def local_host(
    env: dict[str, str], *, port: int = 0, timeout: float = 60.0, app_dir: Path = REPO_ROOT
) -> Iterator[HostProcess]:
    """Start the host on `app_dir`'s function_app.py (the harvester's by default) with `env` over os.environ;
    yield once it is ready; SIGTERM at exit."""
    with tempfile.NamedTemporaryFile(prefix="local-host-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
    with log_path.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                sys.executable,
                "-m",
                "local.host",
                "--app-dir",
                str(app_dir),
                "--port",
                str(port),
                "--exit-with-parent",
            ],
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdin=subprocess.PIPE,  # never written: it closes when this process ends, and the host stops
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    host = HostProcess("", log_path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the host exited with code {process.returncode}:\n{host.logs()}")
            ready = [line for line in host.logs().splitlines() if line.startswith("Host started: ")]
            if ready:
                yield HostProcess(ready[0].split()[2], log_path)
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the host was not ready within {timeout:.0f}s:\n{host.logs()}")
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
