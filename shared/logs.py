"""Structured log lines for ops: one line per event, readable in the function log, and one log record whose
key=value pairs are separate custom dimensions in Application Insights.

The pairs go into the record as flat `extra` keys (not a nested `custom_dimensions` dict, an OpenCensus
convention the Functions host drops and the Azure Monitor distro turns into one string), beside `event`, the
event's name. A job's state change also counts in the `harvester.jobs.transitions` metric, and its arrival
in Harvested in `harvester.e2e.latency`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from shared import telemetry
from shared.states import JobRecord, LedgerState

logger = logging.getLogger("speech_harvester")

# The Azure SDK logs every HTTP request (azure.core's HttpLoggingPolicy) and every token (azure.identity) at
# INFO. In Azure the Python worker forwards every record at the host's level to Application Insights, where a
# harvest's dozens of requests would bury its own lines and be paid for by the ingested byte.
QUIET_LIBRARIES = ("azure",)


def quiet_libraries() -> None:
    """Keep the SDK's per-request chatter out of the function log: its warnings and errors still get through."""
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


# Attributes of logging.LogRecord (and `event`, the name): a field may not shadow them.
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "event"}


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text


def _dimension(value: Any) -> str | int | float | bool:
    """A value custom dimensions can hold as it is: numbers and booleans stay, the rest becomes text."""
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log `name` followed by key=value pairs; None values are left out. Callers pass no secrets."""
    shown = {k: v for k, v in fields.items() if v is not None}
    clashes = _RESERVED.intersection(shown)
    if clashes:
        raise ValueError(f"log field names reserved by logging: {', '.join(sorted(clashes))}")
    line = " ".join([name, *(f"{k}={_format(v)}" for k, v in shown.items())])
    logger.log(level, line, extra={"event": name, **{k: _dimension(v) for k, v in shown.items()}})


def transition(record: JobRecord, previous: str | None, now: datetime, **fields: Any) -> None:
    """The one line per state change, with the durations ops ask about."""
    durations: dict[str, float] = {}
    if record.created is not None:
        durations["since_created_s"] = (now - record.created).total_seconds()
    if record.queued_at is not None and record.state.value in ("Harvested", "Poisoned"):
        durations["since_queued_s"] = (now - record.queued_at).total_seconds()
    if record.harvest_started_at is not None and record.state.value == "Harvested":
        durations["harvest_s"] = (now - record.harvest_started_at).total_seconds()
    if record.state is LedgerState.HARVESTED and record.last_action is not None:
        # A finished job's last action is its finish: this is the finished-to-manifest latency.
        durations["since_finished_s"] = (now - record.last_action).total_seconds()
        telemetry.e2e_latency.record(durations["since_finished_s"], {"kind": record.kind.value})
    telemetry.record_transition(record.kind.value, previous, record.state.value)
    fields = {**durations, **fields}
    event(
        "job_state",
        kind=record.kind.value,
        id=record.id,
        state=record.state.value,
        previous=previous,
        service_status=record.service_status,
        trigger=telemetry.current_trigger().value,
        detail=record.detail if record.state in (LedgerState.POISONED, LedgerState.MISSING) else None,
        **fields,
    )
