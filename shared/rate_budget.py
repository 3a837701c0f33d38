"""One Speech rate budget for every instance of the app, shared through the Functions storage account.

A Speech resource answers 429 beyond 100 requests in any 10 s, counted over a sliding window as requests
arrive. The Flex plan runs the harvest on many instances at once, and a limiter inside each process lets
every instance send its own 100. So the right to send is leased from one table row per resource instead:

- the row lists the grants of the last few seconds (`<epoch seconds>:<count>` each). An instance that needs
  to send reads it, and if fewer than `limit` requests were granted in the last `span` seconds, appends a
  grant for the requests its threads are waiting to send (a small batch, at most `max_batch`) and writes the
  row back only if nobody changed it since it was read (ETag). Losing that race means re-reading: some
  other instance got its grant, so the app as a whole never stalls;
- a lease is only good for `validity` seconds (it is leased for requests already waiting, which go at once);
  the window is counted as `span = window + validity + margin`, so however a lease's requests spread within
  their validity and however the network delays them, no `window` of arrivals at the service holds more than
  `limit`. The cost is that the app's steady rate is `limit * window / span`: 95% of the limit at the
  defaults, in exchange for (almost) never meeting a 429;
- when the budget is spent, the instance sleeps until enough grants age out, then asks again.

Each lease costs one table write when nobody else wrote the row meanwhile (a read and a write otherwise),
against a Speech call that takes longer. Grant times are the instances' own clocks; on Azure they are kept
in sync to a few milliseconds, well inside the margin. The budget protects the service's limit, not fairness
between instances: whoever asks when there is room gets it, and an instance that waits gets the next slot
that frees as often as anybody else.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.connections import StorageConnection

PARTITION = "speech"
VALIDITY_SECONDS = 0.25
MARGIN_SECONDS = 0.25
MAX_BATCH = 10


@dataclass(frozen=True)
class Grant:
    at: float  # epoch seconds
    count: int


def parse_grants(text: str) -> list[Grant]:
    """The row's `grants` property; unreadable entries are dropped (the row is ours alone)."""
    grants = []
    for item in text.split():
        at, _, count = item.partition(":")
        try:
            grants.append(Grant(float(at), int(count)))
        except ValueError:
            continue
    return grants


def format_grants(grants: Sequence[Grant]) -> str:
    return " ".join(f"{grant.at:.3f}:{grant.count}" for grant in grants)


@dataclass(frozen=True)
class Lease:
    """A budget decision: how many requests may go now (0: none), and otherwise how long to wait."""

    granted: int
    wait: float
    grants: list[Grant]  # what the row holds after a grant (the live grants, plus the new one)


def _free(live: Sequence[Grant], now: float, limit: int, span: float) -> tuple[int, float]:
    """Requests still free in the last `span` seconds, and, when none is, the wait until one is."""
    counted = [g for g in live if g.at > now - span]
    used = sum(g.count for g in counted)
    if used < limit:
        return limit - used, 0.0
    for grant in counted:  # oldest first: each one that ages out frees its requests
        used -= grant.count
        if used < limit:
            return 0, grant.at + span - now
    return 0, span  # unreachable: used drops to 0 < limit


def lease(
    grants: Sequence[Grant], now: float, want: int, *, limit: int, span: float, burst: int | None = None
) -> Lease:
    """Grant up to `want` requests at `now` if fewer than `limit` were granted in the last `span` seconds
    and fewer than `burst` in the last `span * burst / limit` (the same rate, in small steps, so a spent
    budget frees a few requests at a time instead of all of them at once, every `span`); when none is left,
    say how long until one is. Pure."""
    live = sorted((g for g in grants if g.at > now - span), key=lambda g: g.at)
    windows = [(limit, span)]
    if burst is not None and burst < limit:
        windows.append((burst, span * burst / limit))
    free, wait = zip(*(_free(live, now, n, seconds) for n, seconds in windows), strict=True)
    if min(free) >= 1:
        granted = min(want, *free)
        return Lease(granted, 0.0, [*live, Grant(now, granted)])
    return Lease(0, max(0.0, *wait), live)


def budget_key(endpoint_origin: str, fingerprint: str) -> str:
    """The row of one Speech resource (endpoint and key fingerprint), as a valid RowKey."""
    return hashlib.sha256(f"{endpoint_origin} {fingerprint}".encode()).hexdigest()[:32]


class SharedRateBudget:
    """A RateLimiter (see shared.speech.ratelimit) whose window is one table row shared by every instance."""

    def __init__(
        self,
        table: TableClient,
        key: str,
        *,
        limit: int,
        window: float = 10.0,
        validity: float = VALIDITY_SECONDS,
        margin: float = MARGIN_SECONDS,
        max_batch: int = MAX_BATCH,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"rate limit must be >= 1 request per > 0 s, got {limit} per {window}")
        self._table = table
        self._key = key
        self.limit = limit
        self.span = window + validity + margin
        self._validity = validity
        self._max_batch = max_batch
        self._clock = clock
        self._lock = threading.Lock()  # one thread leases for all of this process's waiting threads
        self._count_lock = threading.Lock()
        self._waiting = 0
        self._tokens = 0
        self._expires = 0.0
        self._row: tuple[list[Grant], str | None] | None = None  # last known row and its ETag
        self.leases = 0  # table writes that granted requests, for the bench

    def acquire(self, sleep: Callable[[float], None]) -> float:
        """Wait until this process may send one request; return the seconds slept for the budget."""
        waited = 0.0
        with self._count_lock:
            self._waiting += 1
        try:
            with self._lock:
                while True:
                    now = self._clock()
                    if self._tokens > 0 and now < self._expires:
                        self._tokens -= 1
                        return waited
                    with self._count_lock:
                        want = min(self._waiting, self._max_batch)
                    decision = self._lease(want)
                    if decision.granted:
                        self._tokens = decision.granted - 1
                        self._expires = self._clock() + self._validity
                        return waited
                    sleep(decision.wait)
                    waited += decision.wait
        finally:
            with self._count_lock:
                self._waiting -= 1

    @classmethod
    def open(
        cls, connection: StorageConnection, table_name: str, key: str, *, limit: int
    ) -> SharedRateBudget:
        """The budget row in `table_name` on the Functions storage account (key or identity)."""
        return cls(connection.table_service().create_table_if_not_exists(table_name), key, limit=limit)

    def _lease(self, want: int) -> Lease:
        """One grant, or the wait until one is possible; re-reads the row after losing a race for it."""
        while True:
            grants, etag = self._row if self._row is not None else self._read()
            decision = lease(
                grants, self._clock(), want, limit=self.limit, span=self.span, burst=self._max_batch
            )
            if not decision.granted:
                self._row = None  # others wrote since: read afresh after the wait
                return decision
            try:
                etag = self._write(decision.grants, etag)
            except (ResourceModifiedError, ResourceExistsError):
                self._row = None
                continue
            self._row = (decision.grants, etag)
            self.leases += 1
            return decision

    def _read(self) -> tuple[list[Grant], str | None]:
        try:
            entity = self._table.get_entity(PARTITION, self._key)
        except ResourceNotFoundError:
            return [], None
        return parse_grants(str(entity.get("grants") or "")), entity.metadata.get("etag")

    def _write(self, grants: list[Grant], etag: str | None) -> str | None:
        entity = {"PartitionKey": PARTITION, "RowKey": self._key, "grants": format_grants(grants)}
        if etag is None:
            meta = self._table.create_entity(entity)
        else:
            meta = self._table.update_entity(
                entity, mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
            )
        return meta.get("etag")
