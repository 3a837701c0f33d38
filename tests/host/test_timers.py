"""Timer trigger start-up behaviour against real Azurite (tests/host/apps/timer_app, host in-process):
schedule monitoring in azure-webjobs-hosts, isPastDue, runOnStartup and disabled functions."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobServiceClient

from local.host.schedule_monitor import ScheduleStatus
from tests.fixtures.waiting import wait_for


@pytest.fixture
def timer_env(storage_connection_string, monkeypatch, outbox):
    host_id = f"test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("AzureWebJobsStorage", storage_connection_string)
    monkeypatch.setenv("AzureFunctionsWebHost__hostid", host_id)
    monkeypatch.setenv("HOURLY_SCHEDULE", "0 0 * * * *")
    container = BlobServiceClient.from_connection_string(storage_connection_string).get_container_client(
        "azure-webjobs-hosts"
    )
    return host_id, container


def status_blob(container, host_id, function):
    return container.get_blob_client(f"timers/{host_id}/Host.Functions.{function}/status")


def read_status(blob):
    try:
        return ScheduleStatus.model_validate_json(blob.download_blob().readall())
    except ResourceNotFoundError:
        return None


def test_missed_occurrence_fires_once_with_is_past_due(in_process_host, timer_env, outbox, monkeypatch):
    host_id, container = timer_env
    monkeypatch.setenv("AzureWebJobs.at_startup.Disabled", "true")
    last = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    missed = last + timedelta(hours=1)
    blob = status_blob(container, host_id, "hourly")
    if not container.exists():
        container.create_container()
    blob.upload_blob(
        f'{{"Last":"{last.isoformat()}","Next":"{missed.isoformat()}","LastUpdated":"{last.isoformat()}"}}',
        overwrite=True,
    )
    started = datetime.now(UTC)
    with in_process_host("timer_app") as host:
        assert host.functions == ("hourly",)
        assert host.disabled_functions == ("at_startup",)
        [event] = wait_for(lambda: outbox.events("hourly"), what="the past-due run")
        status = wait_for(lambda: (s := read_status(blob)) and s.last >= started and s, what="updated status")
    assert event["past_due"] is True
    assert datetime.fromisoformat(event["status"]["Next"]) == missed
    assert status.next == status.last.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert outbox.events("at_startup") == []  # disabled: never ran


def test_run_on_startup_fires_once_and_a_new_timer_records_its_first_status(
    in_process_host, timer_env, outbox
):
    host_id, container = timer_env
    started = datetime.now(UTC)
    with in_process_host("timer_app") as host:
        assert host.functions == ("hourly", "at_startup")
        [event] = wait_for(lambda: outbox.events("at_startup"), what="the startup run")
    assert event["past_due"] is False
    assert outbox.events("hourly") == []  # nothing stored yet, so nothing was missed
    status = read_status(status_blob(container, host_id, "hourly"))
    assert status is not None
    assert status.next > started
    assert status.last.year == 1  # never ran
    assert read_status(status_blob(container, host_id, "at_startup")) is None  # useMonitor=False
