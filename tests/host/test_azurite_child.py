"""Azurite (local/azurite_child.js) and the local host (`--exit-with-parent`) die with the process that
started them, whatever kills that process."""

import os
import re
import signal
import socket
import subprocess
import sys

import pytest
from azure.storage.queue import QueueServiceClient

from local.azurite import Azurite
from tests.fixtures.host import REPO_ROOT
from tests.fixtures.waiting import wait_for

# A real parent: starts Azurite through local.azurite, says where it listens, then waits to be killed.
PARENT = """
import threading
from local.azurite import Azurite
azurite = Azurite().start()
print(azurite.blob_port, azurite.queue_port, azurite.table_port, flush=True)
threading.Event().wait()
"""


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def spawn(argv: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("AzureWebJobsStorage", None)
    return subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True)


def first_line(parent: subprocess.Popen[str], pattern: str) -> re.Match[str]:
    assert parent.stdout is not None
    for line in parent.stdout:
        found = re.search(pattern, line)
        if found:
            return found
    pytest.fail(f"the parent exited ({parent.wait()}) before printing {pattern!r}")


def test_stop_ends_azurite_through_its_watchdog_not_a_kill():
    """stop() closes the pipe and the child exits 0 at once; Azurite's own SIGTERM handling never finished
    (each stop waited 10 s and ended in SIGKILL), which cost every test run 10 s per Azurite."""
    azurite = Azurite().start()
    process = azurite._process
    assert process is not None
    QueueServiceClient.from_connection_string(azurite.connection_string).create_queue("kept-alive")
    azurite.stop()
    assert process.returncode == 0
    assert not listening(azurite.queue_port)


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_azurite_dies_with_a_killed_parent(signum):
    parent = spawn([sys.executable, "-c", PARENT])
    try:
        ports = [int(port) for port in first_line(parent, r"^(\d+) (\d+) (\d+)$").groups()]
        assert all(listening(port) for port in ports)
        parent.send_signal(signum)
        assert parent.wait(timeout=10) == -signum
        wait_for(lambda: not any(listening(port) for port in ports), timeout=15, what="Azurite to stop")
    finally:
        parent.kill()
        parent.wait()


def test_azurite_of_the_local_host_dies_when_the_host_is_killed():
    app = REPO_ROOT / "tests" / "host" / "apps" / "http_app"
    parent = spawn([sys.executable, "-m", "local.host", "--app-dir", str(app), "--port", "0", "--azurite"])
    try:
        port = int(
            first_line(parent, r"Azurite started for AzureWebJobsStorage: queues at http://[\d.]+:(\d+)/")[1]
        )
        first_line(parent, r"^Host started: ")
        assert listening(port)
        parent.kill()
        parent.wait(timeout=10)
        wait_for(lambda: not listening(port), timeout=15, what="the host's Azurite to stop")
    finally:
        parent.kill()
        parent.wait()


# A real parent of a host: the demo's and the benches' helper, on a small app, with its own Azurite.
HOST_PARENT = """
import threading
from pathlib import Path
from local.azurite import Azurite
from local.host_process import local_host
with Azurite() as azurite, local_host(
    {"AzureWebJobsStorage": azurite.connection_string}, app_dir=Path("tests/host/apps/http_app")
) as host:
    print(host.base_url, azurite.blob_port, flush=True)
    threading.Event().wait()
"""


def test_a_host_started_by_the_helper_dies_with_a_killed_parent():
    parent = spawn([sys.executable, "-c", HOST_PARENT])
    try:
        found = first_line(parent, r"^http://127\.0\.0\.1:(\d+) (\d+)$")
        ports = [int(found[1]), int(found[2])]
        assert all(listening(port) for port in ports)
        parent.kill()
        parent.wait(timeout=10)
        wait_for(
            lambda: not any(listening(port) for port in ports),
            timeout=30,
            what="the host and Azurite to stop",
        )
    finally:
        parent.kill()
        parent.wait()
