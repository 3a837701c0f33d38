"""`python -m shared.cli status | jobs | reharvest | backfill` against Azurite and the Speech emulator."""

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from shared import layout, runtime
from shared.cli import duration
from shared.cli import main as cli
from shared.queueing import RequestReason, parse_request
from shared.states import JobKind, LedgerState, harvest_poisoned
from tests.fixtures.host import REPO_ROOT

pytestmark = pytest.mark.e2e


def harvest_all(stack) -> None:
    runtime.poller(stack.parts).tick()
    for body in stack.drain():
        runtime.handle_message(body, 1, stack.parts)


def run_cli(args, env) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli(args, environ=env, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_status_and_jobs_show_states_reasons_and_ages(make_stack):
    stack = make_stack()
    done, poisoned = (
        stack.finished(stack.submit(["call-1.wav"])).id,
        stack.finished(stack.submit(["call-2.wav"])).id,
    )
    runtime.poller(stack.parts).tick()
    for body in stack.drain():
        if parse_request(body).id == done:
            runtime.handle_message(body, 1, stack.parts)
    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, poisoned)
    reason = "AuthenticationError: 401 from Speech"
    stack.parts.ledger.save(
        harvest_poisoned(record, record.first_seen, reason, kind=record.kind, job_id=record.id).record
    )
    stack.parts.queue.poison(b"{}", "bad message: test")

    code, table, _ = run_cli(["status"], stack.env)
    assert code == 0
    header, row = table.splitlines()[:2]
    assert header.split() == ["kind", "Pending", "Queued", "Harvesting", "Harvested", "Poisoned", "Missing"]
    assert row.split() == ["transcription", "0", "0", "0", "1", "1", "0"]
    assert "poison queue: 1 message(s)" in table

    code, document, _ = run_cli(["status", "--json"], stack.env)
    assert code == 0
    report = json.loads(document)
    assert report["counts"]["transcription"] == {"Harvested": 1, "Poisoned": 1}
    assert report["poisonQueueLength"] == 1

    code, listing, _ = run_cli(["jobs", "--state", "Poisoned"], stack.env)
    assert code == 0
    assert poisoned in listing
    assert "AuthenticationError: 401 from Speech" in listing
    assert done not in listing
    code, document, _ = run_cli(["jobs", "--state", "Harvested", "--json"], stack.env)
    (line,) = json.loads(document)
    assert line["id"] == done
    assert line["ageSeconds"] >= line["inStateSeconds"] >= 0


def test_jobs_rejects_an_unknown_state():
    with pytest.raises(SystemExit) as exit_info:
        cli(["jobs", "--state", "Lost"], environ={}, out=io.StringIO(), err=io.StringIO())
    assert exit_info.value.code == 2


def test_reharvest_adds_a_new_format_and_keeps_every_existing_blob_byte_exact(make_stack):
    stack = make_stack(OUTPUT_FORMATS="json")
    job = stack.finished(stack.submit(["call-7-stereo.wav"])).id
    harvest_all(stack)
    before = stack.blobs(job)
    manifest_path = layout.manifest_blob("", JobKind.TRANSCRIPTION, job)
    assert not any(name.endswith(".vtt") for name in before)

    env = {**stack.env, "OUTPUT_FORMATS": "json,vtt"}
    code, output, progress = run_cli(["reharvest", job, "--json"], env)
    assert code == 0, progress
    assert json.loads(output) == {"done": {job: "harvested"}, "refused": {}}
    assert f"reharvest 1/1 {job}: harvested" in progress

    after = stack.blobs(job)
    for name, data in before.items():
        if name != manifest_path:
            assert after[name] == data, name  # byte-exact
    (vtt,) = [name for name in after if name.endswith(".vtt")]
    assert after[vtt].startswith(b"WEBVTT")
    manifest = json.loads(after[manifest_path])
    assert sorted(t["format"] for t in manifest["results"][0]["transcripts"]) == ["json", "vtt"]
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, job).state is LedgerState.HARVESTED


def test_reharvest_refuses_unknown_and_unfinished_jobs_with_exit_code_3(make_stack):
    stack = make_stack()
    unknown = "8f9c1a3e-0000-4000-8000-000000000001"
    code, output, _ = run_cli(["reharvest", unknown, "not-a-uuid"], stack.env)
    assert code == 3
    assert f"{unknown}: not harvested again: not in the ledger" in output
    assert "not-a-uuid: not harvested again" in output


def test_backfill_records_and_enqueues_finished_jobs_once_and_runs_as_a_module(make_stack, tmp_path):
    stack = make_stack()
    jobs = sorted(stack.finished(stack.submit([f"b{i}.wav"])).id for i in range(3))
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()

    code, output, progress = run_cli(["backfill", "--since", since, "--json"], stack.env)
    assert code == 0
    report = json.loads(output)
    assert report["listed"] == report["finished"] == 3
    assert sorted(report["enqueued"]) == jobs
    assert "backfill: 3 listed, 3 enqueued" in progress
    requests = [parse_request(body) for body in stack.drain()]
    assert sorted(r.id for r in requests) == jobs
    assert {r.reason for r in requests} == {RequestReason.RECONCILE}
    assert all(stack.parts.ledger.get(JobKind.TRANSCRIPTION, j).state is LedgerState.QUEUED for j in jobs)

    settings_file = tmp_path / "local.settings.json"
    settings_file.write_text(json.dumps({"IsEncrypted": False, "Values": stack.env}))
    again = subprocess.run(
        [sys.executable, "-m", "shared.cli", "--settings", str(settings_file), "backfill", "--since", since],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "3 listed, 3 finished, 0 newly enqueued"
    assert stack.drain() == []


def test_durations_read_in_the_two_largest_units():
    assert duration(None) == "-"
    assert duration(0) == "0s"
    assert duration(59.9) == "59s"
    assert duration(3 * 86400 + 4 * 3600 + 5) == "3d 4h"
    assert duration(2 * 3600 + 5 * 60 + 7) == "2h 5m"
