"""The example consumer (examples/consumer) under its own local host, next to the harvester's: every
harvested job is indexed once from its manifest's Event Grid BlobCreated event and once from its
transcript-ready event on NOTIFY_QUEUE, and no other blob triggers it."""

import re
import uuid

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient
from azure.storage.blob import BlobServiceClient

from examples.consumer.transcript_index.storage import (
    ContainerBlobs,
    TableRows,
    container_client,
    table_client,
)
from local.identity_endpoint import STORAGE_AUDIENCE
from local.identity_stack import USER_ASSIGNED_CLIENT_ID, identity_stack
from tests.fixtures.host import REPO_ROOT
from tests.fixtures.stack import stack_env
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.e2e
CONSUMER = REPO_ROOT / "examples" / "consumer"
PREFIX = "speech/"


def rows(table: TableClient) -> dict[str, dict]:
    try:
        return {row["RowKey"]: dict(row) for row in table.list_entities()}
    except ResourceNotFoundError:
        return {}


def invoked_blobs(logs: str) -> list[str]:
    """The blobs the consumer's blob trigger ran for, from the host's trigger details."""
    return re.findall(r"EventGrid notification for blob '([^']+)'", logs)


def test_consumer_indexes_each_harvested_job_once_per_trigger(azurite, fresh_emulator, run_host, make_stack):
    suffix = uuid.uuid4().hex[:8]
    env = stack_env(
        azurite,
        fresh_emulator,
        "2024-11-15",
        POLL_SCHEDULE="* * * * * *",
        DESTINATION_PREFIX=PREFIX,
        NOTIFY_QUEUE=f"events-{suffix}",
        CHANNEL_LABELS="Agent,Customer",
    )
    stack = make_stack(**{k: v for k, v in env.items() if k != "SPEECH_ENDPOINT"})
    consumer_env = {
        "AzureWebJobsStorage": azurite.connection_string,
        "TranscriptsStorage": azurite.connection_string,
        "TRANSCRIPTS_CONTAINER": env["DESTINATION_CONTAINER"],
        "TRANSCRIPTS_PREFIX": PREFIX,
        "NotifyStorage": azurite.connection_string,
        "NOTIFY_QUEUE": env["NOTIFY_QUEUE"],
        "INDEX_TABLE": f"index{suffix}",
    }
    table = TableClient.from_connection_string(azurite.connection_string, consumer_env["INDEX_TABLE"])
    container = env["DESTINATION_CONTAINER"]

    with run_host(CONSUMER, consumer_env) as consumer, run_host(REPO_ROOT, env) as harvester:

        def explain() -> str:
            return (
                f"index rows: {sorted(rows(table))}\nharvester log tail:\n{harvester.logs()[-3000:]}\n"
                f"consumer log tail:\n{consumer.logs()[-3000:]}"
            )

        ok = stack.submit(["call-0042-stereo.wav?phrases=6"], display_name="stereo call")
        failed = stack.submit(["broken-fail.wav"], display_name="broken")
        indexed = wait_for(
            lambda: (
                (found := rows(table)).keys() >= {ok, failed}
                and all(r.get("eventId") for r in found.values())
                and found
            ),
            timeout=90,
            what="both jobs indexed from the queue",
            explain=explain,
        )
        # A job harvested after the first two: any duplicate delivery for them would come before its own.
        last = stack.submit(["later.wav"], display_name="later")
        wait_for(
            lambda: rows(table).get(last, {}).get("eventId"),
            timeout=60,
            what="the third job indexed",
            explain=explain,
        )
        wait_for(
            lambda: len(invoked_blobs(consumer.logs())) >= 3,
            timeout=30,
            what="three blob trigger invocations",
            explain=explain,
        )
        found = requests.get(
            f"{consumer.base_url}/api/transcripts",
            params={"q": "stereo", "code": consumer.function_key},
            timeout=10,
        )
        logs = consumer.logs()

    manifests = sorted(f"{container}/{PREFIX}transcriptions/{j}/manifest.json" for j in (ok, failed, last))
    assert sorted(invoked_blobs(logs)) == manifests  # once per manifest, never for another blob
    assert logs.count("Executing 'Functions.on_transcript_event'") == 3  # one event per job
    assert "duplicate event" not in logs
    assert "Executed 'Functions.on_manifest' (Failed" not in logs
    assert "Executed 'Functions.on_transcript_event' (Failed" not in logs

    row = indexed[ok]
    assert row["status"] == "Succeeded"
    assert row["displayName"] == "stereo call"
    assert row["speakers"] == "Agent, Customer"
    assert row["firstWords"]
    assert row["durationSeconds"] > 0
    assert row["manifestUrl"].endswith(f"/{container}/{PREFIX}transcriptions/{ok}/manifest.json")
    assert row["transcriptUrls"].endswith(".txt")
    assert indexed[failed]["status"] == "Failed"
    assert indexed[failed]["error"]
    assert [r["RowKey"] for r in found.json()] == [ok]


def test_the_consumer_reads_and_writes_as_the_identity_its_connections_name(monkeypatch):
    """`<name>__credential=managedidentity` with `<name>__clientId`, as the Bicep sets them: the consumer's own
    clients (the manifest reader, the index table) use that user-assigned identity, as the host's triggers do.
    The platform knows no other identity, so a token for any other would be refused."""
    with identity_stack() as platform:
        settings = {
            **platform.storage_settings("TranscriptsStorage"),
            **platform.storage_settings("AzureWebJobsStorage"),
            **platform.platform_settings(),
        }
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        for name in (
            "AzureWebJobsStorage",
            "TranscriptsStorage",
            "AzureWebJobsTranscriptsStorage",
            "AZURE_CLIENT_ID",
        ):
            monkeypatch.delenv(name, raising=False)
        observer = BlobServiceClient(platform.app_blob_endpoint, credential=platform.app_account_credential)
        observer.create_container("transcripts").upload_blob("m/manifest.json", b'{"id": "j1"}')

        blobs = ContainerBlobs(container_client("TranscriptsStorage", "transcripts"))
        assert blobs.read("m/manifest.json") == b'{"id": "j1"}'
        index = TableRows(table_client("AzureWebJobsStorage", "transcriptindex"))
        index.upsert({"PartitionKey": "transcription", "RowKey": "j1", "displayName": "call"})
        assert index.get("transcription", "j1")["displayName"] == "call"

        assert {(i.resource.rstrip("/"), i.client_id) for i in platform.identity.issued} == {
            (STORAGE_AUDIENCE, USER_ASSIGNED_CLIENT_ID)
        }
