"""Blob triggers with source=EventGrid under the local host: BlobCreated events in the Event Grid schema,
once per new blob, filtered by the trigger's path, delivered to the blobs webhook (tests/host/apps/blob_app)."""

import uuid
from contextlib import suppress
from datetime import UTC, datetime

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobProperties, ContainerClient, ContentSettings

from local.host.blob_paths import BlobPathError, parse_blob_path
from local.host.eventgrid import blob_created, blob_location
from tests.fixtures.waiting import wait_for


@pytest.fixture
def watched(storage_connection_string, monkeypatch):
    name = f"watched-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("WATCHED_CONTAINER", name)
    monkeypatch.setenv("WatchedStorage", storage_connection_string)
    monkeypatch.setenv("AzureWebJobsStorage", storage_connection_string)
    container = ContainerClient.from_connection_string(storage_connection_string, name)
    yield container
    with suppress(ResourceNotFoundError):
        container.delete_container()


def test_paths_match_like_the_trigger_and_give_the_subscription_filter():
    path = parse_blob_path("dest/speech/transcriptions/{id}/manifest.json")
    assert path.container == "dest"
    assert path.literal_prefix == "speech/transcriptions/"
    assert path.literal_suffix == "/manifest.json"
    assert path.match("speech/transcriptions/abc/manifest.json") == {"id": "abc"}
    assert path.match("speech/transcriptions/abc/raw/x.json") is None
    assert path.match("speech/transcriptions/abc/manifest.json.bak") is None
    assert parse_blob_path("c12/{name}").match("a/b.txt") == {"name": "a/b.txt"}
    with pytest.raises(BlobPathError):
        parse_blob_path("Bad_Container/{name}")
    with pytest.raises(BlobPathError):
        parse_blob_path("dest/{a}/{a}")


def test_blob_location_in_path_style_and_host_style_accounts():
    azurite = "http://127.0.0.1:10000/devstoreaccount1"
    assert blob_location(f"{azurite}/dest/a/b%20c.json", azurite) == ("dest", "a/b c.json")
    azure = "https://acct.blob.core.windows.net/"
    assert blob_location("https://acct.blob.core.windows.net/dest/x.json", azure) == ("dest", "x.json")
    assert blob_location("https://other.blob.core.windows.net/dest/x.json", azure) is None


def test_each_new_matching_blob_triggers_once(in_process_host, watched, outbox):
    watched.create_container()
    watched.upload_blob("jobs/old/manifest.json", b"before the subscription")
    with in_process_host("blob_app"):
        watched.upload_blob("jobs/1/manifest.json", b"one")
        watched.upload_blob("jobs/1/transcript/a.txt", b"not a manifest")
        watched.upload_blob("other/2/manifest.json", b"outside the path")
        watched.upload_blob("jobs/3/manifest.json", b"three")
        wait_for(lambda: len(outbox.events("blob")) >= 2, what="two invocations")
        # Events for the other blobs, if any were (wrongly) sent, would have arrived with these.
        watched.upload_blob("jobs/4/manifest.json", b"four")
        wait_for(lambda: len(outbox.events("blob")) >= 3, what="the third invocation")
    names = sorted(e["name"] for e in outbox.events("blob"))
    container = watched.container_name
    assert names == [f"{container}/jobs/{n}/manifest.json" for n in ("1", "3", "4")]
    [one] = [e for e in outbox.events("blob") if e["name"].endswith("/1/manifest.json")]
    assert one["content"] == "one"
    assert one["length"] == 3
    assert one["uri"].endswith(f"/{container}/jobs/1/manifest.json")


def test_a_failed_invocation_is_delivered_again(in_process_host, watched, outbox):
    watched.create_container()
    with in_process_host("blob_app"):
        watched.upload_blob("jobs/f/manifest.json", b"fail-once")
        wait_for(lambda: len(outbox.events("blob")) >= 2, what="the redelivery")
    assert [e["content"] for e in outbox.events("blob")] == ["fail-once", "fail-once"]


def test_a_container_created_after_the_host_started_is_watched(in_process_host, watched, outbox):
    with in_process_host("blob_app"):
        watched.create_container()
        watched.upload_blob("jobs/n/manifest.json", b"new")
        wait_for(lambda: outbox.events("blob"), what="the invocation")


def test_the_webhook_speaks_the_event_grid_protocol(in_process_host, watched, outbox):
    watched.create_container()
    with in_process_host("blob_app") as host:
        url = f"{host.base_url}/runtime/webhooks/blobs"
        params = {"functionName": "Host.Functions.on_manifest", "code": host.function_key}
        validation = [
            {
                "id": "1",
                "topic": "t",
                "subject": "s",
                "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                "eventTime": "2026-11-21T10:00:00Z",
                "data": {"validationCode": "abc-123"},
            }
        ]
        answer = requests.post(
            url,
            params=params,
            json=validation,
            headers={"aeg-event-type": "SubscriptionValidation"},
            timeout=10,
        )
        assert answer.status_code == 200
        assert answer.json() == {"validationResponse": "abc-123"}
        unkeyed = requests.post(
            url, params={"functionName": params["functionName"]}, json=[], timeout=10,
            headers={"aeg-event-type": "Notification"},
        )  # fmt: skip
        assert unkeyed.status_code == 401
        unknown = requests.post(
            url, params={**params, "functionName": "Host.Functions.nope"}, json=[], timeout=10,
            headers={"aeg-event-type": "Notification"},
        )  # fmt: skip
        assert unknown.status_code == 404
        garbage = requests.post(
            url, params=params, data=b"{not json", headers={"aeg-event-type": "Notification"}, timeout=10
        )
        assert garbage.status_code == 400
    assert outbox.events() == []


def test_blob_created_events_have_the_event_grid_schema():
    blob = BlobProperties(name="speech/transcriptions/j/manifest.json")
    blob.etag = '"0x8DC0FFEE"'
    blob.size = 123
    blob.last_modified = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    blob.content_settings = ContentSettings(content_type="application/json")
    url = "http://127.0.0.1:10000/devstoreaccount1/dest/speech/transcriptions/j/manifest.json"
    wire = blob_created("devstoreaccount1", "dest", blob, url, 7).model_dump(mode="json", by_alias=True)
    assert wire["eventType"] == "Microsoft.Storage.BlobCreated"
    assert (
        wire["subject"] == "/blobServices/default/containers/dest/blobs/speech/transcriptions/j/manifest.json"
    )
    assert wire["topic"].endswith("/providers/Microsoft.Storage/storageAccounts/devstoreaccount1")
    assert wire["eventTime"] == "2026-11-21T10:00:00Z"
    assert (wire["dataVersion"], wire["metadataVersion"]) == ("", "1")
    data = wire["data"]
    assert data["api"] == "PutBlockList"
    assert data["blobType"] == "BlockBlob"
    assert (data["eTag"], data["contentLength"], data["contentType"], data["url"]) == (
        "0x8DC0FFEE",
        123,
        "application/json",
        url,
    )
    assert len(data["sequencer"]) == 32
    uuid.UUID(wire["id"])
