"""The publisher over real HTTP: a Storage queue on Azurite (with a connection string, or with a managed
identity through Azurite's OAuth over HTTPS) and an Event Grid topic endpoint reached by the azure-eventgrid
SDK with a managed-identity token from azure-identity."""

import base64
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from azure.identity import ManagedIdentityCredential
from azure.storage.blob import ContainerClient
from azure.storage.queue import QueueClient, QueueServiceClient

from local.identity_endpoint import STORAGE_AUDIENCE, Issued
from local.identity_stack import USER_ASSIGNED_CLIENT_ID, IdentityStack, identity_stack
from local.speech_emulator.tokens import check_token
from shared.connections import StorageConnection, identity_credential
from shared.destination import Destination
from shared.events import TranscriptEvent
from shared.ledger import Ledger
from shared.manifest import Manifest
from shared.notify import EventGridTarget, Notifier, QueueTarget, targets_from_settings
from shared.settings import load_settings
from shared.states import JobKind, JobRecord, LedgerState, harvest_finished

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
EVENTGRID_AUDIENCE = "https://eventgrid.azure.net"


@pytest.fixture
def parts(storage_connection_string):
    suffix = uuid.uuid4().hex[:10]
    container = ContainerClient.from_connection_string(storage_connection_string, f"notify-{suffix}")
    container.create_container()
    ledger = Ledger.open(StorageConnection.from_string(storage_connection_string), f"ledger{suffix}")
    queue = QueueClient.from_connection_string(storage_connection_string, f"notify-{suffix}")
    queue.create_queue()
    yield ledger, Destination(container), queue
    container.delete_container()


def harvested(ledger: Ledger, destination: Destination, *, status="Succeeded") -> JobRecord:
    job_id = str(uuid.uuid4())
    path = f"transcriptions/{job_id}/manifest.json"
    manifest = Manifest(kind="transcription", id=job_id, status=status, harvested_at=NOW)
    destination.write_bytes(path, manifest.to_json(), content_type="application/json")
    record = JobRecord(
        kind=JobKind.TRANSCRIPTION, id=job_id, state=LedgerState.QUEUED, service_status=status, first_seen=NOW
    )
    done = harvest_finished(record, NOW, path, status, kind=record.kind, job_id=job_id, owe_event=True).record
    return ledger.save(done)


def queued_events(queue: QueueClient) -> list[TranscriptEvent]:
    return [
        TranscriptEvent.model_validate_json(base64.b64decode(m.content))
        for m in queue.peek_messages(max_messages=32)
    ]


def test_queue_target_publishes_base64_cloudevent_and_clears_the_flag(parts, storage_connection_string):
    ledger, destination, queue = parts
    record = harvested(ledger, destination)
    target = QueueTarget.in_connection(
        StorageConnection.from_string(storage_connection_string), queue.queue_name
    )
    notifier = Notifier(ledger, destination, [target])

    assert notifier.publish_owed(record)

    [event] = queued_events(queue)
    assert event.data.id == record.id
    assert event.subject == record.manifest_blob
    assert event.data.manifest_url == destination.url(record.manifest_blob or "")
    stored = ledger.get(JobKind.TRANSCRIPTION, record.id)
    assert stored is not None
    assert stored.event_owed is False
    assert notifier.publish_all_owed(datetime.now(UTC)) == 0  # nothing owed any more
    assert len(queued_events(queue)) == 1


def test_eventgrid_target_sends_cloudevents_with_a_managed_identity_token(
    parts, eventgrid_topic, managed_identity, monkeypatch
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(eventgrid_topic.ca_file))
    ledger, destination, _ = parts
    record = harvested(ledger, destination, status="Failed")
    target = EventGridTarget(eventgrid_topic.endpoint, ManagedIdentityCredential())

    assert Notifier(ledger, destination, [target]).publish_owed(record)

    [request] = eventgrid_topic.requests
    scheme, token = request.headers["authorization"].split(" ", 1)
    assert scheme == "Bearer"
    check_token(token, audience=EVENTGRID_AUDIENCE, public_key_pem=managed_identity.public_key_pem)
    assert managed_identity.issued == [Issued(EVENTGRID_AUDIENCE, None)]  # one token, system-assigned
    assert request.headers["content-type"].startswith("application/cloudevents-batch+json")
    [wire] = request.body
    assert wire["type"] == "SpeechHarvester.TranscriptionFailed"
    assert wire["subject"] == record.manifest_blob
    assert wire["data"]["id"] == record.id
    assert wire["data"]["manifestUrl"].endswith(f"/{record.manifest_blob}")
    assert wire["datacontenttype"] == "application/json"


def test_a_failed_publish_keeps_the_event_owed_and_the_catch_up_sends_the_same_id(
    parts, eventgrid_topic, managed_identity, monkeypatch
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(eventgrid_topic.ca_file))
    ledger, destination, _ = parts
    record = harvested(ledger, destination)
    notifier = Notifier(
        ledger, destination, [EventGridTarget(eventgrid_topic.endpoint, ManagedIdentityCredential())]
    )
    eventgrid_topic.fail_next(1, 403)  # e.g. the identity lacks EventGrid Data Sender

    assert not notifier.publish_owed(record)
    stored = ledger.get(JobKind.TRANSCRIPTION, record.id)
    assert stored is not None
    assert stored.event_owed is True

    assert notifier.publish_all_owed(NOW + timedelta(seconds=59)) == 0  # the harvester's to publish, still
    assert notifier.publish_all_owed(NOW + timedelta(minutes=1)) == 1
    ids = [r.body[0]["id"] for r in eventgrid_topic.requests]
    assert len(ids) == 2
    assert ids[0] == ids[1]
    assert ledger.get(JobKind.TRANSCRIPTION, record.id).event_owed is False


def test_an_event_without_its_manifest_stays_owed(parts, storage_connection_string):
    ledger, destination, queue = parts
    record = harvested(ledger, destination)
    destination.container.delete_blob(record.manifest_blob)
    target = QueueTarget.in_connection(
        StorageConnection.from_string(storage_connection_string), queue.queue_name
    )

    assert not Notifier(ledger, destination, [target]).publish_owed(record)
    assert ledger.get(JobKind.TRANSCRIPTION, record.id).event_owed is True
    assert queued_events(queue) == []


@pytest.fixture(scope="module")
def identity_platform() -> Iterator[IdentityStack]:
    """Azurite with OAuth over HTTPS and a managed-identity endpoint; azure-identity's credentials are cached
    per process, so none made against another endpoint is reused, nor this one's kept."""
    identity_credential.cache_clear()
    with identity_stack() as stack:
        yield stack
    identity_credential.cache_clear()


def test_the_notify_queue_is_reached_with_its_own_managed_identity_connection(
    parts, identity_platform, storage_connection_string, monkeypatch
):
    ledger, destination, _ = parts
    for name, value in identity_platform.platform_settings().items():
        monkeypatch.setenv(name, value)
    identity = identity_platform.storage_settings("NOTIFY_CONNECTION")
    queue = f"events-{uuid.uuid4().hex[:8]}"
    settings = load_settings(
        {
            "SPEECH_ENDPOINT": "https://my-speech.cognitiveservices.azure.com",
            "AzureWebJobsStorage": storage_connection_string,  # another account, by connection string
            "DESTINATION_CONTAINER_URL": destination.container.url,
            "NOTIFY_QUEUE": queue,
            # the queue service alone, as for an account that only holds the notify queue
            **{
                k: v for k, v in identity.items() if not k.endswith(("__blobServiceUri", "__tableServiceUri"))
            },
        }
    )
    identity_platform.identity.issued.clear()
    record = harvested(ledger, destination)

    assert Notifier(ledger, destination, targets_from_settings(settings)).publish_owed(record)

    assert settings.notify_connection is not None
    # read back over OAuth too: the same account
    [event] = queued_events(settings.notify_connection.queue(queue))
    assert event.data.id == record.id
    assert set(identity_platform.identity.issued) == {Issued(STORAGE_AUDIENCE, USER_ASSIGNED_CLIENT_ID)}
    host_account = QueueServiceClient.from_connection_string(storage_connection_string)
    assert queue not in {q.name for q in host_account.list_queues()}  # not in AzureWebJobsStorage
