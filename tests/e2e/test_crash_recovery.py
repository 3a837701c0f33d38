"""A host crash (SIGKILL) in the middle of harvests, under default settings, with Speech and download faults:
every job still lands within minutes, nothing is overwritten, no blob is missing or extra, nothing is poisoned.

Recovery is the poll tick's re-send loop (shared.records.resend_lost): a Harvesting job whose heartbeat
stopped (90 s) is sent again, as is a Queued job whose message no longer waits (2 min). The messages the dead
host held stay invisible for its 10-minute lease; recovery does not wait for them. The settings are the
defaults (POLL_SCHEDULE every minute included); only names are per test, as in every e2e test, and the test
runs the first poll tick itself instead of waiting up to a minute for the timer.
"""

import hashlib
import json
import time

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient

from shared import runtime
from shared.states import JobKind, LedgerState
from tests.fixtures.host import REPO_ROOT
from tests.fixtures.stack import stack_env
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.e2e

JOBS = 24
RECOVERY_SECONDS = 240  # the README promises about 3 minutes; the rest is the harvests themselves


def states(stack) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in stack.parts.ledger.query(JobKind.TRANSCRIPTION):
        counts[record.state.value] = counts.get(record.state.value, 0) + 1
    return counts


def expected_blobs(manifest: dict, manifest_path: str) -> dict[str, str | None]:
    """Every blob the manifest names, with the sha256 it states (None for the manifest itself)."""
    blobs: dict[str, str | None] = {
        manifest_path: None,
        manifest["entity"]["blob"]: manifest["entity"]["sha256"],
    }
    for result in manifest["results"]:
        blobs[result["blob"]] = result["sha256"]
        for transcript in result["transcripts"]:
            blobs[transcript["blob"]] = transcript["sha256"]
    return blobs


@pytest.mark.timeout(900)
def test_host_killed_mid_harvest_every_job_lands_within_minutes(
    azurite, fresh_emulator, run_host, make_stack
):
    env = stack_env(azurite, fresh_emulator, "2024-11-15")
    env.pop("POLL_OVERLAP_SECONDS")  # the default, as deployed
    stack = make_stack("2024-11-15", **{k: v for k, v in env.items() if k != "SPEECH_ENDPOINT"})
    admin = fresh_emulator.admin
    jobs = admin.seed(JOBS, status="Succeeded", inputs=3)
    runtime.poller(stack.parts).tick()  # the timer's first tick: every job Queued, one message each
    assert states(stack) == {"Queued": JOBS}

    # Weather: throttled and failing Speech calls, truncated answers, slow listings, expired download SASs.
    admin.add_fault("GET /transcriptions/{id}", "503", rate=0.2, retry_after=1)
    admin.add_fault("GET /transcriptions/{id}/files", "truncate", rate=0.1)
    admin.add_fault("GET /transcriptions/{id}/files", "expired-sas", rate=0.25)
    admin.add_fault("GET /transcriptions/{id}/files", "slow", delay_seconds=0.5)

    with run_host(REPO_ROOT, env) as host:

        def under_way() -> bool:
            now = states(stack)
            return now.get("Harvesting", 0) >= 3 and now.get("Harvested", 0) >= 1

        wait_for(
            under_way,
            timeout=120,
            interval=0.05,
            what="harvests under way",
        )
        host.kill()
    killed_at = time.monotonic()
    at_crash = states(stack)
    assert at_crash.get("Harvesting", 0) >= 1, at_crash
    container = stack.parts.destination.container
    written_before = {b.name: b.etag for b in container.list_blobs()}
    assert written_before

    with run_host(REPO_ROOT, env) as host:
        wait_for(
            lambda: states(stack) == {"Harvested": JOBS},
            timeout=RECOVERY_SECONDS + 120,
            interval=1.0,
            what=f"all {JOBS} jobs harvested after the crash (ledger at the crash: {at_crash})",
        )
        recovered = time.monotonic() - killed_at
        status = requests.get(host.url("/api/status"), params={"code": host.function_key}, timeout=10).json()
        logs = host.logs()
    assert recovered < RECOVERY_SECONDS, f"recovered in {recovered:.0f}s"
    assert status["oldestOpen"] is None
    assert "reason=requeue" in logs  # recovered by the re-send loop, not by the dead host's lease ending

    stored = {b.name: b for b in container.list_blobs()}
    # Nothing overwritten: whatever the dead host had written is still exactly what it wrote.
    assert {name: stored[name].etag for name in written_before} == written_before
    expected: dict[str, str | None] = {}
    for job in jobs:
        manifest_path = f"transcriptions/{job}/manifest.json"
        manifest = json.loads(container.download_blob(manifest_path).readall())
        assert manifest["status"] == "Succeeded"
        assert len([r for r in manifest["results"] if r["kind"] == "Transcription"]) == 3
        expected |= expected_blobs(manifest, manifest_path)
    # No blob missing, none extra.
    assert sorted(stored) == sorted(expected)
    for name, sha256 in expected.items():
        if sha256 is not None:
            assert hashlib.sha256(container.download_blob(name).readall()).hexdigest() == sha256, name
    poison = QueueClient.from_connection_string(
        stack.env["AzureWebJobsStorage"], f"{stack.settings.harvest_queue}-poison"
    )
    try:
        poisoned = poison.peek_messages()
    except ResourceNotFoundError:
        poisoned = []  # never created: nothing was poisoned
    assert poisoned == []
    assert all(stack.parts.ledger.get(JobKind.TRANSCRIPTION, j).state is LedgerState.HARVESTED for j in jobs)
    print(f"recovered {JOBS} jobs in {recovered:.0f}s after SIGKILL (ledger at the crash: {at_crash})")
