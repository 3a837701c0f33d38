"""Harvests of result listings the service is allowed to send but rarely does, over Azurite and a scripted
Speech server (the emulator always names its files)."""

import dataclasses
import json
import uuid

import pytest

from shared import runtime
from shared.harvest import Outcome
from shared.queueing import HarvestRequest
from shared.speech import SpeechClient
from shared.states import JobKind, LedgerState
from tests.speech.scripted_server import Reply, ScriptedServer
from tests.transcripts.builders import encode, phrase, result

pytestmark = pytest.mark.e2e


def entity(base: str, job: str) -> dict:
    return {
        "self": f"{base}/speechtotext/transcriptions/{job}?api-version=2024-11-15",
        "displayName": "shapes",
        "locale": "en-US",
        "createdDateTime": "2025-05-24T13:36:57Z",
        "lastActionDateTime": "2025-05-24T13:37:13Z",
        "links": {"files": f"{base}/speechtotext/transcriptions/{job}/files?api-version=2024-11-15"},
        "properties": {"timeToLiveHours": 48},
        "status": "Succeeded",
    }


def test_a_result_file_without_a_name_is_kept_under_its_id(make_stack):
    # One file at a time: the scripted server answers in order, whichever file asks, so two downloads at once
    # could swap the result's and the report's bytes.
    stack = make_stack(HARVEST_FILE_CONCURRENCY="1")
    job, file_id = str(uuid.uuid4()), str(uuid.uuid4())
    document = result([phrase("Hello there.", 0.0, 1.0)])
    with ScriptedServer() as server:
        base = server.url
        files = {
            "values": [
                {
                    "self": f"{base}/speechtotext/transcriptions/{job}/files/{file_id}?api-version=2024-11-15",
                    "kind": "Transcription",
                    "links": {"contentUrl": f"{base}/content/{file_id}?sig=abc"},
                },
                {
                    "self": f"{base}/speechtotext/transcriptions/{job}/files/{uuid.uuid4()}?api-version=2024-11-15",
                    "name": "report.json",
                    "kind": "TranscriptionReport",
                    "links": {"contentUrl": f"{base}/content/report?sig=abc"},
                },
            ]
        }
        report = {"successfulTranscriptionsCount": 1, "failedTranscriptionsCount": 0}
        server.script(
            Reply(json=entity(base, job)),
            Reply(json=files),
            Reply(raw=encode(document)),
            Reply(json=report),
        )
        speech = SpeechClient(base, api_version="2024-11-15", key="scripted-key")
        parts = dataclasses.replace(stack.parts, speech=speech)
        try:
            outcome = runtime.harvester(parts).harvest(HarvestRequest(id=job))
        finally:
            speech.close()

    assert outcome is Outcome.HARVESTED
    root = f"transcriptions/{job}/"
    blobs = stack.blobs(job)
    assert blobs[f"{root}raw/{file_id}"] == encode(document)
    manifest = json.loads(blobs[f"{root}manifest.json"])
    assert [r["name"] for r in manifest["results"]] == [file_id, "report.json"]
    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
    assert record is not None
    assert record.state is LedgerState.HARVESTED
