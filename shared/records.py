"""The one write rule for ledger rows: read, decide (a pure transition from shared.states), write on the ETag.

Every change of a job record goes through `decide_and_save`: the write is conditional on the row's ETag, so a
concurrent poller, web hook, harvester or heartbeat is never overwritten; on a conflict the row is read again and
the decision made again, a bounded number of times. What a decision asks for (enqueue a harvest) is done only
by the writer whose conditional save made the change, so racing writers enqueue a job once.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared import logs, telemetry
from shared.ledger import ConcurrencyError, Ledger
from shared.queueing import HarvestQueue, HarvestRequest, RequestReason
from shared.redact import scrub_json
from shared.states import (
    QUEUED_LOST_AFTER,
    STALE_AFTER,
    Decision,
    JobKind,
    JobRecord,
    LedgerState,
    Observation,
    observe,
    resend,
)

ATTEMPTS = 5


class Unread:
    """Marks "the caller has not read the row" (None already means "there is no row")."""


UNREAD = Unread()


@dataclass(frozen=True)
class Saved:
    """The row as stored after the step (None: there is no row) and the decision that was carried out."""

    record: JobRecord | None
    decision: Decision

    @property
    def changed(self) -> bool:
        return self.decision.record is not None


def decide_and_save(
    ledger: Ledger,
    kind: JobKind,
    job_id: str,
    decide: Callable[[JobRecord | None], Decision],
    now: datetime,
    *,
    first: JobRecord | Unread | None = UNREAD,
    queue: HarvestQueue | None = None,
    request_reason: RequestReason = RequestReason.POLL,
    entity: dict[str, Any] | None = None,
    **log_fields: str,
) -> Saved:
    """Read the row, `decide`, save on its ETag; on a conflict read and decide again (at most ATTEMPTS times).

    `first` is the row as the caller already read it (None: no row), which saves the first read; a stale copy
    only costs a retry. A decision to enqueue is carried out on `queue` once the save succeeded, with `entity`
    (the job as a trustworthy source returned it) in the request for the harvest. A state change
    is logged (one `job_state` line). ConcurrencyError when the row kept changing (a transient failure).
    """
    for attempt in range(ATTEMPTS):
        current = first if attempt == 0 and not isinstance(first, Unread) else ledger.get(kind, job_id)
        decision = decide(current)
        if decision.record is None:
            return Saved(current, decision)
        record = decision.record
        if decision.enqueue and record.traceparent is None:
            # A job without a trace (none from a submission) keeps the one it is queued in.
            record = record.model_copy(update={"traceparent": telemetry.current_traceparent()})
        try:
            saved = ledger.save(record)
        except ConcurrencyError:
            continue
        if current is None or saved.state is not current.state:
            logs.transition(saved, current.state.value if current else None, now, **log_fields)
        if decision.enqueue:
            if queue is None:
                raise ValueError(f"{kind.value} {job_id}: a decision to enqueue needs a queue")
            queue.send(
                HarvestRequest(
                    kind=kind,
                    id=job_id,
                    reason=request_reason,
                    entity=entity,
                    traceparent=saved.traceparent,
                )
            )
        return Saved(saved, decision)
    logs.event("ledger_contention", logging.WARNING, kind=kind.value, id=job_id)
    raise ConcurrencyError(f"{kind.value} {job_id}: ledger row kept changing")


def apply_observation(
    ledger: Ledger,
    queue: HarvestQueue,
    seen: Observation,
    now: datetime,
    *,
    reason: RequestReason,
    source: str,
    prefetched: dict[str, JobRecord] | None = None,
    entity: dict[str, Any] | None = None,
) -> Saved | None:
    """Fold what the service said into the ledger, enqueueing at most once (poll, reconcile, web hook).

    None when the row kept changing (logged as contention; the next tick or the reconcile sees the job again).
    `entity` is the job as the service returned it, handed to the harvest (SAS removed) so that it does not
    have to ask the service again.
    """
    first = prefetched.get(seen.id) if prefetched is not None else UNREAD
    # A job that may move to Queued does so in its trace (its submission's, or one of its own); the harvest
    # request carries it (traceparent).
    may_queue = seen.terminal and (
        isinstance(first, Unread)
        or first is None
        or first.state in (LedgerState.PENDING, LedgerState.MISSING)
    )
    stored = first.traceparent if isinstance(first, JobRecord) else None
    job_trace = telemetry.job_trace(seen.kind.value, seen.id, traceparent=stored)
    with job_trace if may_queue else contextlib.nullcontext():
        try:
            return decide_and_save(
                ledger,
                seen.kind,
                seen.id,
                lambda current: observe(current, seen, now, source=source),
                now,
                first=first,
                queue=queue,
                request_reason=reason,
                entity=scrub_json(entity) if entity is not None else None,
                source=source,
            )
        except ConcurrencyError:
            return None


def queue_idle(queue: HarvestQueue) -> bool:
    """No message waits visibly in the harvest queue (one cheap peek)."""
    return not queue.has_waiting()


def resend_lost(
    ledger: Ledger,
    queue: HarvestQueue,
    kind: JobKind,
    now: datetime,
    *,
    after: timedelta,
    records: Iterable[JobRecord] | None = None,
) -> list[str]:
    """The one loop that sends lost harvest requests again, for every job kind (see shared.states.is_lost):
    a Harvesting job whose heartbeat stopped, a Queued job whose message is gone; each in the job's own trace
    (not the tick's). Returns the ids re-sent."""
    idle = queue_idle(queue)
    # Only rows old enough to be lost are read (is_lost's thresholds, counted from when the job was first seen,
    # which is never later than when it was queued), so a tick reads no row of a large, healthy backlog.
    queued_after = min(after, QUEUED_LOST_AFTER) if idle else after
    candidates = (
        records
        if records is not None
        else itertools.chain(
            ledger.query(kind, [LedgerState.QUEUED], first_seen_before=now - queued_after),
            ledger.query(kind, [LedgerState.HARVESTING], first_seen_before=now - STALE_AFTER),
        )
    )
    sent = []
    for record in candidates:
        if record.state not in (LedgerState.QUEUED, LedgerState.HARVESTING):
            continue

        def decide(current: JobRecord | None) -> Decision:
            return resend(current, now, after=after, queue_idle=idle)

        if not decide(record).enqueue:
            continue
        try:
            with telemetry.job_trace(kind.value, record.id, traceparent=record.traceparent):
                saved = decide_and_save(
                    ledger,
                    kind,
                    record.id,
                    decide,
                    now,
                    first=record,
                    queue=queue,
                    request_reason=RequestReason.REQUEUE,
                    reason="requeue",
                )
        except ConcurrencyError:
            continue
        if saved.decision.enqueue:
            sent.append(record.id)
    return sent
