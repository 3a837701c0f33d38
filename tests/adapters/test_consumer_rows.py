"""The example consumer's index rows in Azure Tables (Azurite): both triggers index a job, in either order."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from examples.consumer.transcript_index.index import Indexer
from examples.consumer.transcript_index.storage import ContainerBlobs, TableRows

MANIFEST = "speech/transcriptions/j1/manifest.json"


@pytest.fixture
def indexer(storage_connection_string):
    suffix = uuid.uuid4().hex[:12]
    container = BlobServiceClient.from_connection_string(storage_connection_string).get_container_client(
        f"index{suffix}"
    )
    container.create_container()
    body = {
        "kind": "transcription",
        "id": "j1",
        "status": "Failed",
        "harvestedAt": datetime.now(UTC).isoformat(),
    }
    container.upload_blob(MANIFEST, json.dumps(body).encode())
    table = TableServiceClient.from_connection_string(storage_connection_string).create_table(
        f"index{suffix}"
    )
    return Indexer(ContainerBlobs(container), TableRows(table))


def test_the_blob_trigger_after_the_queue_keeps_the_event_id(indexer):
    # The event is published moments after the manifest is written, so the queue trigger may index first.
    indexer.index_manifest(indexer.blobs.read(MANIFEST), MANIFEST, via="queue", event_id="e1")
    indexer.index_manifest(indexer.blobs.read(MANIFEST), MANIFEST, via="blob")
    row = indexer.rows.get("transcription", "j1")
    assert (row["eventId"], row["indexedVia"]) == ("e1", "blob")


def test_the_queue_after_the_blob_trigger_records_the_event_id(indexer):
    indexer.index_manifest(indexer.blobs.read(MANIFEST), MANIFEST, via="blob")
    assert "eventId" not in indexer.rows.get("transcription", "j1")
    indexer.index_manifest(indexer.blobs.read(MANIFEST), MANIFEST, via="queue", event_id="e1")
    assert indexer.rows.get("transcription", "j1")["eventId"] == "e1"
