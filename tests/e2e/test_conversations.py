"""Conversation transcription end to end over Azurite and the emulator's `offlinetask` endpoint: tracking,
polling in every state (Uploading, Processing, Completed, Failed, Deleted, unknown), the per-tick budget, and
the harvest (byte-exact raw copy, the same renderers as batch transcripts, manifest last)."""

import dataclasses
import hashlib
import io
import json

import pytest
import requests
import srt
import webvtt

from shared import runtime
from shared.harvest import Outcome
from shared.queueing import HarvestRequest, parse_request
from shared.speech import ConversationClient, RetryRules
from shared.states import JobKind, LedgerState
from tests.fixtures.emulator import EMULATOR_KEY
from tests.fixtures.host import REPO_ROOT
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.e2e

KIND = JobKind.CONVERSATION


def conversations_endpoint(stack) -> str:
    return f"{stack.emulator.endpoint}/conversations/api/v1/"


@pytest.fixture
def conversation_stack(make_stack, fresh_emulator):
    """A stack whose conversation endpoint is the emulator's (its SPEECH_ENDPOINT names no region)."""

    def make(**settings: str):
        return make_stack(
            CONVERSATION_ENDPOINT=f"{fresh_emulator.endpoint}/conversations/api/v1/", **settings
        )

    return make


def track(stack, conversation_id: str) -> dict:
    reply = runtime.track_conversation(conversation_id, stack.parts)
    assert reply.status == 202, reply.body
    return json.loads(reply.body)


def state(stack, conversation_id: str):
    record = stack.parts.ledger.get(KIND, conversation_id)
    return record.state, record.service_status


def harvest_queued(stack) -> list[str]:
    """Run the queue trigger's work for every queued request; the ids harvested."""
    bodies = stack.drain()
    for body in bodies:
        runtime.handle_message(body, 1, stack.parts)
    return [parse_request(body).id for body in bodies]


def test_every_state_of_a_conversation(conversation_stack):
    stack = conversation_stack()
    admin = stack.emulator.admin
    pinned = {
        "meeting-uploading": "Uploading",
        "meeting-processing": "Processing",
        "meeting-completed": "Completed",
        "meeting-failed": "Failed",
        "meeting-deleted": "Deleted",
    }
    for conversation_id, status in pinned.items():
        admin.create_conversation(conversation_id, status=status, utterances=6)
    for conversation_id in [*pinned, "meeting-unknown"]:
        assert track(stack, conversation_id) == {
            "id": conversation_id,
            "state": "Pending",
            "statusUrl": f"/api/conversations/{conversation_id}",
        }

    stack.emulator.admin.reset_stats()
    report = runtime.conversation_poller(stack.parts).tick()
    assert stack.emulator.admin.stats().routes == {"GET /offlinetask": 6}
    assert (report.checked, report.enqueued, report.missing) == (6, 2, 2)
    assert state(stack, "meeting-uploading") == (LedgerState.PENDING, "Uploading")
    assert state(stack, "meeting-processing") == (LedgerState.PENDING, "Processing")
    assert state(stack, "meeting-completed") == (LedgerState.QUEUED, "Completed")
    assert state(stack, "meeting-failed") == (LedgerState.QUEUED, "Failed")
    assert state(stack, "meeting-deleted") == (LedgerState.MISSING, "Deleted")
    assert state(stack, "meeting-unknown")[0] is LedgerState.MISSING
    assert "404" in stack.parts.ledger.get(KIND, "meeting-unknown").detail

    assert sorted(harvest_queued(stack)) == ["meeting-completed", "meeting-failed"]
    assert state(stack, "meeting-completed") == (LedgerState.HARVESTED, "Completed")
    assert state(stack, "meeting-failed") == (LedgerState.HARVESTED, "Failed")

    # A second tick asks only about the two still Pending, and enqueues nothing again.
    stack.emulator.admin.reset_stats()
    again = runtime.conversation_poller(stack.parts).tick()
    assert (again.checked, again.enqueued) == (2, 0)
    assert stack.drain() == []


def test_completed_conversation_is_harvested_like_a_transcription(conversation_stack):
    stack = conversation_stack(OUTPUT_FORMATS="json,txt,srt,vtt")
    stack.emulator.admin.create_conversation("board-2026", status="Completed", utterances=8)
    track(stack, "board-2026")
    runtime.conversation_poller(stack.parts).tick()
    assert harvest_queued(stack) == ["board-2026"]

    root = "conversations/board-2026/"
    blobs = stack.blobs("board-2026", KIND)
    assert {name.removeprefix(root) for name in blobs} == {
        "raw/offlinetask.json",
        "manifest.json",
        *(f"transcript/board-2026.{ext}" for ext in ("json", "txt", "srt", "vtt")),
    }
    served = requests.get(
        f"{conversations_endpoint(stack)}offlinetask",
        params={"id": "board-2026"},
        headers={"Ocp-Apim-Subscription-Key": EMULATOR_KEY},
        timeout=10,
    ).content
    assert blobs[root + "raw/offlinetask.json"] == served

    utterances = json.loads(served)["transcriptions"]
    transcript = json.loads(blobs[root + "transcript/board-2026.json"])
    assert transcript["kind"] == "conversation"
    assert transcript["speakers"] == list(dict.fromkeys(u["userId"] for u in utterances))
    first = min(utterances, key=lambda u: u["offsetInTicks"])
    assert transcript["phrases"][0]["speaker"] == first["userId"]
    assert transcript["phrases"][0]["display"] == first["text"]
    assert transcript["phrases"][0]["start"] == first["offsetInTicks"] / 10_000_000
    text = blobs[root + "transcript/board-2026.txt"].decode()
    assert f"{first['userId']}: " in text
    assert list(srt.parse(blobs[root + "transcript/board-2026.srt"].decode()))
    assert webvtt.from_buffer(io.StringIO(blobs[root + "transcript/board-2026.vtt"].decode())).captions

    manifest = stack.manifest("board-2026", KIND)
    assert (manifest["kind"], manifest["id"], manifest["status"]) == (
        "conversation",
        "board-2026",
        "Completed",
    )
    assert manifest["error"] is None
    [result] = manifest["results"]
    assert (result["name"], result["blob"]) == ("offlinetask.json", root + "raw/offlinetask.json")
    assert result["sha256"] == hashlib.sha256(served).hexdigest()
    assert result["validation"] == {"valid": True, "problems": []}
    assert sorted(t["format"] for t in result["transcripts"]) == ["json", "srt", "txt", "vtt"]
    for derived in result["transcripts"]:
        assert derived["sha256"] == hashlib.sha256(blobs[derived["blob"]]).hexdigest()
    assert manifest["audioDurationSeconds"] == max(p["end"] for p in transcript["phrases"])
    record = stack.parts.ledger.get(KIND, "board-2026")
    assert record.manifest_blob == root + "manifest.json"

    # Redelivered: nothing is written again and the service is not asked.
    before = {b.name: b.etag for b in stack.parts.destination.container.list_blobs()}
    stack.emulator.admin.reset_stats()
    outcome = runtime.harvest(HarvestRequest(kind=KIND, id="board-2026"), stack.parts)
    assert outcome is Outcome.ALREADY_HARVESTED
    assert stack.emulator.admin.stats().total == 0
    assert {b.name: b.etag for b in stack.parts.destination.container.list_blobs()} == before


def test_failed_conversation_gets_a_failure_manifest_and_keeps_its_raw_answer(conversation_stack):
    stack = conversation_stack(OUTPUT_FORMATS="txt")
    stack.emulator.admin.create_conversation("call-fail-1")  # the id says fail: it fails on the phase clock
    track(stack, "call-fail-1")
    poller = runtime.conversation_poller(stack.parts)
    seen = []

    def queued():
        poller.tick()
        seen.append(state(stack, "call-fail-1")[1])
        return state(stack, "call-fail-1")[0] is LedgerState.QUEUED

    wait_for(queued, what="the conversation to fail")
    assert seen[-1] == "Failed"
    assert set(seen) <= {"Uploading", "Processing", "Failed"}
    assert harvest_queued(stack) == ["call-fail-1"]
    manifest = stack.manifest("call-fail-1", KIND)
    assert manifest["status"] == "Failed"
    assert manifest["error"]["code"] == "Failed"
    assert manifest["results"][0]["transcripts"] == []
    names = set(stack.blobs("call-fail-1", KIND))
    assert names == {
        "conversations/call-fail-1/raw/offlinetask.json",
        "conversations/call-fail-1/manifest.json",
    }


def test_polls_per_tick_are_capped_and_taken_in_turns(conversation_stack):
    stack = conversation_stack(CONVERSATION_POLLS_PER_TICK="2")
    ids = [f"standup-{i}" for i in range(5)]
    for conversation_id in ids:
        stack.emulator.admin.create_conversation(conversation_id, status="Processing")
        track(stack, conversation_id)
    poller = runtime.conversation_poller(stack.parts)
    ticks: list[set[str]] = []
    for _ in range(3):
        stack.emulator.admin.reset_stats()
        before = {r.id: r.last_checked for r in stack.parts.ledger.query(KIND)}
        assert poller.tick().checked == 2
        assert stack.emulator.admin.stats().routes == {"GET /offlinetask": 2}
        after = {r.id: r.last_checked for r in stack.parts.ledger.query(KIND)}
        ticks.append({i for i in ids if after[i] != before[i]})
    first, second, third = ticks
    assert len(first | second) == 4  # two new ones each tick
    [never_checked] = set(ids) - first - second
    # The third tick takes the one never asked about, then the least recently checked (from the first tick).
    assert never_checked in third
    assert (third - {never_checked}) <= first


def test_delete_after_harvest_removes_the_conversation_from_the_service(conversation_stack):
    stack = conversation_stack(DELETE_AFTER_HARVEST="true")
    stack.emulator.admin.create_conversation("retro-9", status="Completed")
    track(stack, "retro-9")
    runtime.conversation_poller(stack.parts).tick()
    harvest_queued(stack)
    assert stack.manifest("retro-9", KIND)["status"] == "Completed"
    client = ConversationClient(conversations_endpoint(stack), key=EMULATOR_KEY)
    assert str(client.get("retro-9").processing_status) == "Deleted"


def test_a_conversation_tracked_again_after_it_went_missing_is_polled_again(conversation_stack):
    stack = conversation_stack()
    track(stack, "late-upload")
    runtime.conversation_poller(stack.parts).tick()
    assert state(stack, "late-upload")[0] is LedgerState.MISSING
    stack.emulator.admin.create_conversation("late-upload", status="Completed")
    assert track(stack, "late-upload")["state"] == "Pending"
    assert runtime.conversation_poller(stack.parts).tick().enqueued_ids == ["late-upload"]


def test_service_errors_are_recorded_and_never_break_the_transcription_tick(conversation_stack):
    stack = conversation_stack()
    stack.emulator.admin.create_conversation("flaky", status="Completed")
    track(stack, "flaky")
    impatient = ConversationClient(
        conversations_endpoint(stack), key=EMULATOR_KEY, retry=RetryRules(max_attempts=1)
    )
    parts = dataclasses.replace(stack.parts, conversations=impatient)
    stack.emulator.admin.add_fault("GET /offlinetask", "500", count=1)
    runtime.poll_tick(parts)
    assert stack.parts.ledger.poller_state("transcriptions").watermark is not None
    record = stack.parts.ledger.get(KIND, "flaky")
    assert (record.state, record.last_checked is not None) == (LedgerState.PENDING, True)
    assert "500" in record.detail
    runtime.poll_tick(parts)
    assert stack.parts.ledger.get(KIND, "flaky").state is LedgerState.QUEUED


def test_conversations_are_off_without_an_endpoint(make_stack):
    stack = make_stack()
    reply = runtime.track_conversation("meeting-1", stack.parts)
    assert reply.status == 409
    message = json.loads(reply.body)["error"]["message"]
    assert "CONVERSATION_ENDPOINT" in message
    assert "SPEECH_REGION" in message
    assert runtime.conversation_poller(stack.parts) is None
    runtime.handle_message(
        HarvestRequest(kind=KIND, id="meeting-1").model_dump_json().encode(), 1, stack.parts
    )
    [poisoned] = stack.queue_messages(f"{stack.settings.harvest_queue}-poison")
    assert "conversation transcription is off" in json.loads(poisoned)["reason"]


def test_tracking_and_status_through_the_host(conversation_stack, run_host):
    stack = conversation_stack(POLL_SCHEDULE="0 0 0 1 1 *")
    stack.emulator.admin.create_conversation("all-hands", status="Completed")
    with run_host(REPO_ROOT, stack.env) as host:
        params = {"code": host.function_key}
        tracked = requests.post(host.url("/api/conversations/all-hands"), params=params, timeout=10)
        assert tracked.status_code == 202
        assert tracked.headers["location"] == "/api/conversations/all-hands"
        bad = requests.post(host.url("/api/conversations/not%20an%20id"), params=params, timeout=10)
        assert (bad.status_code, bad.json()["error"]["field"]) == (400, "conversationId")
        runtime.conversation_poller(
            stack.parts
        ).tick()  # the timer is quiet; the host harvests what is queued

        def harvested():
            answer = requests.get(host.url("/api/conversations/all-hands"), params=params, timeout=10).json()
            return answer if answer["state"] == "Harvested" else None

        status = wait_for(harvested, timeout=20, what="the host to harvest the conversation")
        assert status["kind"] == "conversation"
        assert status["serviceStatus"] == "Completed"
        assert status["manifestUrl"].endswith("/conversations/all-hands/manifest.json")
