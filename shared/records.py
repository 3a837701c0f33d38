"""Read-decide-write on one ledger row, for the API and webhook paths that change a job outside the poll.

The decision is a pure function of the current row (see shared.states); the write is conditional on the row's
ETag, so a concurrent poller, webhook or harvester is never overwritten: on a conflict the row is read again
and the decision made again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from shared import logs
from shared.ledger import ConcurrencyError, Ledger
from shared.states import JobKind, JobRecord, LedgerState, harvest_finished, went_missing

ATTEMPTS = 3


class Unread:
    """Marks "the caller has not read the row" (None already means "there is no row")."""


UNREAD = Unread()


def update_record(
    ledger: Ledger,
    kind: JobKind,
    job_id: str,
    change: Callable[[JobRecord | None], JobRecord | None],
    now: datetime,
    *,
    first: JobRecord | Unread | None = UNREAD,
    **log_fields: str,
) -> JobRecord | None:
    """Apply `change` (None: leave the row as it is) and return the stored row; a state change is logged.

    `first` is the row as a caller already read it (None: no row), which saves the first read; a stale copy
    only costs a retry, because the write is conditional on its ETag.
    """
    for attempt in range(ATTEMPTS):
        current = first if attempt == 0 and not isinstance(first, Unread) else ledger.get(kind, job_id)
        new = change(current)
        if new is None or new == current:
            return current
        try:
            saved = ledger.save(new)
        except ConcurrencyError:
            continue
        if current is None or saved.state is not current.state:
            logs.transition(saved, current.state.value if current else None, now, **log_fields)
        return saved
    logs.event("ledger_contention", logging.WARNING, kind=kind.value, id=job_id)
    raise ConcurrencyError(f"{kind.value} {job_id}: ledger row kept changing")


# --- the harvesters' writes: they merge on conflict rather than decide again ---


def save_change(ledger: Ledger, new: JobRecord, old: JobRecord | None, now: datetime) -> JobRecord:
    """Save, and on a concurrent change re-read and re-apply only our state change (last writer of the
    harvest fields wins; the ledger never goes backwards from Harvested)."""
    for _ in range(3):
        try:
            saved = ledger.save(new)
        except ConcurrencyError:
            current = ledger.get(new.kind, new.id)
            if current is not None and current.state is LedgerState.HARVESTED:
                return current
            changes = {
                k: v
                for k, v in new.model_dump(exclude={"etag"}).items()
                if old is None or getattr(old, k) != v
            }
            new = (current or new).model_copy(update={**changes, "etag": current.etag if current else None})
            continue
        if old is None or saved.state is not old.state:
            logs.transition(saved, old.state.value if old else None, now)
        return saved
    raise ConcurrencyError(f"{new.kind.value} {new.id}: ledger row kept changing")


def known_or_new(
    record: JobRecord | None, kind: JobKind, job_id: str, status: str, now: datetime
) -> JobRecord:
    """The ledger row, or a new Queued one for a harvest request whose row is missing (e.g. a replay)."""
    return record or JobRecord(
        kind=kind, id=job_id, state=LedgerState.QUEUED, service_status=status, first_seen=now
    )


def record_harvested(
    ledger: Ledger,
    record: JobRecord | None,
    *,
    kind: JobKind,
    job_id: str,
    manifest_path: str,
    status: str,
    now: datetime,
) -> JobRecord:
    base = known_or_new(record, kind, job_id, status, now)
    return save_change(ledger, harvest_finished(base, now, manifest_path, status), record, now)


def record_missing(
    ledger: Ledger, record: JobRecord | None, *, kind: JobKind, job_id: str, reason: str, now: datetime
) -> JobRecord:
    base = known_or_new(record, kind, job_id, "Unknown", now)
    return save_change(ledger, went_missing(base, reason), record, now)
