"""Run `python -m local.host` as a child process: the one way the demo, the benches and the tests start it.

- the process runs `sys.executable -m local.host --app-dir <app_dir> --port <port> --exit-with-parent` from the
  repository root, with `os.environ` plus `env` (so `env` wins over local.settings.json, as real environment
  variables do), and LOCAL_HOST_FUNCTION_KEY set (to `env`'s value, else a fresh random key) so
  `.function_key` is known;
- stdout and stderr go to `.log_path` (read them with `.logs()`), so a chatty host never blocks on a pipe;
  stdin is never written: if the parent is killed it closes, and the host stops with it;
- entering waits, with a deadline, for the ready line `Host started: http://127.0.0.1:<port> (functions: ...)`
  and fails at once with the log (HostError) if the process exits first; `.port`/`.base_url` come from it;
- leaving sends SIGTERM and waits for the exit (HostError, after a kill, if it does not stop in time); if the
  block raised, the host is stopped (killed if it hangs) without masking the error. `stop()` can be called
  inside the block and returns the exit code; `kill()` SIGKILLs it (a crash) and leaving then does nothing.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from local.azurite import REPO_ROOT
from local.host.keys import KEY_SETTING

READY = re.compile(r"^Host started: (http://\S+:(\d+)) \(functions: (.*)\)$", re.MULTILINE)


class HostError(RuntimeError):
    """The host exited before it was ready, was not ready in time, or did not stop; the message has its log."""


@dataclass
class HostProcess:
    """A host subprocess; `base_url`, `port` and `functions` are known once it printed its ready line."""

    process: subprocess.Popen[bytes]
    log_path: Path
    function_key: str
    base_url: str = ""
    port: int = 0
    functions: tuple[str, ...] = field(default_factory=tuple)
    killed: bool = False

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait for the exit code (killed, and HostError, if the host does not stop in time)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                raise HostError(
                    f"the host did not stop within {timeout:.0f}s of SIGTERM\n{self.logs()}"
                ) from None
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL, as a host crash: no shutdown of any kind."""
        self.killed = True
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def ready(self) -> bool:
        """Whether the ready line is out (and the URL read from it); HostError if the process has exited."""
        match = READY.search(self.logs())
        if match is None:
            if self.process.poll() is not None:
                raise HostError(
                    f"the host exited with code {self.process.returncode} before it was ready\n{self.logs()}"
                )
            return False
        self.base_url, self.port = match.group(1), int(match.group(2))
        self.functions = tuple(name for name in match.group(3).split(", ") if name)
        return True

    def wait_ready(self, timeout: float) -> None:
        """Wait for the ready line with a deadline (HostError, with the log, when it does not come)."""
        deadline = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() > deadline:
                raise HostError(f"the host was not ready within {timeout:.0f}s\n{self.logs()}")
            time.sleep(0.05)


@contextmanager
def local_host(
    env: Mapping[str, str],
    *,
    app_dir: Path | str = REPO_ROOT,
    port: int = 0,
    args: Sequence[str] = (),
    log_dir: Path | None = None,
    startup_timeout: float = 60.0,
    stop_timeout: float = 30.0,
) -> Iterator[HostProcess]:
    """Start the host on `app_dir`'s function_app.py (the harvester's by default); see the module docstring."""
    key = env.get(KEY_SETTING) or secrets.token_urlsafe(24)
    full_env = {**os.environ, **env, KEY_SETTING: key, "PYTHONUNBUFFERED": "1"}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), full_env.get("PYTHONPATH", "")]))
    if log_dir is None:
        log_dir = Path(tempfile.gettempdir())
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"local-host-{secrets.token_hex(4)}.log"
    command = [sys.executable, "-m", "local.host", "--app-dir", str(app_dir), "--port", str(port)]
    with log_path.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - fixed argv
            [*command, "--exit-with-parent", *args],
            cwd=REPO_ROOT,
            env=full_env,
            stdin=subprocess.PIPE,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    host = HostProcess(process=process, log_path=log_path, function_key=key)
    try:
        host.wait_ready(startup_timeout)
        yield host
    except BaseException:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        raise
    if not host.killed:
        host.stop(stop_timeout)
