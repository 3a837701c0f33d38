"""The app's telemetry through the OpenTelemetry SDK's in-memory exporters: flat log dimensions, one trace per
job across the queue, transition metrics, and the pure helpers (operation names, blob dimensions, backlog)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry import trace

from shared import logs, telemetry
from shared.backlog import backlog
from shared.speech.observed import speech_operation
from shared.states import JobKind, JobRecord, LedgerState
from shared.telemetry import Trigger

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
JOB = "5cff1d03-118f-4c4c-b3ba-e1f1cd88c14d"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records():
    handler = Records()
    logs.logger.addHandler(handler)
    previous = logs.logger.level
    logs.logger.setLevel(logging.INFO)
    yield handler.records
    logs.logger.removeHandler(handler)
    logs.logger.setLevel(previous)


def record(state: LedgerState, **fields) -> JobRecord:
    return JobRecord(
        kind=JobKind.TRANSCRIPTION, id=JOB, state=state, service_status="Succeeded", first_seen=NOW, **fields
    )


def test_an_event_is_one_record_with_flat_dimensions_and_one_readable_line(records):
    logs.event("poll_tick", speech_calls=1, listed=3, took=0.12345, note="two words", skipped=None)
    (line,) = records
    assert line.getMessage() == 'poll_tick speech_calls=1 listed=3 took=0.123 note="two words"'
    assert line.event == "poll_tick"
    assert (line.speech_calls, line.listed, line.took, line.note) == (1, 3, 0.123, "two words")
    assert not hasattr(line, "skipped")
    assert not hasattr(line, "custom_dimensions")


def test_a_field_may_not_shadow_a_log_record_attribute():
    with pytest.raises(ValueError, match="message, module"):
        logs.event("oops", module="x", message="y")


def test_a_transition_counts_with_its_trigger_and_a_harvest_records_the_finish_to_manifest_latency(
    otel, records
):
    finished = NOW - timedelta(seconds=42)
    harvested = record(LedgerState.HARVESTED, last_action=finished, harvest_started_at=NOW)
    before = otel.total("harvester.jobs.transitions", to="Harvested", trigger="webhook")
    latency_before = otel.total("harvester.e2e.latency", kind="transcription")
    with telemetry.triggered_by(Trigger.WEBHOOK):
        logs.transition(harvested, "Harvesting", NOW)
    assert otel.total("harvester.jobs.transitions", to="Harvested", trigger="webhook") == before + 1
    assert otel.total("harvester.e2e.latency", kind="transcription") == pytest.approx(latency_before + 42)
    (line,) = records
    assert (line.state, line.previous, line.trigger, line.since_finished_s) == (
        "Harvested",
        "Harvesting",
        "webhook",
        42.0,
    )
    (attributes, _), *_ = [
        p for p in otel.points("harvester.jobs.transitions") if p[0]["trigger"] == "webhook"
    ]
    assert set(attributes) == {"kind", "from", "to", "trigger"}  # never an id


def test_poisoned_and_missing_transitions_carry_their_detail(records):
    logs.transition(record(LedgerState.POISONED, detail="AuthenticationError: 401"), "Harvesting", NOW)
    assert records[0].detail == "AuthenticationError: 401"


def test_a_job_queued_by_the_timer_gets_its_own_trace_which_the_harvest_continues(otel):
    tracer = trace.get_tracer("test")
    with (
        tracer.start_as_current_span("poll") as tick,
        telemetry.triggered_by(Trigger.TIMER),
        telemetry.job_trace("transcription", JOB),
    ):
        traceparent = telemetry.current_traceparent()
    assert traceparent is not None
    with telemetry.job_span("harvest transcription", traceparent=traceparent, kind=trace.SpanKind.CONSUMER):
        pass
    (queued,) = otel.spans("queue transcription")
    (harvest,) = otel.spans("harvest transcription")
    assert queued.context.trace_id != tick.get_span_context().trace_id
    assert [link.context.span_id for link in queued.links] == [tick.get_span_context().span_id]
    assert harvest.context.trace_id == queued.context.trace_id
    assert harvest.parent is not None
    assert harvest.parent.span_id == queued.context.span_id
    assert queued.attributes["job.id"] == JOB


def test_a_webhook_continues_the_request_trace(otel):
    tracer = trace.get_tracer("test")
    with (
        tracer.start_as_current_span("speech_webhook") as request,
        telemetry.triggered_by(Trigger.WEBHOOK),
        telemetry.job_trace("transcription", JOB),
    ):
        pass
    (queued,) = otel.spans("queue transcription")
    assert queued.context.trace_id == request.get_span_context().trace_id


@pytest.mark.parametrize("trigger", [Trigger.TIMER, Trigger.WEBHOOK])
def test_a_job_that_has_a_trace_is_queued_in_it_whatever_step_queues_it(otel, trigger):
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("submit_transcription") as submission:
        stored = telemetry.current_traceparent()
    with (
        tracer.start_as_current_span("poll or web hook") as step,
        telemetry.triggered_by(trigger),
        telemetry.job_trace("transcription", JOB, traceparent=stored),
    ):
        pass
    (queued,) = otel.spans("queue transcription")
    assert queued.context.trace_id == submission.get_span_context().trace_id
    assert [link.context.span_id for link in queued.links] == [step.get_span_context().span_id]


def test_without_a_traceparent_the_harvest_is_a_child_of_the_current_span(otel):
    with telemetry.job_span("harvest transcription", traceparent="not a traceparent"):
        pass
    (harvest,) = otel.spans("harvest transcription")
    assert harvest.parent is None


@pytest.mark.parametrize(
    ("method", "url", "operation"),
    [
        (
            "GET",
            "https://x/speechtotext/transcriptions?api-version=2024-11-15&filter=a",
            "GET /transcriptions",
        ),
        ("get", f"https://x/speechtotext/transcriptions/{JOB}/files", "GET /transcriptions/{id}/files"),
        (
            "GET",
            f"https://x/speechtotext/v3.2/transcriptions/{JOB}/files/abc",
            "GET /transcriptions/{id}/files/{id}",
        ),
        (
            "POST",
            "https://x/speechtotext/transcriptions:submit?api-version=2024-11-15",
            "POST /transcriptions:submit",
        ),
        ("POST", "https://x/speechtotext/webhooks/h-1:ping", "POST /webhooks/{id}:ping"),
        ("GET", "https://transcribe.x/api/v1/offlinetask?id=meeting-1", "GET /offlinetask"),
    ],
)
def test_speech_operations_are_named_without_ids(method, url, operation):
    assert speech_operation(method, url) == operation


@pytest.mark.parametrize(
    ("path", "metadata", "dimensions"),
    [
        (
            f"p/transcriptions/{JOB}/raw/contenturl_0.json",
            {"valid": "false"},
            ("transcription", "raw", "false"),
        ),
        (f"transcriptions/{JOB}/transcript/call.vtt", {}, ("transcription", "vtt", "true")),
        ("conversations/meeting-1/manifest.json", {}, ("conversation", "manifest", "true")),
        (f"transcriptions/{JOB}/transcription.json", {}, ("transcription", "entity", "true")),
    ],
)
def test_blob_dimensions_come_from_the_layout(path, metadata, dimensions):
    found = telemetry.blob_dimensions(path, metadata)
    assert (found["kind"], found["format"], found["valid"]) == dimensions


def test_backlog_counts_open_states_the_oldest_age_and_jobs_near_their_ttl():
    old = record(LedgerState.PENDING, created=NOW - timedelta(hours=3))
    queued = record(LedgerState.QUEUED, last_action=NOW - timedelta(hours=46), ttl_hours=48)
    poisoned = record(LedgerState.POISONED, last_action=NOW - timedelta(hours=47), ttl_hours=48)
    harvested = record(LedgerState.HARVESTED, created=NOW - timedelta(days=9))
    found = backlog([old, queued, poisoned, harvested], NOW, timedelta(hours=6))
    assert found.open_jobs[("transcription", "Pending")] == 1
    assert found.open_jobs[("transcription", "Queued")] == 1
    assert found.open_jobs[("transcription", "Harvesting")] == 0
    assert found.open_jobs[("conversation", "Pending")] == 0
    assert found.oldest_open_age[("transcription", "Pending")] == 3 * 3600.0
    assert found.oldest_open_age[("transcription", "Queued")] == 0.0  # created unknown: since first seen, now
    assert found.oldest_open_age[("conversation", "Pending")] == 0.0
    assert found.ttl_at_risk == 2
