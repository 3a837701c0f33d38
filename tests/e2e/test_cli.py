"""`python -m shared.cli poison replay` over Azurite: both kinds of poison message go back, bad ones stay."""

import base64
import io
import json
import subprocess
import sys

import pytest
from azure.storage.queue import QueueClient

from shared import runtime
from shared.cli import main as cli
from shared.queueing import HarvestRequest, RequestReason, parse_request
from shared.states import JobKind, LedgerState, harvest_poisoned
from tests.fixtures.host import REPO_ROOT

pytestmark = pytest.mark.e2e


def test_replay_moves_wrapped_and_host_poisoned_requests_back_and_keeps_bad_ones(make_stack):
    stack = make_stack()
    wrapped, raw = stack.finished(stack.submit(["a.wav"])).id, stack.finished(stack.submit(["b.wav"])).id
    runtime.poller(stack.parts).tick()
    stack.drain()
    # Ours: wrapped in a PoisonEnvelope with the reason, and the job marked Poisoned.
    stack.parts.queue.poison(
        HarvestRequest(id=wrapped).model_dump_json().encode(), "gave up after 5 attempts"
    )
    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, wrapped)
    stack.parts.ledger.save(
        harvest_poisoned(
            record, record.first_seen, "gave up after 5 attempts", kind=record.kind, job_id=record.id
        ).record
    )
    # The host's: the message text moved unchanged (base64 of the request).
    poison = QueueClient.from_connection_string(
        stack.env["AzureWebJobsStorage"], f"{stack.settings.harvest_queue}-poison"
    )
    poison.send_message(base64.b64encode(HarvestRequest(id=raw).model_dump_json().encode()).decode())
    # Neither can ever become a harvest request: they stay where they are.
    stack.parts.queue.poison(b'{"id": "../../etc"}', "bad message")
    poison.send_message("not base64, not JSON")

    out = io.StringIO()
    assert cli(["poison", "replay"], environ=stack.env, out=out, err=io.StringIO()) == 0
    report = json.loads(out.getvalue())
    assert report["replayed"] == 2
    assert sorted(report["ids"]) == sorted([wrapped, raw])
    assert len(report["kept"]) == 2
    assert any("must be a canonical UUID" in kept["reason"] for kept in report["kept"])

    requests = [parse_request(body) for body in stack.drain()]
    assert sorted(r.id for r in requests) == sorted([wrapped, raw])
    assert {r.reason for r in requests} == {RequestReason.REPLAY}
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, wrapped).state is LedgerState.QUEUED
    assert len(stack.queue_messages(f"{stack.settings.harvest_queue}-poison")) == 2  # visible again

    for request in requests:
        runtime.harvest(request, stack.parts)
    assert stack.manifest(wrapped)
    assert stack.manifest(raw)
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, wrapped).state is LedgerState.HARVESTED


def test_replay_stops_at_the_maximum_and_runs_as_a_module(make_stack, tmp_path):
    stack = make_stack()
    jobs = [stack.finished(stack.submit([f"m{i}.wav"])).id for i in range(3)]
    for job in jobs:
        stack.parts.queue.poison(HarvestRequest(id=job).model_dump_json().encode(), "test")
    settings_file = tmp_path / "local.settings.json"
    settings_file.write_text(json.dumps({"IsEncrypted": False, "Values": stack.env}))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "--settings",
            str(settings_file),
            "poison",
            "replay",
            "--max",
            "2",
        ],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["replayed"] == 2
    assert len(stack.drain()) == 2
    assert len(stack.queue_messages(f"{stack.settings.harvest_queue}-poison")) == 1
