import uuid
from datetime import UTC, datetime, timedelta

from shared.connections import StorageConnection
from shared.ledger import Ledger
from shared.states import JobKind, Observation, harvest_finished, observe, track
from shared.status import status_report

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_counts_per_state_and_the_oldest_open_job(storage_connection_string):
    ledger = Ledger.open(
        StorageConnection.from_string(storage_connection_string), f"status{uuid.uuid4().hex[:10]}"
    )

    def seen(status, created):
        obs = Observation(id=str(uuid.uuid4()), service_status=status, created=created, last_action=created)
        return observe(None, obs, NOW, source="poll").record

    oldest = ledger.save(seen("Running", NOW - timedelta(hours=3)))
    ledger.save(seen("NotStarted", NOW - timedelta(hours=1)))
    ledger.save(seen("Succeeded", NOW - timedelta(hours=2)))
    old = seen("Succeeded", NOW - timedelta(days=2))
    ledger.save(harvest_finished(old, NOW, "m.json", "Succeeded", kind=old.kind, job_id=old.id).record)
    ledger.save(track(None, JobKind.CONVERSATION, "meeting-1", NOW - timedelta(minutes=5), source="track"))

    report = status_report(ledger, NOW)
    assert report.counts == {
        "conversation": {"Pending": 1},
        "transcription": {"Harvested": 1, "Pending": 2, "Queued": 1},
    }
    assert report.oldest_open.id == oldest.id
    assert report.oldest_open.state == "Pending"
    assert report.oldest_open.age_seconds == 3 * 3600
    body = report.model_dump(by_alias=True)
    assert body["oldestOpen"]["serviceStatus"] == "Running"
