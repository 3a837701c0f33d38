"""The web hook receiver end to end: through the real local host (challenge, signed, unsigned and forged
events, a hook registered in the emulator driving a harvest) and driven directly (the race with the timer,
the other transcription events)."""

import io
import json
import threading

import pytest
import requests

from shared import runtime
from shared.cli import main as cli
from shared.poll import TickReport
from shared.queueing import parse_request
from shared.states import JobKind, LedgerState
from shared.webhooks import EVENT_HEADER, SIGNATURE_HEADER, signature
from tests.fixtures.host import REPO_ROOT
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.e2e

SECRET = "e2e-hook-secret-7f3a"
QUIET = "0 0 0 1 1 *"  # the timer stays out of the way: only the web hook can enqueue
TIMEOUT = 10


def harvested(stack, job):
    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
    return record is not None and record.state is LedgerState.HARVESTED


def event(name: str, entity=None, *, secret: str | None = SECRET, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(entity).encode()
    headers = {EVENT_HEADER: name, "Content-Type": "application/json"}
    if secret is not None:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    return headers, body


@pytest.fixture
def hosted(make_stack, run_host):
    stack = make_stack("2024-11-15", WEBHOOK_SECRET=SECRET, POLL_SCHEDULE=QUIET)
    with run_host(REPO_ROOT, stack.env) as host:
        yield stack, host


def post(host, headers, body, **params):
    return requests.post(
        host.url("/api/webhooks/speech"), data=body, headers=headers, params=params, timeout=TIMEOUT
    )


def test_challenge_is_echoed_only_when_signed(hosted):
    _, host = hosted
    signed = {EVENT_HEADER: "Challenge", SIGNATURE_HEADER: signature(SECRET, b"")}

    answer = post(host, signed, b"", validationToken="tok-42")
    assert answer.status_code == 200
    assert answer.text == "tok-42"
    assert answer.headers["content-type"].startswith("text/plain")

    by_get = requests.get(
        host.url("/api/webhooks/speech"),
        headers=signed,
        params={"validationToken": "tok-43"},
        timeout=TIMEOUT,
    )
    assert (by_get.status_code, by_get.text) == (200, "tok-43")

    unsigned = post(host, {EVENT_HEADER: "Challenge"}, b"", validationToken="tok-44")
    assert unsigned.status_code == 401
    assert "tok-44" not in unsigned.text
    forged = {EVENT_HEADER: "Challenge", SIGNATURE_HEADER: signature("guess", b"")}
    assert post(host, forged, b"", validationToken="tok-45").status_code == 401


def test_signed_completion_is_harvested_unsigned_and_forged_ones_are_refused(hosted):
    stack, host = hosted
    job = stack.submit(["a.wav"])
    entity = stack.finished(job).wire

    unsigned = post(host, *event("TranscriptionCompletion", entity, secret=None))
    assert unsigned.status_code == 401
    assert "not signed" in unsigned.json()["error"]["message"]
    forged = post(host, *event("TranscriptionCompletion", entity, secret="not-our-secret"))
    assert forged.status_code == 401
    garbled = post(host, *event("TranscriptionCompletion", raw=b'{"self": '))
    assert garbled.status_code == 400
    assert "not valid JSON" in garbled.json()["error"]["message"]
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, job) is None  # nothing recorded, nothing enqueued

    accepted = post(host, *event("TranscriptionCompletion", entity))
    assert accepted.status_code == 200
    assert accepted.json() == {
        "event": "TranscriptionCompletion",
        "id": job,
        "action": "enqueued",
        "state": "Queued",
    }
    # The ledger says Harvested only after the manifest is written: wait for that, the last step.
    wait_for(lambda: harvested(stack, job), timeout=20, what="the host's harvest to finish")

    again = post(host, *event("TranscriptionCompletion", entity))  # the service retries; no second harvest
    assert again.json()["action"] == "recorded"
    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
    assert record.state is LedgerState.HARVESTED
    assert record.source == "webhook"
    assert record.enqueue_count == 1
    assert SECRET not in host.logs()


def test_registered_hook_answers_the_challenge_and_its_completion_leads_to_a_manifest(hosted):
    stack, host = hosted
    url = host.url("/api/webhooks/speech")
    out, err = io.StringIO(), io.StringIO()
    assert cli(["webhook", "register", "--url", url], environ=stack.env, out=out, err=err) == 0
    registered = json.loads(out.getvalue())
    assert registered["action"] == "created"
    assert registered["events"] == [
        "transcriptionCompletion",
        "transcriptionCreation",
        "transcriptionDeletion",
        "transcriptionProcessing",
    ]
    hook_id = registered["id"]
    wait_for(
        lambda: str(stack.speech.get_webhook(hook_id).status) == "Succeeded",
        what="the hook's challenge to pass",
    )
    challenges = [d for d in stack.emulator.admin.deliveries() if d.event == "Challenge"]
    assert [d.status_code for d in challenges] == [200]

    job = stack.submit(["call-0042-stereo.wav"])
    wait_for(lambda: harvested(stack, job), timeout=20, what="a harvest driven by the web hook")
    manifest = stack.manifest(job)
    assert manifest["status"] == "Succeeded"
    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
    assert record.state is LedgerState.HARVESTED
    assert record.source == "webhook"
    assert record.enqueue_count == 1
    delivered = {d.event for d in stack.emulator.admin.deliveries() if d.status_code == 200}
    assert {"TranscriptionCreation", "TranscriptionCompletion"} <= delivered

    # Registering again updates the same hook; listing never shows the secret; delete removes it.
    out = io.StringIO()
    assert cli(["webhook", "register", "--url", url], environ=stack.env, out=out, err=err) == 0
    assert json.loads(out.getvalue())["action"] == "updated"
    assert json.loads(out.getvalue())["id"] == hook_id
    out = io.StringIO()
    assert cli(["webhook", "list"], environ=stack.env, out=out, err=err) == 0
    assert [h["id"] for h in json.loads(out.getvalue())] == [hook_id]
    assert SECRET not in out.getvalue()
    assert cli(["webhook", "delete", "--id", hook_id], environ=stack.env, out=io.StringIO(), err=err) == 0
    assert list(stack.speech.list_webhooks()) == []
    assert err.getvalue() == ""


def test_webhook_and_timer_racing_enqueue_each_job_once(make_stack):
    stack = make_stack(WEBHOOK_SECRET=SECRET)
    jobs = [stack.submit([f"race-{i}.wav"]) for i in range(4)]
    entities = [stack.finished(job).wire for job in jobs]
    barrier = threading.Barrier(len(jobs) + 1)
    answers, errors = [], []

    def run(work):
        try:
            barrier.wait(10)
            answers.append(work())
        except Exception as error:
            errors.append(error)

    def webhook(entity):
        return lambda: runtime.receive_webhook(
            "POST", *_as_request(event("TranscriptionCompletion", entity)), stack.parts
        )

    threads = [threading.Thread(target=run, args=(webhook(entity),)) for entity in entities]
    threads.append(threading.Thread(target=run, args=(lambda: runtime.poller(stack.parts).tick(),)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors

    [tick] = [a for a in answers if isinstance(a, TickReport)]
    by_webhook = [json.loads(a.body)["action"] for a in answers if not isinstance(a, TickReport)]
    assert len(by_webhook) == len(jobs)
    assert tick.enqueued + by_webhook.count("enqueued") == len(jobs)  # one enqueue per job, whoever won
    requests_sent = [parse_request(body) for body in stack.drain()]
    assert sorted(r.id for r in requests_sent) == sorted(jobs)
    for job in jobs:
        record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
        assert record.state is LedgerState.QUEUED
        assert record.enqueue_count == 1
    for request in requests_sent:
        runtime.harvest(request, stack.parts)
    # Late deliveries and the next tick change nothing.
    for entity in entities:
        runtime.receive_webhook("POST", *_as_request(event("TranscriptionCompletion", entity)), stack.parts)
    runtime.poller(stack.parts).tick()
    assert stack.drain() == []
    assert all(stack.manifest(job) for job in jobs)


def _as_request(headers_and_body):
    headers, body = headers_and_body
    return headers, {}, body


def test_processing_event_is_recorded_from_the_body_without_a_service_call(make_stack):
    stack = make_stack(WEBHOOK_SECRET=SECRET)
    [job] = stack.emulator.admin.seed(1, status="Running")
    entity = stack.speech.get_transcription(job).wire
    stack.emulator.admin.reset_stats()
    reply = runtime.receive_webhook(
        "POST", *_as_request(event("TranscriptionProcessing", entity)), stack.parts
    )
    assert reply.status == 200
    assert stack.emulator.admin.stats().total == 0
    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
    assert (record.state, record.service_status, record.source) == (LedgerState.PENDING, "Running", "webhook")
    assert stack.queue_messages() == []


def test_a_signed_completion_costs_no_call_and_its_harvest_one(make_stack):
    stack = make_stack(WEBHOOK_SECRET=SECRET)
    job = stack.submit(["signed.wav", "other.wav"])
    entity = stack.finished(job).wire
    stack.emulator.admin.reset_stats()
    reply = runtime.receive_webhook(
        "POST", *_as_request(event("TranscriptionCompletion", entity)), stack.parts
    )
    assert json.loads(reply.body)["action"] == "enqueued"
    assert stack.emulator.admin.stats().total == 0  # the signed body is the service's word
    [request] = [parse_request(body) for body in stack.drain()]
    assert request.entity is not None
    runtime.harvest(request, stack.parts)
    assert stack.emulator.admin.stats().routes == {"GET /transcriptions/{id}/files": 1}
    assert stack.manifest(job)["status"] == "Succeeded"
    assert json.loads(stack.blobs(job)[f"transcriptions/{job}/transcription.json"])["self"] == entity["self"]


def test_an_unsigned_completion_the_service_does_not_confirm_enqueues_nothing(make_stack):
    stack = make_stack()  # no secret: nothing vouches for the body
    [job] = stack.emulator.admin.seed(1, status="Running")
    claim = {**stack.speech.get_transcription(job).wire, "status": "Succeeded"}
    stack.emulator.admin.reset_stats()
    reply = runtime.receive_webhook(
        "POST", *_as_request(event("TranscriptionCompletion", claim, secret=None)), stack.parts
    )
    assert json.loads(reply.body)["action"] == "recorded"
    assert stack.emulator.admin.stats().routes == {"GET /transcriptions/{id}": 1}  # exactly one GET
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, job).state is LedgerState.PENDING
    assert stack.queue_messages() == []


def test_deletion_marks_the_job_missing_unless_it_was_harvested(make_stack):
    stack = make_stack(WEBHOOK_SECRET=SECRET)
    pending, harvested = stack.emulator.admin.seed(2, status="Running")
    stack.emulator.admin.complete(harvested, "Succeeded")
    runtime.poller(stack.parts).tick()
    [request] = [parse_request(body) for body in stack.drain()]
    runtime.harvest(request, stack.parts)
    entities = {job: stack.speech.get_transcription(job).wire for job in (pending, harvested)}

    for job, entity in entities.items():
        stack.speech.delete_transcription(job)
        reply = runtime.receive_webhook(
            "POST", *_as_request(event("TranscriptionDeletion", entity)), stack.parts
        )
        assert reply.status == 200
    gone = stack.parts.ledger.get(JobKind.TRANSCRIPTION, pending)
    assert (gone.state, gone.service_status) == (LedgerState.MISSING, "Deleted")
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, harvested).state is LedgerState.HARVESTED


def test_events_about_untracked_jobs_are_ignored_with_tracked_discovery(make_stack):
    stack = make_stack(WEBHOOK_SECRET=SECRET, DISCOVERY="tracked")
    job = stack.submit(["a.wav"])
    entity = stack.finished(job).wire
    reply = runtime.receive_webhook(
        "POST", *_as_request(event("TranscriptionCompletion", entity)), stack.parts
    )
    assert json.loads(reply.body)["action"] == "ignored (not tracked)"
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, job) is None


def test_unsigned_progress_and_late_progress_are_not_recorded(make_stack):
    unsigned = make_stack()  # no WEBHOOK_SECRET: bodies are not trusted
    [job] = unsigned.emulator.admin.seed(1, status="Running")
    entity = unsigned.speech.get_transcription(job).wire
    reply = runtime.receive_webhook(
        "POST", *_as_request(event("TranscriptionCreation", entity, secret=None)), unsigned.parts
    )
    assert json.loads(reply.body)["action"] == "ignored (unsigned)"
    assert unsigned.parts.ledger.get(JobKind.TRANSCRIPTION, job) is None

    signed = make_stack(WEBHOOK_SECRET=SECRET)
    finished_job = signed.submit(["late.wav"])
    done = signed.finished(finished_job).wire
    runtime.receive_webhook("POST", *_as_request(event("TranscriptionCompletion", done)), signed.parts)
    late = {**done, "status": "Running"}  # a retried Processing event arriving after the completion
    reply = runtime.receive_webhook(
        "POST", *_as_request(event("TranscriptionProcessing", late)), signed.parts
    )
    assert json.loads(reply.body) == {
        "event": "TranscriptionProcessing",
        "id": finished_job,
        "action": "ignored (stale)",
        "state": "Queued",
    }
    assert signed.parts.ledger.get(JobKind.TRANSCRIPTION, finished_job).service_status == "Succeeded"


def test_a_deletion_the_service_does_not_confirm_changes_nothing(make_stack):
    stack = make_stack(WEBHOOK_SECRET=SECRET)
    [job] = stack.emulator.admin.seed(1, status="Running")
    runtime.poller(stack.parts).tick()
    entity = stack.speech.get_transcription(job).wire
    reply = runtime.receive_webhook("POST", *_as_request(event("TranscriptionDeletion", entity)), stack.parts)
    assert json.loads(reply.body)["action"] == "recorded"
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, job).state is LedgerState.PENDING
