"""The job life cycle as pure functions: every change of a ledger record is decided here, and only here.

Each transition takes the record as it is now (None: no row yet), what was observed, and the time, and returns
a Decision: the record to store (None: leave the row as it is) and what to do once it is stored (enqueue a
harvest request). shared.records carries decisions out with one ETag-guarded read-decide-write step, so a
conflict simply means deciding again on the fresh row. Nothing else builds a changed record.

The states and transitions (README "How it works" draws them):

    (no row) -observe-> Pending -observe: finished-> Queued -harvest_started-> Harvesting -harvest_finished-> Harvested
    Queued|Harvesting -found_unfinished-> Pending        Harvesting -continued-> Queued
    Queued|Harvesting -resend (lost request, stale heartbeat)-> Queued
    Queued|Harvesting -harvest_poisoned-> Poisoned -replayed-> Queued
    any but Harvested -went_missing-> Missing -observe / tracked-> Pending or Queued
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
    heartbeat_at: datetime | None = None  # a harvest in progress says it is alive (see resend)
    last_checked: datetime | None = None  # conversations: when the poller last asked the service
    source: str | None = None  # who told us first: poll, reconcile, webhook, submit, track
    event_owed: bool = False  # Harvested, its transcript-ready event not yet published (shared/notify.py)
    # The job's trace (a W3C traceparent, nothing else): its submission's, or the one it was first queued in.
    # Every harvest request for the job carries it, a re-sent one too (shared/records.py).
    traceparent: str | None = None
    etag: str | None = None


class Decision(BaseModel):
    """The outcome of observing a job: the record to store (None: nothing changed) and whether to enqueue."""

    model_config = ConfigDict(frozen=True)

    record: JobRecord | None
    enqueue: bool = False
    previous_state: LedgerState | None = None


UNCHANGED = Decision(record=None)


def _to(record: JobRecord | None, new: JobRecord | None, *, enqueue: bool = False) -> Decision:
    """The Decision that moves `record` to `new` (no change when they are equal)."""
    if new is None or new == record:
        return UNCHANGED
    return Decision(record=new, enqueue=enqueue, previous_state=record.state if record else None)


def _row(record: JobRecord | None, kind: JobKind, job_id: str, status: str, now: datetime) -> JobRecord:
    """The record, or a new Queued one for a harvest whose row is missing (e.g. a replayed message)."""
    return record or JobRecord(
        kind=kind, id=job_id, state=LedgerState.QUEUED, service_status=status, first_seen=now
    )


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


# --- following a job ----------------------------------------------------------------------------------------


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


def tracked(record: JobRecord | None, kind: JobKind, job_id: str, now: datetime, *, source: str) -> Decision:
    """Track a job; one that went Missing (e.g. a conversation tracked before the service knew it) is polled
    again."""
    new = track(record, kind, job_id, now, source=source)
    if new.state is LedgerState.MISSING:
        new = new.model_copy(update={"state": LedgerState.PENDING, "detail": None})
    return _to(record, new)


def submitted(
    record: JobRecord | None, seen: Observation, now: datetime, *, traceparent: str | None = None
) -> Decision:
    """A job we just created: ours, and recorded as the service described it; the submitting request's
    `traceparent` becomes the job's trace (its later harvest continues it)."""
    mine = track(record, seen.kind, seen.id, now, source="submit")
    if traceparent is not None and mine.traceparent is None:
        mine = mine.model_copy(update={"traceparent": traceparent})
    decision = observe(mine, seen, now, source="submit")
    return _to(record, decision.record or mine, enqueue=decision.enqueue)


def checked_with_error(record: JobRecord | None, now: datetime, message: str) -> Decision:
    """A failed check of a Pending job is remembered, so one that always fails does not stay first in line."""
    if record is None or record.state is not LedgerState.PENDING:
        return UNCHANGED
    return _to(record, record.model_copy(update={"last_checked": now, "detail": message[:1000]}))


def warned(record: JobRecord | None, now: datetime, *, missing: str | None = None) -> Decision:
    """Ops were warned about the job now; `missing` says the warning found it gone from the service."""
    if record is None:
        return UNCHANGED
    new = record.model_copy(update={"warned_at": now})
    if missing is not None and record.state not in (LedgerState.HARVESTED, LedgerState.MISSING):
        new = new.model_copy(update={"state": LedgerState.MISSING, "detail": missing[:1000]})
    return _to(record, new)


def went_missing(
    record: JobRecord | None,
    now: datetime,
    reason: str,
    *,
    kind: JobKind,
    job_id: str,
    service_status: str | None = None,
    create: bool = True,
) -> Decision:
    """The service no longer has the job (or a file of it). A harvested job stays Harvested; without a row,
    one is created only when `create` (a harvest request for a job we never recorded)."""
    if record is None and not create:
        return UNCHANGED
    if record is not None and record.state in (LedgerState.HARVESTED, LedgerState.MISSING):
        return UNCHANGED
    base = _row(record, kind, job_id, service_status or "Unknown", now)
    update: dict[str, object] = {"state": LedgerState.MISSING, "detail": reason[:1000]}
    if service_status is not None:
        update["service_status"] = service_status
    return _to(record, base.model_copy(update=update))


# --- harvesting -------------------------------------------------------------------------------------------


def harvest_started(record: JobRecord | None, now: datetime, *, kind: JobKind, job_id: str) -> Decision:
    """A harvester begins writing; its heartbeat starts now. Nothing to do once the job is Harvested."""
    if record is not None and record.state is LedgerState.HARVESTED:
        return UNCHANGED
    base = _row(record, kind, job_id, "Unknown", now)
    return _to(
        record,
        base.model_copy(
            update={"state": LedgerState.HARVESTING, "harvest_started_at": now, "heartbeat_at": now}
        ),
    )


def heartbeat(record: JobRecord | None, now: datetime) -> Decision:
    """A harvest still working says so; resend() treats a Harvesting job whose heartbeat stopped as lost."""
    if record is None or record.state is not LedgerState.HARVESTING:
        return UNCHANGED
    return _to(record, record.model_copy(update={"heartbeat_at": now}))


def found_unfinished(record: JobRecord | None, now: datetime, seen: Observation) -> Decision:
    """A harvest request for a job the service has not finished (an early web hook, a replay): back to
    Pending, so the poll keeps asking and enqueues it when it finishes. The same rule for every kind."""
    if record is None or record.state not in (LedgerState.QUEUED, LedgerState.HARVESTING):
        return UNCHANGED
    return _to(
        record,
        record.model_copy(
            update={"state": LedgerState.PENDING, "service_status": seen.service_status, "heartbeat_at": None}
        ),
    )


def continued(record: JobRecord | None, now: datetime) -> Decision:
    """A harvest out of its time budget enqueues its continuation: the job waits in the queue again."""
    if record is None or record.state is LedgerState.HARVESTED:
        return UNCHANGED
    return _to(
        record,
        record.model_copy(update={"state": LedgerState.QUEUED, "queued_at": now, "heartbeat_at": None}),
        enqueue=True,
    )


def harvest_finished(
    record: JobRecord | None,
    now: datetime,
    manifest_blob: str,
    service_status: str,
    *,
    kind: JobKind,
    job_id: str,
    owe_event: bool = False,
) -> Decision:
    """The manifest is written: Harvested. `owe_event`: its transcript-ready event is still to be published."""
    if record is not None and record.state is LedgerState.HARVESTED:
        return UNCHANGED
    base = _row(record, kind, job_id, service_status, now)
    return _to(
        record,
        base.model_copy(
            update={
                "state": LedgerState.HARVESTED,
                "harvested_at": now,
                "manifest_blob": manifest_blob,
                "service_status": service_status,
                "detail": None,
                "heartbeat_at": None,
                "event_owed": owe_event,
            }
        ),
    )


def event_published(record: JobRecord | None) -> Decision:
    """The job's transcript-ready event went out: it owes nothing more."""
    if record is None or not record.event_owed:
        return UNCHANGED
    return _to(record, record.model_copy(update={"event_owed": False}))


def harvest_poisoned(
    record: JobRecord | None, now: datetime, reason: str, *, kind: JobKind, job_id: str
) -> Decision:
    """The harvest gave up (its message is in the poison queue). A harvested job stays Harvested."""
    if record is not None and record.state is LedgerState.HARVESTED:
        return UNCHANGED
    base = _row(record, kind, job_id, "Unknown", now)
    return _to(
        record,
        base.model_copy(
            update={"state": LedgerState.POISONED, "detail": reason[:1000], "heartbeat_at": None}
        ),
    )


def replayed(record: JobRecord | None, now: datetime) -> Decision:
    """A poisoned message put back on the harvest queue: the job is in flight again."""
    if record is None or record.state is not LedgerState.POISONED:
        return UNCHANGED
    return _to(record, _requeued(record, now))


def reharvest_requested(record: JobRecord | None, now: datetime) -> Decision:
    """Ops asked to harvest a finished job again (e.g. after adding an output format): in flight again."""
    if record is None or record.state not in (
        LedgerState.HARVESTED,
        LedgerState.POISONED,
        LedgerState.QUEUED,
    ):
        return UNCHANGED
    return _to(record, _requeued(record, now))


# --- lost requests ----------------------------------------------------------------------------------------

# A harvest writes its heartbeat this often; one silent for STALE_AFTER has died with its host.
HEARTBEAT_EVERY = timedelta(seconds=20)
STALE_AFTER = timedelta(seconds=90)
# A Queued job not picked up this long while no message waits visibly in the queue has lost its message.
QUEUED_LOST_AFTER = timedelta(minutes=2)


def _requeued(record: JobRecord, now: datetime) -> JobRecord:
    return record.model_copy(
        update={
            "state": LedgerState.QUEUED,
            "queued_at": now,
            "enqueue_count": record.enqueue_count + 1,
            "heartbeat_at": None,
        }
    )


def is_lost(record: JobRecord, now: datetime, *, after: timedelta, queue_idle: bool) -> bool:
    """The one rule for a harvest request that will never be served, for every job kind:

    - Harvesting, and its heartbeat stopped for STALE_AFTER: the harvester died (host crash, SIGKILL);
    - Queued, and not picked up for QUEUED_LOST_AFTER while no message waits in the queue (`queue_idle`): the
      message was lost (a crash between the ledger write and the send, or a message held by a dead host);
    - Queued for `after` (REQUEUE_AFTER_MINUTES) whatever the queue holds (a long backlog).
    """
    if record.state is LedgerState.QUEUED:
        since = record.queued_at or record.first_seen
        return now - since >= after or (queue_idle and now - since >= QUEUED_LOST_AFTER)
    if record.state is LedgerState.HARVESTING:
        alive = record.heartbeat_at or record.harvest_started_at or record.queued_at or record.first_seen
        return now - alive >= STALE_AFTER
    return False


def needs_requeue(record: JobRecord, now: datetime, after: timedelta) -> bool:
    """Lost after `after` whatever the queue holds (see is_lost)."""
    return is_lost(record, now, after=after, queue_idle=False)


def resend(record: JobRecord | None, now: datetime, *, after: timedelta, queue_idle: bool) -> Decision:
    """Send a lost harvest request again (the ledger and the conditional writes make a duplicate harmless)."""
    if record is None or not is_lost(record, now, after=after, queue_idle=queue_idle):
        return UNCHANGED
    return _to(record, _requeued(record, now), enqueue=True)


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
    expires = ttl_end_at_risk(record, now, ttl_margin)
    if expires is not None:
        left = max(0.0, (expires - now).total_seconds() / 3600)
        return f"Succeeded but not harvested; the service deletes it in {left:.1f} h (time to live)"
    return None


def ttl_end_at_risk(record: JobRecord, now: datetime, margin: timedelta) -> datetime | None:
    """When the service deletes a Succeeded job we have not harvested, if that is within `margin` of now."""
    if (
        record.state in (LedgerState.QUEUED, LedgerState.HARVESTING, LedgerState.POISONED)
        and record.service_status == "Succeeded"
        and record.ttl_hours
        and record.last_action is not None
    ):
        expires = record.last_action + timedelta(hours=record.ttl_hours)
        if expires - now <= margin:
            return expires
    return None
