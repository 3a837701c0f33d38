"""What the app really publishes, over the real stack, is valid against the committed JSON Schemas."""

import json

import pytest
from jsonschema import Draft202012Validator

from shared import runtime
from shared.events import transcript_event
from shared.manifest import Manifest
from shared.schemas import FOLDER
from shared.states import JobKind
from tests.fixtures.stack import poison_reader

pytestmark = pytest.mark.e2e


def check(name: str, document: object) -> None:
    schema = json.loads((FOLDER / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    problems = [
        f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(schema).iter_errors(document)
    ]
    assert problems == [], f"{name}: {problems[:5]}"


def test_published_documents_match_their_schemas(make_stack):
    stack = make_stack(CHANNEL_LABELS="Agent,Customer")
    job = stack.submit(
        ["call-7-stereo.wav?phrases=5", "memo.wav", "gone-fail.wav"], word_level_timestamps=True
    )
    stack.finished(job)
    runtime.poller(stack.parts).tick()
    [request] = stack.drain()
    check("harvest-request", json.loads(request))
    runtime.handle_message(request, 1, stack.parts)

    blobs = stack.blobs(job)
    manifest = stack.manifest(job)
    check("manifest", manifest)
    transcripts = [
        json.loads(data) for path, data in blobs.items() if "/transcript/" in path and path.endswith(".json")
    ]
    assert len(transcripts) == 2
    for transcript in transcripts:
        check("transcript", transcript)

    path = f"transcriptions/{job}/manifest.json"
    event = transcript_event(
        Manifest.model_validate(manifest),
        path,
        url_of=stack.parts.destination.url,
        source="https://app.example",
    )
    check("transcript-event", json.loads(event.to_json()))

    check("status", json.loads(runtime.status(stack.parts).model_dump_json(by_alias=True)))
    check("job-status", json.loads(runtime.job_status(JobKind.TRANSCRIPTION, job, stack.parts).body))

    runtime.handle_message(b'{"id": "not-a-job"}', 1, stack.parts)
    [message] = poison_reader(stack.env["AzureWebJobsStorage"], stack.settings.harvest_queue).peek_messages()
    check("poison-envelope", json.loads(message.content))
