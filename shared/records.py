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
from shared.states import JobKind, JobRecord

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
