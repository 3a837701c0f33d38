"""Hostile and malformed input over the real stack (Azurite, the Speech emulator or a scripted Speech server,
the local host): refused at the first attempt with a reason, never a 500, never retried as if it were weather."""

import base64
import hashlib
import json
import uuid

import pytest
import requests
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from shared import runtime
from shared.queueing import HarvestRequest
from shared.speech import SpeechClient, TranscriptionDefinition
from shared.states import JobKind, LedgerState
from tests.emulator.api import container_sas_url
from tests.fixtures.emulator import EMULATOR_KEY
from tests.fixtures.host import REPO_ROOT
from tests.fixtures.stack import poison_reader
from tests.speech.scripted_server import Reply, ScriptedServer

pytestmark = pytest.mark.e2e

JOB = "5cff1d03-118f-4c4c-b3ba-e1f1cd88c14d"
DEEP = b"[" * 20_000 + b"]" * 20_000  # far past Python's parser, and still fits in one queue message
TIMEOUT = 10


def poisoned(stack) -> list[dict]:
    reader = poison_reader(stack.env["AzureWebJobsStorage"], stack.settings.harvest_queue)
    return [json.loads(message.content) for message in reader.peek_messages(max_messages=32)]


@pytest.mark.parametrize(
    "body",
    [
        {"id": JOB.upper()},
        {"id": "{" + JOB + "}"},
        {"id": "urn:uuid:" + JOB},
        {"id": f" {JOB}\n"},
        {"kind": "conversation", "id": "conv-42\n"},
    ],
)
def test_non_canonical_ids_are_poisoned_at_the_first_attempt(make_stack, body):
    stack = make_stack()
    runtime.handle_message(json.dumps(body).encode(), 1, stack.parts)  # returns: nothing to retry
    [envelope] = poisoned(stack)
    assert "canonical UUID" in envelope["reason"] or "conversation id must be" in envelope["reason"]
    assert envelope["body"] == json.dumps(body)
    assert stack.blob_names() == []
    assert stack.speech.calls == 0


@pytest.mark.parametrize("body", [DEEP, b'{"id": ' + DEEP + b"}"])
def test_deeply_nested_message_is_poisoned_at_the_first_attempt(make_stack, body):
    stack = make_stack()
    runtime.handle_message(body, 1, stack.parts)
    [envelope] = poisoned(stack)
    assert "not valid JSON: nested too deeply" in envelope["reason"]


def test_deeply_nested_files_page_poisons_at_the_first_attempt(make_stack):
    """A Speech answer nested too deeply is as unusable the next time: one request, then poison."""
    stack = make_stack()
    job = stack.submit(["a.wav"])
    with ScriptedServer() as server:
        entity = {"self": f"{server.url}/speechtotext/transcriptions/{job}", "status": "Succeeded"}
        server.script(Reply(json=entity), default=Reply(raw=b'{"values": ' + DEEP + b"}"))
        speech = SpeechClient(server.url, api_version="2024-11-15", key=EMULATOR_KEY)
        parts = runtime.Components(**{**stack.parts.__dict__, "speech": speech})
        body = HarvestRequest(id=job).model_dump_json().encode()
        runtime.handle_message(body, 1, parts)
        paths = [received.path for received in server.received]
    assert paths == [f"/speechtotext/transcriptions/{job}", f"/speechtotext/transcriptions/{job}/files"]
    [envelope] = poisoned(stack)
    assert "nested too deeply" in envelope["reason"]
    assert envelope["dequeueCount"] == 1


def test_hostile_http_requests_get_400_naming_the_problem(make_stack, run_host, fresh_emulator):
    stack = make_stack(
        POLL_SCHEDULE="0 0 0 1 1 *", CONVERSATION_ENDPOINT=f"{fresh_emulator.endpoint}/conversations/api/v1/"
    )
    with run_host(REPO_ROOT, stack.env) as host:
        key = {"code": host.function_key}

        def call(method: str, path: str, **kwargs) -> requests.Response:
            return requests.request(method, host.url(path), params=key, timeout=TIMEOUT, **kwargs)

        headers = {"X-MicrosoftSpeechServices-Event": "TranscriptionCompletion"}
        for answer in (
            call("POST", "/api/webhooks/speech", data=DEEP, headers=headers),
            call("POST", "/api/transcriptions", data=DEEP),
            call("POST", "/api/transcriptions", data=b'{"contentUrls": ' + DEEP + b"}"),
        ):
            assert answer.status_code == 400, answer.text
            assert "nested too deeply" in answer.json()["error"]["message"]

        for path in (f"/api/transcriptions/{JOB.upper()}", f"/api/transcriptions/%7B{JOB}%7D"):
            answer = call("GET", path)
            assert answer.status_code == 400, answer.text
            assert "canonical UUID" in answer.json()["error"]["message"]
    # The local host's HTTP server drops a trailing %0A from paths; the app refuses the newline itself.
    reply = runtime.track_conversation("conv-42\n", stack.parts)
    assert reply.status == 400
    assert stack.parts.ledger.get(JobKind.CONVERSATION, "conv-42") is None


@pytest.mark.parametrize("size", [47_000, 48_000, 60_000])
@pytest.mark.parametrize("filler", ["x", "é", "\u0001", None])
def test_a_message_near_the_queue_limit_is_poisoned_once_with_its_reason(make_stack, size, filler):
    stack = make_stack()
    body = bytes(range(256)) * (size // 256) if filler is None else (filler * size).encode()[:size]
    runtime.handle_message(body, 1, stack.parts)
    [message] = poison_reader(stack.env["AzureWebJobsStorage"], stack.settings.harvest_queue).peek_messages()
    envelope = json.loads(message.content)
    assert envelope["reason"].startswith("bad message: message body is not")
    assert envelope["bodySize"] == len(body)
    assert envelope["bodySha256"] == hashlib.sha256(body).hexdigest()
    kept = (
        base64.b64decode(envelope["body"])
        if envelope["bodyEncoding"] == "base64"
        else envelope["body"].encode()
    )
    assert body.startswith(kept)
    assert envelope["bodyTruncated"] is (len(kept) < len(body))
    if envelope["bodyTruncated"]:
        assert len(base64.b64encode(message.content)) > 60_000  # cut only as much as the queue needs


def test_a_failed_ledger_write_while_poisoning_poisons_once_and_does_not_raise(make_stack):
    stack = make_stack()
    job = stack.submit(["a.wav"])
    wrong_key = SpeechClient(stack.settings.speech_endpoint, api_version="2024-11-15", key="not-the-key")
    TableServiceClient.from_connection_string(stack.env["AzureWebJobsStorage"]).delete_table(
        stack.settings.ledger_table
    )
    parts = runtime.Components(**{**stack.parts.__dict__, "speech": wrong_key})
    runtime.handle_message(HarvestRequest(id=job).model_dump_json().encode(), 1, parts)  # must not raise
    [envelope] = poisoned(stack)
    assert envelope["reason"].startswith("AuthenticationError")


def harvest_now(stack, job: str) -> None:
    stack.finished(job)
    runtime.handle_message(HarvestRequest(id=job).model_dump_json().encode(), 1, stack.parts)


def test_no_sas_in_transcription_json_whatever_the_case_and_inside_free_text(make_stack):
    stack = make_stack()
    job = stack.submit(
        ["a.wav"],
        display_name="copied from sv=2022-11-02&sig=SECRET1 by hand",
        description="audio at HTTPS://acct.blob.core.windows.net/c/a.wav?sv=2022&SIG=SECRET2 (sales)",
        custom_properties={"origin": "Https://acct.blob.core.windows.net/c/b.wav?sp=r&sig=SECRET3"},
    )
    harvest_now(stack, job)
    entity = stack.blobs(job)[f"transcriptions/{job}/transcription.json"].decode()
    assert "SECRET" not in entity
    document = json.loads(entity)
    assert document["description"] == "audio at HTTPS://acct.blob.core.windows.net/c/a.wav (sales)"
    assert document["customProperties"]["origin"] == "Https://acct.blob.core.windows.net/c/b.wav"
    assert document["displayName"] == "copied from sv=2022-11-02&sig=REDACTED by hand"


COLLIDING = [
    "in/a.wav",
    "in_a.wav",
    "in%a.wav",
    "x?.wav",
    "x:.wav",
    "x_.wav",
    "y.wav",
    " y.wav",
    "z\u202e.wav",
    "z.wav",
]


def container_job(stack, azurite, blob_names: list[str]) -> str:
    """Submit a job over a container of inputs (result files are then named after the blobs), harvest it."""
    name = f"input-{uuid.uuid4().hex}"
    sas_url = container_sas_url(azurite.connection_string, name, "rl")
    container = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client(name)
    for blob in blob_names:
        container.upload_blob(blob, b"RIFF")
    definition = TranscriptionDefinition.for_version(
        stack.settings.speech_api_version,
        locale="en-US",
        display_name="hostile names",
        content_container_url=sas_url,
    )
    job = stack.speech.submit_transcription(definition).id
    harvest_now(stack, job)
    return job


def test_result_names_that_clean_alike_each_get_their_own_raw_blob(make_stack, azurite):
    stack = make_stack()
    job = container_job(stack, azurite, COLLIDING)

    served = {
        file.name: hashlib.sha256(requests.get(file.content_url, timeout=TIMEOUT).content).hexdigest()
        for file in stack.speech.list_files(job)
        if file.kind == "Transcription"
    }
    assert sorted(served) == sorted(f"{blob}.json" for blob in COLLIDING)
    assert len(set(served.values())) == len(COLLIDING)  # every input's result differs
    stored = stack.blobs(job)
    results = {r["name"]: r for r in stack.manifest(job)["results"] if r["kind"] == "Transcription"}
    assert {name: result["sha256"] for name, result in results.items()} == served
    assert len({result["blob"] for result in results.values()}) == len(COLLIDING)
    for result in results.values():
        assert hashlib.sha256(stored[result["blob"]]).hexdigest() == result["sha256"]

    # A redelivery after a crash before the manifest picks the same names: nothing new, nothing rewritten.
    manifest_blob = f"transcriptions/{job}/manifest.json"
    stack.parts.destination.container.delete_blob(manifest_blob)
    stack.parts.ledger.save(
        stack.parts.ledger.get(JobKind.TRANSCRIPTION, job).model_copy(update={"state": LedgerState.QUEUED})
    )
    runtime.handle_message(HarvestRequest(id=job).model_dump_json().encode(), 1, stack.parts)
    assert sorted(stack.blobs(job)) == sorted(stored)
    assert stack.manifest(job)["results"] == list(stack.manifest(job)["results"])
    assert {r["name"]: r["blob"] for r in stack.manifest(job)["results"] if r["kind"] == "Transcription"} == {
        name: result["blob"] for name, result in results.items()
    }


@pytest.mark.parametrize("answered", ["7e0a1c2b-0000-4000-8000-000000000000", ".."])
def test_an_answer_about_another_job_is_a_service_error(make_stack, answered):
    stack = make_stack()
    with ScriptedServer() as server:
        entity = {"self": f"{server.url}/speechtotext/transcriptions/{answered}", "status": "Succeeded"}
        server.script(default=Reply(json=entity))
        speech = SpeechClient(server.url, api_version="2024-11-15", key=EMULATOR_KEY)
        parts = runtime.Components(**{**stack.parts.__dict__, "speech": speech})
        runtime.handle_message(HarvestRequest(id=JOB).model_dump_json().encode(), 1, parts)
        requests_made = len(server.received)
    assert requests_made == 1
    [envelope] = poisoned(stack)
    assert envelope["reason"].startswith("UnexpectedResponseError")
    assert f"asked for transcription {JOB}" in envelope["reason"]
    assert stack.blob_names() == []
    assert [r.id for r in stack.parts.ledger.query(JobKind.TRANSCRIPTION)] == [JOB]


def test_a_listed_entity_with_a_non_canonical_id_is_skipped_not_a_stuck_poll(make_stack):
    stack = make_stack()
    with ScriptedServer() as server:
        listed = [
            {"self": f"{server.url}/speechtotext/transcriptions/{bad}", "status": "Succeeded"}
            for bad in ("..", JOB.upper(), "%7B" + JOB + "%7D")
        ] + [{"self": f"{server.url}/speechtotext/transcriptions/{JOB}", "status": "Succeeded"}]
        server.script(default=Reply(json={"values": listed}))
        speech = SpeechClient(server.url, api_version="2024-11-15", key=EMULATOR_KEY)
        report = runtime.poller(runtime.Components(**{**stack.parts.__dict__, "speech": speech})).tick()
    assert report.listed == 4
    assert [r.id for r in stack.parts.ledger.query(JobKind.TRANSCRIPTION)] == [JOB]
    assert [json.loads(body)["id"] for body in stack.queue_messages()] == [JOB]


def test_raw_names_fit_azure_limits_with_the_prefix(make_stack, azurite):
    prefix = "p/" * 200
    stack = make_stack(DESTINATION_PREFIX=prefix)
    deep = "/".join(["d"] * 120) + "/a.wav"  # 121 segments: with the prefix and job folder, over 254
    long = "l" * 900 + ".wav"  # one segment, far over the 200 a segment may have
    hidden = "c1\u0085\u2028bidi\u202e.wav"
    job = container_job(stack, azurite, [deep, long, hidden])
    results = {r["name"]: r for r in stack.manifest(job)["results"] if r["kind"] == "Transcription"}
    assert set(results) == {f"{deep}.json", f"{long}.json", f"{hidden}.json"}
    stored = {b.name: b.size for b in stack.parts.destination.container.list_blobs(name_starts_with=prefix)}
    for result in results.values():
        blob = result["blob"]
        assert blob.startswith(f"{prefix}transcriptions/{job}/raw/")
        assert len(blob) <= 1024
        assert len(blob.split("/")) <= 254
        assert stored[blob] == result["size"]
    assert results[f"{hidden}.json"]["blob"].endswith("/raw/c1bidi.wav.json")


@pytest.mark.parametrize("answered", ["..", JOB.upper()])
def test_a_submission_answered_without_a_canonical_id_is_a_502_and_tracks_nothing(make_stack, answered):
    stack = make_stack()
    with ScriptedServer() as server:
        entity = {"self": f"{server.url}/speechtotext/transcriptions/{answered}", "status": "NotStarted"}
        server.script(default=Reply(status=201, json=entity))
        speech = SpeechClient(server.url, api_version="2024-11-15", key=EMULATOR_KEY)
        parts = runtime.Components(**{**stack.parts.__dict__, "speech": speech})
        body = {"contentUrls": ["https://audio.example.invalid/a.wav"], "locale": "en-US", "displayName": "x"}
        reply = runtime.submit_transcription(json.dumps(body).encode(), parts)
    assert reply.status == 502
    assert "names no usable job" in json.loads(reply.body)["error"]["message"]
    assert list(stack.parts.ledger.query(JobKind.TRANSCRIPTION)) == []
    assert stack.queue_messages() == []
