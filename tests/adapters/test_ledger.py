import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.connections import StorageConnection
from shared.ledger import ConcurrencyError, Ledger, PollerState
from shared.states import JobKind, LedgerState, Observation, observe

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture
def ledger(storage_connection_string):
    return Ledger.open(
        StorageConnection.from_string(storage_connection_string), f"ledger{uuid.uuid4().hex[:12]}"
    )


def new_record(status="Running"):
    seen = Observation(
        id=str(uuid.uuid4()), service_status=status, created=NOW, last_action=NOW, locale="en-US"
    )
    return observe(None, seen, NOW, source="poll").record


def test_insert_read_round_trip(ledger):
    saved = ledger.save(new_record())
    assert saved.etag
    loaded = ledger.get(JobKind.TRANSCRIPTION, saved.id)
    assert loaded == saved
    assert loaded.created == NOW


def test_second_insert_of_same_job_conflicts(ledger):
    record = new_record()
    ledger.save(record)
    with pytest.raises(ConcurrencyError):
        ledger.save(record)


def test_stale_etag_loses(ledger):
    saved = ledger.save(new_record())
    first = ledger.save(saved.model_copy(update={"state": LedgerState.QUEUED}))
    with pytest.raises(ConcurrencyError):
        ledger.save(saved.model_copy(update={"state": LedgerState.HARVESTED}))
    assert ledger.get(JobKind.TRANSCRIPTION, saved.id).state is LedgerState.QUEUED
    assert first.etag != saved.etag


def test_none_fields_are_removed_on_replace(ledger):
    saved = ledger.save(new_record().model_copy(update={"detail": "boom"}))
    cleared = ledger.save(saved.model_copy(update={"detail": None}))
    assert ledger.get(JobKind.TRANSCRIPTION, cleared.id).detail is None


def test_query_by_state_and_counts(ledger):
    for _ in range(3):
        ledger.save(new_record("Running"))
    for _ in range(2):
        ledger.save(new_record("Succeeded"))
    pending = list(ledger.query(JobKind.TRANSCRIPTION, [LedgerState.PENDING]))
    assert len(pending) == 3
    assert ledger.counts() == {"transcription": {"Pending": 3, "Queued": 2}}


def test_query_can_read_only_some_columns_of_each_row(ledger):
    saved = ledger.save(new_record("Succeeded").model_copy(update={"ttl_hours": 48, "detail": "kept"}))

    [whole] = ledger.query(JobKind.TRANSCRIPTION, [LedgerState.QUEUED])
    [some] = ledger.query(JobKind.TRANSCRIPTION, [LedgerState.QUEUED], fields=("ttl_hours",))

    assert whole.detail == "kept"
    assert whole.locale == "en-US"
    assert (some.id, some.state, some.service_status, some.first_seen) == (
        saved.id,
        LedgerState.QUEUED,
        "Succeeded",
        NOW,
    )
    assert some.ttl_hours == 48
    assert (some.detail, some.locale, some.created) == (None, None, None)  # not read


def test_poller_state_is_versioned(ledger):
    state = ledger.poller_state("transcriptions")
    assert state.watermark is None
    saved = ledger.save_poller_state("transcriptions", PollerState(watermark=NOW, reconcile_skip=0))
    loaded = ledger.poller_state("transcriptions")
    assert loaded.watermark == NOW
    assert loaded.reconcile_skip == 0
    ledger.save_poller_state("transcriptions", saved.model_copy(update={"reconcile_skip": 100}))
    with pytest.raises(ConcurrencyError):
        ledger.save_poller_state("transcriptions", saved)


def test_get_many_reads_only_the_rows_asked_for_in_chunks(ledger):
    saved = [ledger.save(new_record()) for _ in range(30)]
    absent = str(uuid.uuid4())
    asked = [r.id for r in saved[:20]] + [absent]
    found = ledger.get_many(JobKind.TRANSCRIPTION, asked)
    assert set(found) == {
        r.id for r in saved[:20]
    }  # more than one query's worth of keys; the absent one is not there
    assert found[saved[0].id] == saved[0]
    assert ledger.get_many(JobKind.TRANSCRIPTION, []) == {}


def test_query_reads_only_rows_first_seen_before_a_time(ledger):
    old = ledger.save(new_record().model_copy(update={"first_seen": NOW - timedelta(hours=1)}))
    ledger.save(new_record())
    rows = list(ledger.query(JobKind.TRANSCRIPTION, first_seen_before=NOW - timedelta(minutes=1)))
    assert [r.id for r in rows] == [old.id]
