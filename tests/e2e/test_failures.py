"""The three failure classes (shared.failures) as the queue handler acts on them, for both job kinds, over
Azurite and the Speech emulator: transient is retried, permanent is poisoned at once with its reason, gone
marks the job Missing and is never retried."""

import dataclasses
import json
import uuid
from urllib.parse import urlsplit

import pytest
from azure.core.credentials import AzureNamedKeyCredential
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import BinaryBase64DecodePolicy, QueueClient

from local.azurite import ACCOUNT_NAME
from shared import runtime
from shared.content import ContentReader
from shared.speech import ConversationClient, RetryRules, ServiceError, SpeechClient
from shared.states import JobKind, LedgerState
from tests.emulator.api import container_sas_url
from tests.fixtures.emulator import EMULATOR_KEY

pytestmark = pytest.mark.e2e

IMPATIENT = RetryRules(max_attempts=1)


def poisoned(stack) -> list[dict]:
    reader = QueueClient.from_connection_string(
        stack.env["AzureWebJobsStorage"],
        f"{stack.settings.harvest_queue}-poison",
        message_decode_policy=BinaryBase64DecodePolicy(),
    )
    try:
        return [json.loads(m.content) for m in reader.peek_messages(max_messages=32)]
    except Exception:  # the poison queue is created on first use
        return []


def finished_transcription(stack, names: list[str], **options) -> tuple[str, bytes]:
    """A finished job, polled, with its one harvest request taken off the queue."""
    job = stack.submit(names, **options)
    stack.finished(job)
    runtime.poller(stack.parts).tick()
    [body] = stack.drain()
    return job, body


def tracked_conversation(stack, conversation_id: str) -> bytes:
    stack.emulator.admin.create_conversation(conversation_id, status="Completed")
    assert runtime.track_conversation(conversation_id, stack.parts).status == 202
    runtime.poll_tick(stack.parts)
    [body] = stack.drain()
    return body


@pytest.fixture
def conversation_stack(make_stack, fresh_emulator):
    return lambda **settings: make_stack(
        CONVERSATION_ENDPOINT=f"{fresh_emulator.endpoint}/conversations/api/v1/", **settings
    )


# --- transient: retried by the queue, poisoned only after the last attempt ------------------------------


def test_transient_transcription_failure_is_retried_then_poisoned(make_stack):
    stack = make_stack(HARVEST_MAX_ATTEMPTS="2")
    job, body = finished_transcription(stack, ["a.wav"])
    stack.emulator.admin.add_fault("GET /transcriptions/{id}/files", "500", count=1000)
    speech = SpeechClient(
        stack.settings.speech_endpoint,
        api_version=stack.settings.speech_api_version,
        key=EMULATOR_KEY,
        retry=IMPATIENT,
    )
    parts = dataclasses.replace(stack.parts, speech=speech)
    with pytest.raises(ServiceError):
        runtime.handle_message(body, 1, parts)
    assert poisoned(stack) == []
    runtime.handle_message(body, 2, parts)
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, job).state is LedgerState.POISONED
    assert "gave up after 2 attempts" in poisoned(stack)[0]["reason"]


def test_transient_conversation_failure_is_retried(conversation_stack):
    stack = conversation_stack()
    body = tracked_conversation(stack, "flaky-1")
    client = ConversationClient(
        f"{stack.emulator.endpoint}/conversations/api/v1/", key=EMULATOR_KEY, retry=IMPATIENT
    )
    parts = dataclasses.replace(stack.parts, conversations=client)
    stack.emulator.admin.add_fault("GET /offlinetask", "500", count=1)
    with pytest.raises(ServiceError):
        runtime.handle_message(body, 1, parts)
    assert poisoned(stack) == []
    runtime.handle_message(body, 2, parts)
    assert stack.parts.ledger.get(JobKind.CONVERSATION, "flaky-1").state is LedgerState.HARVESTED


# --- permanent: poisoned at the first attempt, with its reason ---------------------------------------


def test_content_credential_failure_is_permanent_not_an_expired_sas(make_stack):
    """With destinationContainerUrl the files are read with our credential; refused means a human must act."""
    stack = make_stack()
    target = container_sas_url(stack.env["AzureWebJobsStorage"], f"speech-out-{uuid.uuid4().hex[:8]}", "rcwl")
    job, body = finished_transcription(stack, ["byos.wav"], destination_container_url=target)
    wrong = AzureNamedKeyCredential(ACCOUNT_NAME, "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=")
    account = target.split("?")[0].rsplit("/", 1)[0]
    parts = dataclasses.replace(stack.parts, content=ContentReader(storage_credentials={account: wrong}))
    stack.emulator.admin.reset_stats()

    runtime.handle_message(body, 1, parts)  # not raised: no retries

    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
    assert record.state is LedgerState.POISONED
    assert "ContentAccessError" in record.detail
    [envelope] = poisoned(stack)
    assert "ContentAccessError" in envelope["reason"]
    # No SAS-refresh loop: the files were listed once.
    assert stack.emulator.admin.stats().routes["GET /transcriptions/{id}/files"] == 1


def test_permanent_conversation_failure_is_poisoned_at_once(conversation_stack):
    stack = conversation_stack()
    body = tracked_conversation(stack, "refused-1")
    wrong = ConversationClient(f"{stack.emulator.endpoint}/conversations/api/v1/", key="wrong-key")
    parts = dataclasses.replace(stack.parts, conversations=wrong)
    runtime.handle_message(body, 1, parts)
    assert stack.parts.ledger.get(JobKind.CONVERSATION, "refused-1").state is LedgerState.POISONED
    [envelope] = poisoned(stack)
    assert "AuthenticationError" in envelope["reason"]
    assert "wrong-key" not in json.dumps(envelope)


def test_permanent_transcription_failure_is_poisoned_at_once(make_stack):
    stack = make_stack()
    job, body = finished_transcription(stack, ["a.wav"])
    wrong = SpeechClient(
        stack.settings.speech_endpoint, api_version=stack.settings.speech_api_version, key="wrong-key"
    )
    runtime.handle_message(body, 1, dataclasses.replace(stack.parts, speech=wrong))
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, job).state is LedgerState.POISONED
    [envelope] = poisoned(stack)
    assert "AuthenticationError" in envelope["reason"]


# --- gone: Missing, never retried, never poisoned ------------------------------------------------------


def test_result_file_gone_marks_the_transcription_missing_without_retries(make_stack):
    stack = make_stack()
    job, body = finished_transcription(stack, ["a.wav"])
    [result] = [f for f in stack.speech.list_files(job) if f.kind == "Transcription"]
    _, container, blob = urlsplit(result.content_url).path.lstrip("/").split("/", 2)
    BlobServiceClient.from_connection_string(stack.env["AzureWebJobsStorage"]).get_blob_client(
        container, blob
    ).delete_blob()

    runtime.handle_message(body, 1, stack.parts)  # not raised: a retry cannot bring the file back

    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
    assert record.state is LedgerState.MISSING
    assert "ContentMissingError" in record.detail
    assert poisoned(stack) == []
    assert stack.manifest(job) is None


def test_a_gone_file_among_many_is_reported_as_gone_not_as_its_followers_abort(make_stack):
    """Files are harvested in parallel; the files after the gone one stop waiting for their turn and fail too.
    The harvest must report the gone file's own error, whichever future it looks at first."""
    stack = make_stack()
    job, body = finished_transcription(stack, [f"in-{n}.wav" for n in range(6)])
    first = next(f for f in stack.speech.list_files(job) if f.kind == "Transcription")
    _, container, blob = urlsplit(first.content_url).path.lstrip("/").split("/", 2)
    BlobServiceClient.from_connection_string(stack.env["AzureWebJobsStorage"]).get_blob_client(
        container, blob
    ).delete_blob()

    runtime.handle_message(body, 1, stack.parts)

    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
    assert record.state is LedgerState.MISSING
    assert "ContentMissingError" in record.detail
    assert poisoned(stack) == []


def test_conversation_gone_is_marked_missing_without_retries(conversation_stack):
    stack = conversation_stack()
    body = tracked_conversation(stack, "gone-1")
    stack.emulator.admin.reset()  # the service forgets the conversation
    runtime.handle_message(body, 1, stack.parts)
    record = stack.parts.ledger.get(JobKind.CONVERSATION, "gone-1")
    assert record.state is LedgerState.MISSING
    assert poisoned(stack) == []
