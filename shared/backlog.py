"""The backlog the poll tick reports as gauges: open jobs per kind and state, the age of the oldest job in each,
jobs near the end of their time to live, and the poison queue's length.

Computed from the ledger's open (and Poisoned) rows only, never a scan of every job, and only the columns the
gauges need, so it costs one filtered query per kind and one queue-properties call per tick.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared import telemetry
from shared.ledger import Ledger
from shared.queueing import HarvestQueue
from shared.states import OPEN_STATES, JobKind, JobRecord, LedgerState, ttl_end_at_risk

_WATCHED = (*sorted(OPEN_STATES), LedgerState.POISONED)
_GAUGE_FIELDS = ("created", "last_action", "ttl_hours")  # all backlog() reads besides state and first_seen


@dataclass(frozen=True)
class Backlog:
    open_jobs: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, state) -> count
    oldest_open_age: dict[tuple[str, str], float] = field(
        default_factory=dict
    )  # (kind, state) -> s (0: none)
    ttl_at_risk: int = 0


def backlog(records: Iterable[JobRecord], now: datetime, ttl_margin: timedelta) -> Backlog:
    """Pure: the gauges' values from the open and Poisoned rows (every open kind/state appears, 0 if none)."""
    keys = [(kind.value, state.value) for kind in JobKind for state in sorted(OPEN_STATES)]
    counts: Counter[tuple[str, str]] = Counter(dict.fromkeys(keys, 0))
    oldest = dict.fromkeys(keys, 0.0)
    at_risk = 0
    for record in records:
        if ttl_end_at_risk(record, now, ttl_margin) is not None:
            at_risk += 1
        if record.state not in OPEN_STATES:
            continue
        key = (record.kind.value, record.state.value)
        counts[key] += 1
        oldest[key] = max(oldest[key], (now - (record.created or record.first_seen)).total_seconds())
    return Backlog(open_jobs=dict(counts), oldest_open_age=oldest, ttl_at_risk=at_risk)


def observe(ledger: Ledger, queue: HarvestQueue, now: datetime, ttl_margin: timedelta) -> Backlog:
    """Read the backlog and set the gauges (harvester.open_jobs, .oldest_open.age, .ttl_at_risk,
    .poison.length)."""
    records = [record for kind in JobKind for record in ledger.query(kind, _WATCHED, fields=_GAUGE_FIELDS)]
    current = backlog(records, now, ttl_margin)
    for (kind, state), count in current.open_jobs.items():
        telemetry.open_jobs.set(count, {"kind": kind, "state": state})
    for (kind, state), age in current.oldest_open_age.items():
        telemetry.oldest_open_age.set(round(age, 1), {"kind": kind, "state": state})
    telemetry.ttl_at_risk.set(current.ttl_at_risk)
    telemetry.poison_length.set(queue.poison_length())
    return current
