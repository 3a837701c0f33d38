"""Transcript-ready events end to end: the harvester over Azurite and the emulator publishes exactly one event
per terminal job to NOTIFY_QUEUE, across redelivery and a crash between the manifest and the ledger; a publish
that fails is published again by the poll tick, with the same id."""

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry import trace

from shared import ops, runtime
from shared.events import TranscriptEvent
from shared.harvest import Outcome
from shared.queueing import HarvestRequest, parse_request
from shared.states import JobKind, LedgerState

pytestmark = pytest.mark.e2e
PREFIX = "speech/"


def poll_and_harvest(stack, parts=None):
    parts = parts or stack.parts
    runtime.poller(parts).tick()
    return [runtime.harvest(parse_request(body), parts) for body in stack.drain()]


def events(stack) -> list[TranscriptEvent]:
    """Every event on the notify queue (messages are base64 text, as a queue trigger reads them)."""
    return [
        TranscriptEvent.model_validate_json(body)
        for body in stack.queue_messages(stack.settings.notify_queue)
    ]


@pytest.fixture
def notify_stack(make_stack):
    def make(**settings: str):
        return make_stack(
            NOTIFY_QUEUE=f"events-{uuid.uuid4().hex[:8]}", DESTINATION_PREFIX=PREFIX, **settings
        )

    return make


def test_one_event_per_terminal_job_and_none_on_redelivery(notify_stack):
    stack = notify_stack()
    ok, failed = stack.submit(["a.wav", "b-stereo.wav"]), stack.submit(["x-fail.wav"])
    stack.finished(ok)
    stack.finished(failed)
    assert sorted(poll_and_harvest(stack)) == [Outcome.HARVESTED, Outcome.HARVESTED]
    for job in (ok, failed):  # redelivered requests
        assert runtime.harvest(HarvestRequest(id=job), stack.parts) is Outcome.ALREADY_HARVESTED

    by_job = {event.data.id: event for event in events(stack)}
    assert len(events(stack)) == 2
    assert by_job[ok].type == "SpeechHarvester.TranscriptionHarvested"
    assert by_job[failed].type == "SpeechHarvester.TranscriptionFailed"
    event = by_job[ok]
    manifest_path = f"{PREFIX}transcriptions/{ok}/manifest.json"
    assert event.subject == manifest_path
    assert event.data.manifest_url == stack.parts.destination.url(manifest_path)
    manifest = stack.manifest(ok)
    stems = {result.stem for result in event.data.results}
    assert stems == {"a", "b-stereo"}
    for result in event.data.results:
        assert set(result.transcript_urls) == {"json", "txt", "srt", "vtt"}
    listed = {t["blob"] for r in manifest["results"] for t in r["transcripts"]}
    urls = {u for r in event.data.results for u in r.transcript_urls.values()}
    assert urls == {stack.parts.destination.url(blob) for blob in listed}
    assert by_job[failed].data.error is not None
    assert by_job[failed].data.results == []
    for job in (ok, failed):
        assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, job).event_owed is False
    assert "sig=" not in str([e.to_json() for e in events(stack)])


def test_a_crash_between_the_manifest_and_the_ledger_yields_one_event(notify_stack):
    stack = notify_stack()
    job = stack.submit(["a.wav"])
    stack.finished(job)
    # The state a crash leaves: the manifest is written, the ledger still says Harvesting, nothing published.
    silent = dataclasses.replace(stack.parts, notify_targets=())
    poll_and_harvest(stack, silent)
    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
    stack.parts.ledger.save(record.model_copy(update={"state": LedgerState.HARVESTING}))
    assert events(stack) == []

    assert runtime.harvest(HarvestRequest(id=job), stack.parts) is Outcome.ALREADY_HARVESTED  # redelivery
    assert runtime.harvest(HarvestRequest(id=job), stack.parts) is Outcome.ALREADY_HARVESTED  # and again
    runtime.poll_tick(stack.parts)

    [event] = events(stack)
    assert event.data.id == job
    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
    assert record.state is LedgerState.HARVESTED
    assert record.event_owed is False


def test_conversations_publish_their_own_event_types(notify_stack, fresh_emulator):
    stack = notify_stack(CONVERSATION_ENDPOINT=f"{fresh_emulator.endpoint}/conversations/api/v1/")
    stack.emulator.admin.create_conversation("board-7", status="Completed", utterances=4)
    stack.emulator.admin.create_conversation("call-fail-7", status="Failed")
    for conversation in ("board-7", "call-fail-7"):
        runtime.track_conversation(conversation, stack.parts)
    runtime.conversation_poller(stack.parts).tick()
    for body in stack.drain():
        runtime.handle_message(body, 1, stack.parts)

    types = {event.data.id: event.type.value for event in events(stack)}
    assert types == {
        "board-7": "SpeechHarvester.ConversationHarvested",
        "call-fail-7": "SpeechHarvester.ConversationFailed",
    }
    [done] = [e for e in events(stack) if e.data.id == "board-7"]
    assert done.subject == f"{PREFIX}conversations/board-7/manifest.json"
    assert [r.stem for r in done.data.results] == ["board-7"]


def test_a_failed_publish_is_published_by_the_poll_tick_with_the_same_id(
    notify_stack, eventgrid_topic, managed_identity, monkeypatch
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(eventgrid_topic.ca_file))
    stack = notify_stack(NOTIFY_EVENTGRID_ENDPOINT=eventgrid_topic.endpoint)
    job = stack.submit(["a.wav"])
    stack.finished(job)
    eventgrid_topic.fail_next(1, 403)  # e.g. the role assignment has not propagated yet

    poll_and_harvest(stack)
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, job).event_owed is True
    assert len(eventgrid_topic.requests) == 1
    [early] = events(stack)  # the queue, tried first, took it: the retry sends it there again

    runtime.poll_tick(stack.parts)
    assert len(eventgrid_topic.requests) == 1  # harvested just now: the harvester's own to publish, still
    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
    earlier = record.harvested_at - timedelta(minutes=1)
    stack.parts.ledger.save(record.model_copy(update={"harvested_at": earlier}))  # a minute passes
    runtime.poll_tick(stack.parts)

    first, second = (request.body[0] for request in eventgrid_topic.requests)
    assert first["id"] == second["id"]
    assert second["data"]["id"] == job
    assert second["type"] == "SpeechHarvester.TranscriptionHarvested"
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, job).event_owed is False
    assert [e.id for e in events(stack)] == [early.id, early.id]  # a duplicate, with the same id
    assert early.id == first["id"]


def test_an_event_published_by_the_poll_tick_is_published_in_the_jobs_trace(
    notify_stack, eventgrid_topic, managed_identity, monkeypatch, otel
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(eventgrid_topic.ca_file))
    stack = notify_stack(NOTIFY_EVENTGRID_ENDPOINT=eventgrid_topic.endpoint)
    job = stack.submit(["a.wav"])
    stack.finished(job)
    eventgrid_topic.fail_next(1, 403)
    poll_and_harvest(stack)
    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
    assert record.event_owed is True
    assert record.traceparent is not None
    stack.parts.ledger.save(
        record.model_copy(update={"harvested_at": record.harvested_at - timedelta(minutes=1)})
    )
    with trace.get_tracer("test").start_as_current_span("poll") as tick:
        runtime.poll_tick(stack.parts)
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, job).event_owed is False
    (published,) = otel.spans("publish transcription event")
    assert published.context.trace_id == int(record.traceparent.split("-")[1], 16)
    assert published.context.trace_id != tick.get_span_context().trace_id
    assert [link.context.span_id for link in published.links] == [tick.get_span_context().span_id]


def test_a_reharvest_is_a_new_harvest_with_a_new_event_id(notify_stack):
    stack = notify_stack()
    job = stack.submit(["a.wav"])
    stack.finished(job)
    poll_and_harvest(stack)
    [first] = events(stack)

    report = ops.reharvest(stack.parts, JobKind.TRANSCRIPTION, [job], datetime.now(UTC), lambda _: None)

    assert report.done == {job: "harvested"}
    first_again, second = events(stack)
    assert first_again == first
    assert second.data.id == job
    assert second.id != first.id
    assert second.time > first.time
