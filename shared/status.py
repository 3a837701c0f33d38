"""The status report behind GET /api/status: counts per ledger state and the oldest job still open."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from shared.ledger import Ledger
from shared.states import OPEN_STATES, JobKind


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class OldestOpen(_Model):
    kind: str
    id: str
    state: str
    service_status: str
    since: datetime
    age_seconds: float


class PollerView(_Model):
    watermark: datetime | None = None
    reconcile_in_progress: bool = False
    last_reconcile: datetime | None = None
    known_total: int = 0


class StatusReport(_Model):
    counts: dict[str, dict[str, int]]
    oldest_open: OldestOpen | None
    poller: PollerView
    generated_at: datetime


def status_report(ledger: Ledger, now: datetime) -> StatusReport:
    oldest: OldestOpen | None = None
    for kind in JobKind:
        for record in ledger.query(kind, OPEN_STATES):
            since = record.created or record.first_seen
            if oldest is None or since < oldest.since:
                oldest = OldestOpen(
                    kind=kind.value,
                    id=record.id,
                    state=record.state.value,
                    service_status=record.service_status,
                    since=since,
                    age_seconds=round((now - since).total_seconds(), 1),
                )
    state = ledger.poller_state("transcriptions")
    poller = PollerView(
        watermark=state.watermark,
        reconcile_in_progress=state.reconcile_skip is not None,
        last_reconcile=state.reconcile_finished,
        known_total=state.known_total,
    )
    return StatusReport(counts=ledger.counts(), oldest_open=oldest, poller=poller, generated_at=now)
