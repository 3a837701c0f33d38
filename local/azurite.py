"""Start and stop Azurite (the Azure Storage emulator) for tests, the demo and the local host.

Azurite runs in memory from a throwaway working directory, on ports the OS chooses, so several instances can
run side by side and nothing is left behind. It is started with --skipApiVersionCheck because the pinned
Python storage SDKs send a newer storage API version than Azurite 3.35 knows.

Azurite dies with the process that started it, even one killed with SIGKILL: it runs under
local/azurite_child.js, which stops when its stdin (a pipe only this process writes to) reaches end-of-file.

With `tls` (see local.tls) it serves HTTPS, and with `oauth` also accepts Entra tokens (`--oauth basic`: it
checks a token's audience, issuer and times, not its signature), which is how identity-based connections are
tested without Azure. Shared key still works then: tests prove the app uses none by giving it none.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from local.tls import TlsFiles

# The well-known development account: Azurite's only account, documented publicly; not a secret.
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

REPO_ROOT = Path(__file__).resolve().parent.parent
_LISTENING = re.compile(
    r"Azurite (Blob|Queue|Table) service is successfully listening at https?://[\d.]+:(\d+)"
)


class AzuriteError(RuntimeError):
    """Azurite could not be found or did not start."""


CHILD_SCRIPT = Path(__file__).resolve().parent / "azurite_child.js"


def azurite_executable() -> str:
    """The pinned Azurite from node_modules (installed by `make setup`), else one on PATH."""
    local = REPO_ROOT / "node_modules" / ".bin" / "azurite"
    if local.exists():
        return str(local)
    found = shutil.which("azurite")
    if found:
        return found
    raise AzuriteError("azurite not found: run `make setup` (npm ci installs the pinned Azurite)")


def child_command() -> list[str]:
    """node, the watchdog script and Azurite's own script (the `azurite` command is a link to it)."""
    node = shutil.which("node")
    if node is None:
        raise AzuriteError("node not found: Azurite needs Node.js 20")
    return [node, str(CHILD_SCRIPT), os.path.realpath(azurite_executable())]


@dataclass
class Azurite:
    """A running Azurite process. Use as a context manager, or call start() and stop()."""

    host: str = "127.0.0.1"
    startup_timeout: float = 30.0
    blob_port: int = 0
    queue_port: int = 0
    table_port: int = 0
    tls: TlsFiles | None = None
    oauth: bool = False
    # More accounts next to the development account, name -> base64 key (Azurite's AZURITE_ACCOUNTS).
    accounts: dict[str, str] = field(default_factory=dict, repr=False)
    _process: subprocess.Popen[str] | None = field(default=None, repr=False)
    _workdir: str | None = field(default=None, repr=False)

    def start(self) -> Azurite:
        if self.oauth and self.tls is None:
            raise AzuriteError("Azurite accepts OAuth only over HTTPS: give it `tls` (local.tls.make_tls)")
        self._workdir = tempfile.mkdtemp(prefix="azurite-")
        cmd = [
            *child_command(),
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--loose",
            "--disableTelemetry",
            "--silent",  # no access log: a line per request that nobody reads (drained and dropped) costs CPU
            "--blobHost", self.host, "--blobPort", "0",
            "--queueHost", self.host, "--queuePort", "0",
            "--tableHost", self.host, "--tablePort", "0",
        ]  # fmt: skip
        if self.tls is not None:
            cmd += ["--cert", str(self.tls.cert_path), "--key", str(self.tls.key_path)]
        if self.oauth:
            cmd += ["--oauth", "basic"]
        env = dict(os.environ)
        if self.accounts:
            listed = {ACCOUNT_NAME: ACCOUNT_KEY, **self.accounts}
            env["AZURITE_ACCOUNTS"] = ";".join(f"{name}:{key}" for name, key in listed.items())
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            cmd,
            cwd=self._workdir,
            env=env,
            stdin=subprocess.PIPE,  # the watchdog pipe: never written, closed when this process ends
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        ports = self._read_ports()
        self.blob_port, self.queue_port, self.table_port = ports["Blob"], ports["Queue"], ports["Table"]
        return self

    def _read_ports(self) -> dict[str, int]:
        """Read the chosen ports from Azurite's start-up lines, within the deadline."""
        assert self._process is not None
        assert self._process.stdout is not None
        ports: dict[str, int] = {}
        lines: list[str] = []
        stdout = self._process.stdout

        def reader() -> None:
            for line in stdout:
                lines.append(line)
                match = _LISTENING.search(line)
                if match:
                    ports[match.group(1)] = int(match.group(2))
                if len(ports) == 3:
                    break

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        thread.join(self.startup_timeout)
        if len(ports) != 3:
            self.stop()
            raise AzuriteError(f"Azurite did not start within {self.startup_timeout:.0f}s: {''.join(lines)}")
        # Keep draining output so Azurite never blocks on a full pipe.
        threading.Thread(target=_drain, args=(stdout,), daemon=True).start()
        return ports

    def stop(self) -> None:
        """Close the watchdog pipe: the child exits at once (its data is in memory, nothing to flush). Azurite's
        own SIGTERM handling waits for open connections to close and took the full 10 s every time, so a
        signal is only the fallback."""
        process = self._process
        if process is not None and process.stdin is not None:
            process.stdin.close()
        if process is not None and process.poll() is None:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self._process = None
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def cpu_seconds(self) -> float:
        """CPU time Azurite's process has used so far (Linux /proc), for benches that weigh its share."""
        if self._process is None:
            raise AzuriteError("Azurite is not running")
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    def endpoint(self, service: str, account: str = ACCOUNT_NAME) -> str:
        """An account's blob, queue or table endpoint (Azurite names the account in the path)."""
        port = {"blob": self.blob_port, "queue": self.queue_port, "table": self.table_port}[service]
        return f"{self.scheme}://{self.host}:{port}/{account}"

    @property
    def blob_endpoint(self) -> str:
        return self.endpoint("blob")

    @property
    def queue_endpoint(self) -> str:
        return self.endpoint("queue")

    @property
    def table_endpoint(self) -> str:
        return self.endpoint("table")

    def identity_settings(
        self, name: str = "AzureWebJobsStorage", account: str = ACCOUNT_NAME
    ) -> dict[str, str]:
        """The identity-based form of connection `name` to `account`, as Flex templates set it (no key)."""
        return {
            f"{name}__{service}ServiceUri": self.endpoint(service, account)
            for service in ("blob", "queue", "table")
        }

    @property
    def connection_string(self) -> str:
        return self.connection_string_for(ACCOUNT_NAME, ACCOUNT_KEY)

    def connection_string_for(self, account: str, key: str) -> str:
        return (
            f"DefaultEndpointsProtocol={self.scheme};AccountName={account};AccountKey={key};"
            f"BlobEndpoint={self.endpoint('blob', account)};QueueEndpoint={self.endpoint('queue', account)};"
            f"TableEndpoint={self.endpoint('table', account)};"
        )


def _drain(stream: IO[str]) -> None:
    """Read Azurite's output until it exits, then close the pipe."""
    with stream:
        for _ in stream:
            pass


def main(argv: list[str] | None = None) -> int:
    """`python -m local.azurite`: run Azurite until interrupted and print its connection string."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.parse_args(argv)
    with Azurite() as azurite:
        print(azurite.connection_string, flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(3600):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
