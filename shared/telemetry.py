"""Traces and metrics of the app, through the OpenTelemetry API only.

The app never configures OpenTelemetry: in Azure the Python worker sets up the Azure Monitor distro when
PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY=true (and `python -m local.host` does the same locally). Until a
provider is set, the API hands out no-op tracers and proxy instruments that bind to the real ones once the
distro is configured, so this module costs nothing when telemetry is off and imports only the light API
(cold start). Metric dimensions are small, fixed sets: never a job id.

One trace per job: a job's trace is its submission's (POST /api/transcriptions), or else the span of the step
that first moves it to Queued; the ledger row keeps its W3C `traceparent`, every harvest request for the job
carries it (a re-sent one too), and the harvest continues it, so a job's submission, Queued and Harvested log
records share one operation id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum

from opentelemetry import context, metrics, trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

NAME = "speech_harvester"
TRACEPARENT = "traceparent"

_tracer = trace.get_tracer(NAME)
_meter = metrics.get_meter(NAME)
_propagator = TraceContextTextMapPropagator()


class Trigger(StrEnum):
    """What set a job transition in motion (a metric dimension)."""

    TIMER = "timer"
    WEBHOOK = "webhook"
    SUBMIT = "submit"
    REPLAY = "replay"  # ops: poison replay, reharvest, backfill


_trigger: ContextVar[Trigger] = ContextVar("trigger", default=Trigger.TIMER)

# --- instruments (names are a contract: the README, alerts and workbook use them) -------------------------

transitions = _meter.create_counter(
    "harvester.jobs.transitions",
    unit="{transition}",
    description="job state changes: kind, from, to, trigger",
)
harvest_duration = _meter.create_histogram(
    "harvester.harvest.duration", unit="s", description="one harvest invocation: kind, outcome"
)
e2e_latency = _meter.create_histogram(
    "harvester.e2e.latency", unit="s", description="from the service's finish to the manifest: kind"
)
queue_wait = _meter.create_histogram(
    "harvester.queue.wait", unit="s", description="from the harvest request's enqueue to its harvest: kind"
)
harvested_bytes = _meter.create_counter(
    "harvester.bytes", unit="By", description="bytes written to the destination: kind, format, valid"
)
harvested_files = _meter.create_counter(
    "harvester.files", unit="{file}", description="blobs written to the destination: kind, format, valid"
)
speech_requests = _meter.create_counter(
    "speech.requests", unit="{request}", description="HTTP requests sent to Speech: operation, status_code"
)
speech_throttled = _meter.create_counter(
    "speech.throttled", unit="{request}", description="Speech answers 429: operation"
)
speech_ratelimit_wait = _meter.create_histogram(
    "speech.ratelimit.wait", unit="s", description="time a Speech request waited for the client's rate limit"
)
open_jobs = _meter.create_gauge(
    "harvester.open_jobs", unit="{job}", description="jobs per open ledger state: kind, state"
)
oldest_open_age = _meter.create_gauge(
    "harvester.oldest_open.age", unit="s", description="age of the oldest job in each open state: kind, state"
)
ttl_at_risk = _meter.create_gauge(
    "harvester.ttl_at_risk",
    unit="{job}",
    description="Succeeded jobs not harvested near the end of their TTL",
)
poison_length = _meter.create_gauge(
    "harvester.poison.length", unit="{message}", description="messages on the harvest poison queue"
)


# --- triggers ---------------------------------------------------------------------------------------------


@contextmanager
def triggered_by(trigger: Trigger) -> Iterator[None]:
    """Transitions made inside the block count under `trigger`."""
    token = _trigger.set(trigger)
    try:
        yield
    finally:
        _trigger.reset(token)


def current_trigger() -> Trigger:
    return _trigger.get()


def record_transition(kind: str, previous: str | None, state: str) -> None:
    transitions.add(
        1, {"kind": kind, "from": previous or "New", "to": state, "trigger": current_trigger().value}
    )


# --- trace context ----------------------------------------------------------------------------------------


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span, or None when nothing is being traced."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get(TRACEPARENT)


def _continued(traceparent: str | None) -> context.Context | None:
    """The context that continues `traceparent`, or None when there is none (or it is not a valid one)."""
    if not traceparent:
        return None
    extracted = _propagator.extract({TRACEPARENT: traceparent})
    return extracted if trace.get_current_span(extracted).get_span_context().is_valid else None


def _links_to_here() -> list[trace.Link]:
    here = trace.get_current_span().get_span_context()
    return [trace.Link(here)] if here.is_valid else []


@contextmanager
def job_span(
    name: str,
    *,
    traceparent: str | None = None,
    kind: trace.SpanKind = trace.SpanKind.INTERNAL,
    attributes: Mapping[str, str | int | float | bool] | None = None,
) -> Iterator[trace.Span]:
    """A span for one job's step. With a `traceparent` it continues that trace (linked to the span that was
    current, e.g. the host's invocation); without one it is a child of the current span, if any."""
    parent = _continued(traceparent)
    links = _links_to_here() if parent is not None else []
    with _tracer.start_as_current_span(
        name, context=parent, kind=kind, attributes=dict(attributes or {}), links=links
    ) as span:
        yield span


@contextmanager
def job_trace(kind: str, job_id: str, *, traceparent: str | None = None) -> Iterator[None]:
    """The span of the step that may move a job to Queued (or send its request again). A job that has a trace
    already (`traceparent`: its submission's, or the one it was first queued in) continues it, linked to the
    current span. Otherwise, on the timer, whose tick moves many jobs, each job starts a trace of its own
    (linked to the tick); a web hook or a submission is about one job and continues the request's trace."""
    attributes = {"job.kind": kind, "job.id": job_id, "trigger": current_trigger().value}
    parent = _continued(traceparent)
    if parent is None and current_trigger() is Trigger.TIMER:
        parent = context.Context()
    links = _links_to_here() if parent is not None else []
    with _tracer.start_as_current_span(
        f"queue {kind}", context=parent, kind=trace.SpanKind.PRODUCER, attributes=attributes, links=links
    ):
        yield


def tracer() -> trace.Tracer:
    return _tracer


# --- blobs written ----------------------------------------------------------------------------------------

_KINDS = {"transcriptions": "transcription", "conversations": "conversation"}


def blob_dimensions(path: str, metadata: Mapping[str, str]) -> dict[str, str]:
    """kind, format and valid of a blob in the destination layout, from its path and metadata.

    `<prefix><kind>s/<id>/raw/<file>` is format `raw`, `.../transcript/<stem>.<ext>` is `<ext>`, and the files
    at the job folder's top are `manifest` and `entity` (transcription.json).
    """
    segments = path.split("/")
    parent = segments[-2] if len(segments) >= 2 else ""
    if parent == "raw":
        fmt, kind_index = "raw", -4
    elif parent == "transcript":
        fmt, kind_index = segments[-1].rsplit(".", 1)[-1].lower(), -4
    else:
        fmt, kind_index = ("manifest" if segments[-1] == "manifest.json" else "entity"), -3
    kind_segment = segments[kind_index] if len(segments) >= -kind_index else ""
    return {
        "kind": _KINDS.get(kind_segment, "unknown"),
        "format": fmt,
        "valid": metadata.get("valid", "true"),
    }


def blob_written(path: str, size: int, metadata: Mapping[str, str]) -> None:
    dimensions = blob_dimensions(path, metadata)
    harvested_files.add(1, dimensions)
    harvested_bytes.add(size, dimensions)
