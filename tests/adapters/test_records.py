"""The one write rule (shared.records.decide_and_save) over a real ledger table on Azurite."""

import uuid
from datetime import UTC, datetime

import pytest

from shared.connections import StorageConnection
from shared.ledger import ConcurrencyError, Ledger
from shared.records import ATTEMPTS, decide_and_save
from shared.states import JobKind, LedgerState, Observation, harvest_finished, harvest_started, observe

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture
def ledger(storage_connection_string):
    return Ledger.open(
        StorageConnection.from_string(storage_connection_string), f"ledger{uuid.uuid4().hex[:12]}"
    )


def queued(ledger):
    seen = Observation(id=str(uuid.uuid4()), service_status="Succeeded", last_action=NOW)
    return ledger.save(observe(None, seen, NOW, source="poll").record)


def test_a_conflict_is_decided_again_on_the_fresh_row(ledger):
    stale = queued(ledger)
    # Meanwhile another harvest of the same job finished it: the row changed under the stale copy.
    done = harvest_finished(stale, NOW, "m.json", "Succeeded", kind=stale.kind, job_id=stale.id).record
    ledger.save(done)
    seen_by_decide = []

    def decide(record):
        seen_by_decide.append(record.state)
        return harvest_started(record, NOW, kind=record.kind, job_id=record.id)

    saved = decide_and_save(ledger, JobKind.TRANSCRIPTION, stale.id, decide, NOW, first=stale)
    # The stale copy said "start"; the write lost on its ETag; the fresh row says "already harvested".
    assert seen_by_decide == [LedgerState.QUEUED, LedgerState.HARVESTED]
    assert not saved.changed
    assert ledger.get(JobKind.TRANSCRIPTION, stale.id).state is LedgerState.HARVESTED


def test_a_row_that_keeps_changing_gives_up_after_a_bounded_number_of_attempts(ledger):
    record = queued(ledger)
    attempts = []

    def decide(current):
        attempts.append(current)
        ledger.save(
            current.model_copy(update={"enqueue_count": current.enqueue_count + 1})
        )  # another writer wins
        return harvest_started(current, NOW, kind=current.kind, job_id=current.id)

    with pytest.raises(ConcurrencyError, match="kept changing"):
        decide_and_save(ledger, JobKind.TRANSCRIPTION, record.id, decide, NOW)
    assert len(attempts) == ATTEMPTS
    assert ledger.get(JobKind.TRANSCRIPTION, record.id).state is LedgerState.QUEUED
