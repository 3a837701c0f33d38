"""Structured log lines for ops: one line per job state change, readable in the function logs and queryable
in Application Insights (the key=value pairs are also passed as custom dimensions)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from shared.states import JobRecord

logger = logging.getLogger("speech_harvester")


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log `name` followed by key=value pairs; None values are left out. Callers pass no secrets."""
    shown = {k: v for k, v in fields.items() if v is not None}
    line = " ".join([name, *(f"{k}={_format(v)}" for k, v in shown.items())])
    logger.log(
        level, line, extra={"custom_dimensions": {"event": name, **{k: str(v) for k, v in shown.items()}}}
    )


def transition(record: JobRecord, previous: str | None, now: datetime, **fields: Any) -> None:
    """The one line per state change, with the durations ops ask about."""
    durations: dict[str, float] = {}
    if record.created is not None:
        durations["since_created_s"] = (now - record.created).total_seconds()
    if record.queued_at is not None and record.state.value in ("Harvested", "Poisoned"):
        durations["since_queued_s"] = (now - record.queued_at).total_seconds()
    if record.harvest_started_at is not None and record.state.value == "Harvested":
        durations["harvest_s"] = (now - record.harvest_started_at).total_seconds()
    fields = {**durations, **fields}
    event(
        "job_state",
        kind=record.kind.value,
        id=record.id,
        state=record.state.value,
        previous=previous,
        service_status=record.service_status,
        **fields,
    )
