"""The job life cycle as pure functions: what a ledger record becomes when we observe the service.

Every decision about a job (record it, enqueue its harvest, re-enqueue a lost request, warn about it) is made
here from values, so it is unit-tested without storage; the poller and the webhook only carry it out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class JobKind(StrEnum):
    TRANSCRIPTION = "transcription"
    CONVERSATION = "conversation"


class LedgerState(StrEnum):
    """Our view of a job; the service's own status is kept beside it as service_status."""

    PENDING = "Pending"  # known, not finished in the service
    QUEUED = "Queued"  # finished in the service; harvest requested
    HARVESTING = "Harvesting"  # a harvester is writing it
    HARVESTED = "Harvested"  # manifest written: done
    POISONED = "Poisoned"  # harvest gave up; the message is in the poison queue with its reason
    MISSING = "Missing"  # the service no longer has it and we never harvested it


TERMINAL_SERVICE = frozenset({"Succeeded", "Failed", "Completed"})
OPEN_STATES = frozenset({LedgerState.PENDING, LedgerState.QUEUED, LedgerState.HARVESTING})


class Observation(BaseModel):
    """What the service told us about a job, reduced to what the ledger needs."""

    model_config = ConfigDict(frozen=True)

    kind: JobKind = JobKind.TRANSCRIPTION
    id: str
    service_status: str
    created: datetime | None = None
    last_action: datetime | None = None
    display_name: str | None = None
    locale: str | None = None
    ttl_hours: int | None = None
    error_code: str | None = None
    # When we asked the service (conversations are polled one GET each, oldest-checked first).
    last_checked: datetime | None = None

    @property
    def terminal(self) -> bool:
        return self.service_status in TERMINAL_SERVICE


class JobRecord(BaseModel):
    """One ledger row. The etag is the table's, for optimistic concurrency; it is not part of the row."""

    model_config = ConfigDict(frozen=True)

    kind: JobKind
    id: str
    state: LedgerState
    service_status: str
    created: datetime | None = None
    last_action: datetime | None = None
    display_name: str | None = None
    locale: str | None = None
    ttl_hours: int | None = None
    error_code: str | None = None
    first_seen: datetime
    queued_at: datetime | None = None
    harvest_started_at: datetime | None = None
    harvested_at: datetime | None = None
    manifest_blob: str | None = None
    detail: str | None = None
    tracked: bool = False
    enqueue_count: int = 0
    warned_at: datetime | None = None
    last_checked: datetime | None = None  # conversations: when the poller last asked the service
    source: str | None = None  # who told us first: poll, reconcile, webhook, submit, track
    event_owed: bool = False  # Harvested, its transcript-ready event not yet published (shared/notify.py)
    etag: str | None = None


class Decision(BaseModel):
    """The outcome of observing a job: the record to store (None: nothing changed) and whether to enqueue."""

    model_config = ConfigDict(frozen=True)

    record: JobRecord | None
    enqueue: bool = False
    previous_state: LedgerState | None = None


def observe(record: JobRecord | None, seen: Observation, now: datetime, *, source: str) -> Decision:
    """Fold one observation of the service into the ledger record."""
    if record is None:
        state = LedgerState.QUEUED if seen.terminal else LedgerState.PENDING
        new = JobRecord(
            kind=seen.kind,
            id=seen.id,
            state=state,
            service_status=seen.service_status,
            created=seen.created,
            last_action=seen.last_action,
            display_name=seen.display_name,
            locale=seen.locale,
            ttl_hours=seen.ttl_hours,
            error_code=seen.error_code,
            last_checked=seen.last_checked,
            first_seen=now,
            queued_at=now if seen.terminal else None,
            enqueue_count=1 if seen.terminal else 0,
            source=source,
        )
        return Decision(record=new, enqueue=seen.terminal)

    updates: dict[str, object] = {}
    for name in (
        "service_status",
        "created",
        "last_action",
        "display_name",
        "locale",
        "ttl_hours",
        "error_code",
        "last_checked",
    ):
        value = getattr(seen, name)
        if value is not None and getattr(record, name) != value:
            updates[name] = value

    enqueue = False
    if record.state in (LedgerState.PENDING, LedgerState.MISSING):
        if seen.terminal:
            updates.update(state=LedgerState.QUEUED, queued_at=now, enqueue_count=record.enqueue_count + 1)
            enqueue = True
        elif record.state is LedgerState.MISSING:
            updates["state"] = LedgerState.PENDING
    if not updates:
        return Decision(record=None)
    return Decision(record=record.model_copy(update=updates), enqueue=enqueue, previous_state=record.state)


def track(record: JobRecord | None, kind: JobKind, job_id: str, now: datetime, *, source: str) -> JobRecord:
    """Mark a job as ours (submitted or tracked through the API), so `tracked` discovery follows it."""
    if record is None:
        return JobRecord(
            kind=kind,
            id=job_id,
            state=LedgerState.PENDING,
            service_status="Unknown",
            first_seen=now,
            tracked=True,
            source=source,
        )
    return record if record.tracked else record.model_copy(update={"tracked": True})


def needs_requeue(record: JobRecord, now: datetime, after: timedelta) -> bool:
    """A harvest request that made no progress for too long was lost (crash between ledger and queue)."""
    if record.state is LedgerState.QUEUED:
        since = record.queued_at or record.first_seen
    elif record.state is LedgerState.HARVESTING:
        since = record.harvest_started_at or record.queued_at or record.first_seen
    else:
        return False
    return now - since >= after


def requeued(record: JobRecord, now: datetime) -> JobRecord:
    return record.model_copy(
        update={"state": LedgerState.QUEUED, "queued_at": now, "enqueue_count": record.enqueue_count + 1}
    )


def warning_for(
    record: JobRecord, now: datetime, *, pending_after: timedelta, ttl_margin: timedelta, repeat: timedelta
) -> str | None:
    """Say why ops should look at this job, or None; each job is warned about at most once per `repeat`."""
    if record.warned_at is not None and now - record.warned_at < repeat:
        return None
    if record.state is LedgerState.PENDING and record.service_status in ("NotStarted", "Running", "Unknown"):
        started = record.created or record.first_seen
        if now - started >= pending_after:
            minutes = int((now - started).total_seconds() // 60)
            return f"{record.service_status} for {minutes} min (deadline {int(pending_after.total_seconds() // 60)} min)"
    if (
        record.state in (LedgerState.QUEUED, LedgerState.HARVESTING, LedgerState.POISONED)
        and record.service_status == "Succeeded"
        and record.ttl_hours
        and record.last_action is not None
    ):
        expires = record.last_action + timedelta(hours=record.ttl_hours)
        if expires - now <= ttl_margin:
            left = max(0.0, (expires - now).total_seconds() / 3600)
            return f"Succeeded but not harvested; the service deletes it in {left:.1f} h (time to live)"
    return None


def harvest_started(record: JobRecord, now: datetime) -> JobRecord:
    return record.model_copy(update={"state": LedgerState.HARVESTING, "harvest_started_at": now})


def harvest_finished(
    record: JobRecord, now: datetime, manifest_blob: str, service_status: str, *, owe_event: bool = False
) -> JobRecord:
    return record.model_copy(
        update={
            "state": LedgerState.HARVESTED,
            "harvested_at": now,
            "manifest_blob": manifest_blob,
            "service_status": service_status,
            "detail": None,
            "event_owed": owe_event,
        }
    )


def event_published(record: JobRecord | None) -> JobRecord | None:
    """The job's transcript-ready event went out: it owes nothing more (None: nothing to change)."""
    if record is None or not record.event_owed:
        return None
    return record.model_copy(update={"event_owed": False})


def harvest_poisoned(record: JobRecord, reason: str) -> JobRecord:
    return record.model_copy(update={"state": LedgerState.POISONED, "detail": reason[:1000]})


def went_missing(record: JobRecord, reason: str) -> JobRecord:
    return record.model_copy(update={"state": LedgerState.MISSING, "detail": reason[:1000]})


def reopened(record: JobRecord) -> JobRecord:
    """A Missing job tracked again (e.g. a conversation tracked before the service knew it): poll it again."""
    if record.state is not LedgerState.MISSING:
        return record
    return record.model_copy(update={"state": LedgerState.PENDING, "detail": None})
