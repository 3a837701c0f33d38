"""What the ops commands do (`python -m shared.cli status | jobs | reharvest | backfill`), apart from
parsing arguments and printing: list jobs, harvest jobs again, record jobs the poller never saw.

Every change goes through the same ledger rules as the app (ETag-conditional writes, shared.states) and
counts in the metrics with trigger `replay`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from shared import layout, runtime, telemetry
from shared.harvest import Outcome
from shared.observations import observation_of
from shared.poll import odata_time
from shared.queueing import HarvestRequest, RequestReason
from shared.records import apply_observation, decide_and_save
from shared.states import JobKind, JobRecord, LedgerState, reharvest_requested
from shared.telemetry import Trigger

Progress = Callable[[str], None]


class JobLine(BaseModel):
    """One row of `jobs`: what ops need to decide what to do with a job."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    kind: str
    id: str
    state: str
    service_status: str
    age_seconds: float  # since the job was created (or first seen)
    in_state_seconds: float | None  # since it entered its state, where the ledger knows
    detail: str | None  # why it is Missing or Poisoned


def _entered_state(record: JobRecord) -> datetime | None:
    return {
        LedgerState.QUEUED: record.queued_at,
        LedgerState.HARVESTING: record.harvest_started_at,
        LedgerState.HARVESTED: record.harvested_at,
    }.get(record.state)


def job_line(record: JobRecord, now: datetime) -> JobLine:
    entered = _entered_state(record)
    return JobLine(
        kind=record.kind.value,
        id=record.id,
        state=record.state.value,
        service_status=record.service_status,
        age_seconds=round((now - (record.created or record.first_seen)).total_seconds(), 1),
        in_state_seconds=round((now - entered).total_seconds(), 1) if entered else None,
        detail=record.detail,
    )


def jobs_in(records: Iterable[JobRecord], now: datetime, *, limit: int) -> list[JobLine]:
    """The oldest `limit` jobs first."""
    lines = sorted((job_line(r, now) for r in records), key=lambda line: -line.age_seconds)
    return lines[:limit]


@dataclass
class ReharvestReport:
    done: dict[str, str] = field(default_factory=dict)  # id -> harvest outcome
    refused: dict[str, str] = field(default_factory=dict)  # id -> why it was not harvested again


def reharvest(
    parts: runtime.Components, kind: JobKind, ids: list[str], now: datetime, progress: Progress
) -> ReharvestReport:
    """Harvest jobs again into the destination, in this process, one after the other.

    Every blob that exists is kept byte-exact (writes are conditional); what is missing, e.g. a format added
    to OUTPUT_FORMATS since, is written. The manifest is written anew to list it all, so it is removed first,
    after the ledger says Queued: a crash in between leaves a Queued job that the poller re-enqueues.
    """
    report = ReharvestReport()
    for number, job_id in enumerate(ids, 1):
        try:
            layout.validate_job_id(kind, job_id)
        except ValueError as error:
            report.refused[job_id] = str(error)
            continue
        record = parts.ledger.get(kind, job_id)
        if record is None:
            report.refused[job_id] = "not in the ledger"
        elif record.state not in (LedgerState.HARVESTED, LedgerState.POISONED, LedgerState.QUEUED):
            report.refused[job_id] = f"{record.state.value}: only Harvested, Poisoned or Queued jobs"
        else:
            with telemetry.triggered_by(Trigger.REPLAY):
                decide_and_save(
                    parts.ledger, kind, job_id, lambda r: reharvest_requested(r, now), now, reason="reharvest"
                )
                parts.destination.delete(
                    layout.manifest_blob(parts.settings.destination_prefix, kind, job_id)
                )
                request = HarvestRequest(kind=kind, id=job_id, reason=RequestReason.REPLAY, requested_at=now)
                outcome = runtime.harvest(request, parts)
            if outcome is Outcome.CONTINUED:
                report.done[job_id] = "continued on the harvest queue"
            else:
                report.done[job_id] = outcome.value
        progress(
            f"reharvest {number}/{len(ids)} {job_id}: {report.done.get(job_id) or report.refused[job_id]}"
        )
    return report


@dataclass
class BackfillReport:
    listed: int = 0
    finished: int = 0
    enqueued: list[str] = field(default_factory=list)


def backfill(parts: runtime.Components, since: datetime, now: datetime, progress: Progress) -> BackfillReport:
    """Record the finished transcriptions created since `since` and enqueue their harvest (one list call per
    100 jobs). Jobs the ledger already has are left as they are: a harvested job is not harvested again."""
    report = BackfillReport()
    pager = parts.speech.list_transcriptions(filter=f"createdDateTime ge {odata_time(since)}")
    with telemetry.triggered_by(Trigger.REPLAY):
        for page in pager.by_page():
            for transcription in page:
                report.listed += 1
                seen = observation_of(transcription)
                if not seen.terminal:
                    continue
                report.finished += 1
                saved = apply_observation(
                    parts.ledger, parts.queue, seen, now, reason=RequestReason.RECONCILE, source="backfill"
                )
                if saved is not None and saved.decision.enqueue:
                    report.enqueued.append(seen.id)
            progress(f"backfill: {report.listed} listed, {len(report.enqueued)} enqueued")
    return report
