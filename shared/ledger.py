"""The job ledger: one Azure Table row per job, written with optimistic concurrency (ETags).

The ledger is what makes the pipeline exactly-once from the customer's point of view: the poller and the
webhook both race to move a job from Pending to Queued, and only the writer whose ETag still matches enqueues
its harvest. It also holds the poller's own cursor (watermark and reconcile position) in a separate partition.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode
from pydantic import BaseModel, ConfigDict

from shared.connections import StorageConnection
from shared.states import JobKind, JobRecord, LedgerState

_POLLER_PARTITION = "poller"
BY_KEYS = 14  # RowKeys per query: Azure Tables allows 15 comparisons in a filter, one is the PartitionKey
_RECORD_FIELDS = tuple(name for name in JobRecord.model_fields if name not in ("kind", "id", "etag"))


class ConcurrencyError(RuntimeError):
    """Another writer changed the row first; re-read and decide again."""


class PollerState(BaseModel):
    """Where the poller is: how far the incremental list has read, and where the two reconcile sweeps stand
    (the complete one under `reconcile_*`, the delta one under `delta_*`)."""

    model_config = ConfigDict(frozen=True)

    watermark: datetime | None = None
    reconcile_skip: int | None = None  # None: no complete sweep in progress
    reconcile_started: datetime | None = None
    reconcile_finished: datetime | None = None
    known_total: int = 0  # jobs the last complete sweep (or the backfill) listed
    delta_skip: int | None = None  # None: no delta sweep in progress
    delta_since: datetime | None = None  # the lastActionDateTime the delta sweep in progress lists from
    delta_mark: datetime | None = None  # the service's clock when the last delta sweep (or backfill) began
    delta_started: datetime | None = None
    delta_finished: datetime | None = None
    delta_total: int = 0  # jobs the last delta sweep listed
    housekeeping_at: datetime | None = None
    etag: str | None = None


def _to_entity(record: JobRecord) -> dict[str, Any]:
    entity: dict[str, Any] = {"PartitionKey": record.kind.value, "RowKey": record.id}
    for name in _RECORD_FIELDS:
        value = getattr(record, name)
        if value is None:
            continue
        entity[name] = value.value if isinstance(value, LedgerState) else value
    return entity


def _utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value


def _from_entity(entity: Any) -> JobRecord:
    data = {
        name: _utc(entity[name]) for name in _RECORD_FIELDS if name in entity and entity[name] is not None
    }
    return JobRecord(
        kind=JobKind(entity["PartitionKey"]),
        id=entity["RowKey"],
        etag=entity.metadata.get("etag"),
        **data,
    )


class Ledger:
    """Thin adapter over one table. Works the same on Azurite and on Azure Table storage."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    @classmethod
    def open(cls, connection: StorageConnection, table_name: str) -> Ledger:
        """The ledger table on the Functions storage account (key or identity), created if missing."""
        return cls(connection.table_service().create_table_if_not_exists(table_name))

    def get(self, kind: JobKind, job_id: str) -> JobRecord | None:
        try:
            return _from_entity(self._table.get_entity(kind.value, job_id))
        except ResourceNotFoundError:
            return None

    def save(self, record: JobRecord) -> JobRecord:
        """Insert a new row, or replace the row whose ETag we read; ConcurrencyError if someone was first."""
        etag = self._write(_to_entity(record), record.etag, f"{record.kind.value} {record.id}")
        return record.model_copy(update={"etag": etag})

    def query(
        self,
        kind: JobKind,
        states: Iterable[LedgerState] | None = None,
        *,
        first_seen_before: datetime | None = None,
        fields: Iterable[str] | None = None,
    ) -> Iterator[JobRecord]:
        """Rows of one kind, in these states, first seen at or before a time (filtered by the table).

        `fields` reads only those of each row (the table sends less, and less is decoded; the others are left at
        their defaults): for readers that look at many rows and never save one back, such as the gauges."""
        clauses = [f"PartitionKey eq '{kind.value}'"]
        chosen = list(states or [])
        if chosen:
            clauses.append("(" + " or ".join(f"state eq '{s.value}'" for s in chosen) + ")")
        parameters: dict[str, Any] = {}
        if first_seen_before is not None:
            clauses.append("first_seen le @before")
            parameters["before"] = first_seen_before
        select = (
            ["PartitionKey", "RowKey", "state", "service_status", "first_seen", *fields] if fields else None
        )
        for entity in self._table.query_entities(
            " and ".join(clauses), parameters=parameters or None, select=select
        ):
            yield _from_entity(entity)

    def get_many(self, kind: JobKind, job_ids: Iterable[str]) -> dict[str, JobRecord]:
        """The rows of these jobs that exist, by id: only the rows asked for, a few queries for a page of 100
        (a filter may hold at most 15 comparisons, so RowKeys go BY_KEYS at a time), never the whole ledger."""
        wanted = sorted(set(job_ids))
        found: dict[str, JobRecord] = {}
        for start in range(0, len(wanted), BY_KEYS):
            chunk = wanted[start : start + BY_KEYS]
            names = {f"k{index}": job_id for index, job_id in enumerate(chunk)}
            keys = " or ".join(f"RowKey eq @{name}" for name in names)
            query = f"PartitionKey eq @kind and ( {keys} )"  # the SDK reads @names up to a space
            for entity in self._table.query_entities(query, parameters={"kind": kind.value, **names}):
                record = _from_entity(entity)
                found[record.id] = record
        return found

    def owing_events(self, kind: JobKind) -> Iterator[JobRecord]:
        """Harvested jobs whose transcript-ready event is not yet published."""
        query = f"PartitionKey eq '{kind.value}' and state eq '{LedgerState.HARVESTED.value}' and event_owed eq true"
        for entity in self._table.query_entities(query):
            yield _from_entity(entity)

    def tracked_ids(self, kind: JobKind) -> set[str]:
        query = f"PartitionKey eq '{kind.value}' and tracked eq true"
        return {e["RowKey"] for e in self._table.query_entities(query, select=["RowKey"])}

    def counts(self) -> dict[str, dict[str, int]]:
        """Counts per kind and state, for the status endpoint."""
        counter: Counter[tuple[str, str]] = Counter()
        for entity in self._table.query_entities(
            f"PartitionKey ne '{_POLLER_PARTITION}'", select=["PartitionKey", "state"]
        ):
            counter[(entity["PartitionKey"], entity["state"])] += 1
        result: dict[str, dict[str, int]] = {}
        for (kind, state), count in sorted(counter.items()):
            result.setdefault(kind, {})[state] = count
        return result

    def poller_state(self, name: str) -> PollerState:
        try:
            entity = self._table.get_entity(_POLLER_PARTITION, name)
        except ResourceNotFoundError:
            return PollerState()
        data = {
            k: _utc(entity[k]) for k in PollerState.model_fields if k != "etag" and entity.get(k) is not None
        }
        return PollerState(etag=entity.metadata.get("etag"), **data)

    def save_poller_state(self, name: str, state: PollerState) -> PollerState:
        entity: dict[str, Any] = {"PartitionKey": _POLLER_PARTITION, "RowKey": name}
        entity.update({k: v for k, v in state.model_dump(exclude={"etag"}).items() if v is not None})
        etag = self._write(entity, state.etag, f"poller state {name}")
        return state.model_copy(update={"etag": etag})

    def _write(self, entity: dict[str, Any], etag: str | None, what: str) -> str | None:
        """Insert (no ETag yet) or replace only if unchanged since read; ConcurrencyError when someone won."""
        try:
            if etag is None:
                meta = self._table.create_entity(entity)
            else:
                meta = self._table.update_entity(
                    entity, mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
                )
        except (ResourceExistsError, ResourceModifiedError) as error:
            raise ConcurrencyError(f"{what} changed concurrently") from error
        return meta.get("etag")
