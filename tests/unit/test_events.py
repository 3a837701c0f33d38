import json
from datetime import UTC, datetime

from shared.events import EventType, TranscriptEvent, transcript_event
from shared.manifest import DerivedEntry, JobError, Manifest, ResultEntry, Validation

WHEN = datetime(2026, 11, 21, 10, 4, 17, tzinfo=UTC)
JOB = "5cff1d03-118f-4c4c-b3ba-e1f1cd88c14d"
PATH = f"speech/transcriptions/{JOB}/manifest.json"
CONTAINER = "https://acct.blob.core.windows.net/dest"


def url_of(path: str) -> str:
    return f"{CONTAINER}/{path}"


def manifest(status="Succeeded", kind="transcription", **extra) -> Manifest:
    folder = f"speech/{kind}s/{JOB}"
    result = ResultEntry(
        name="contenturl_0.json",
        kind="Transcription",
        source="https://audio.example/call-0042.wav",
        blob=f"{folder}/raw/contenturl_0.json",
        size=10,
        sha256="ab",
        validation=Validation(valid=True),
        transcripts=[
            DerivedEntry(format=f, blob=f"{folder}/transcript/call-0042.{f}", size=1, sha256="cd")
            for f in ("json", "txt")
        ],
    )
    report = ResultEntry(
        name="report.json", kind="TranscriptionReport", blob=f"{folder}/raw/report.json", size=1,
        sha256="ef", validation=Validation(valid=True),
    )  # fmt: skip
    return Manifest(kind=kind, id=JOB, status=status, results=[result, report], harvested_at=WHEN, **extra)


def test_event_is_a_cloudevent_with_camel_case_data():
    event = transcript_event(manifest(locale="en-US"), PATH, url_of=url_of, source=CONTAINER)
    wire = json.loads(event.to_json())
    assert wire["specversion"] == "1.0"
    assert wire["type"] == "SpeechHarvester.TranscriptionHarvested"
    assert wire["subject"] == PATH
    assert wire["source"] == CONTAINER
    assert wire["datacontenttype"] == "application/json"
    assert wire["time"] == "2026-11-21T10:04:17Z"
    data = wire["data"]
    assert data["id"] == JOB
    assert data["kind"] == "transcription"
    assert data["status"] == "Succeeded"
    assert data["manifestUrl"] == f"{CONTAINER}/{PATH}"
    assert data["results"] == [
        {
            "name": "contenturl_0.json",
            "stem": "call-0042",
            "valid": True,
            "transcriptUrls": {
                "json": f"{CONTAINER}/speech/transcriptions/{JOB}/transcript/call-0042.json",
                "txt": f"{CONTAINER}/speech/transcriptions/{JOB}/transcript/call-0042.txt",
            },
        }
    ]
    assert TranscriptEvent.model_validate_json(event.to_json()) == event


def test_id_is_stable_for_one_harvest_and_differs_for_another():
    first = transcript_event(manifest(), PATH, url_of=url_of, source=CONTAINER)
    again = transcript_event(manifest(), PATH, url_of=url_of, source=CONTAINER)
    assert first.id == again.id
    assert first.to_json() == again.to_json()
    later = manifest().model_copy(update={"harvested_at": datetime(2026, 11, 22, tzinfo=UTC)})
    assert transcript_event(later, PATH, url_of=url_of, source=CONTAINER).id != first.id
    moved = transcript_event(manifest(), "other/" + PATH, url_of=url_of, source=CONTAINER)
    assert moved.id != first.id


def test_types_by_kind_and_status():
    def type_of(kind, status):
        return transcript_event(manifest(status, kind), PATH, url_of=url_of, source=CONTAINER).type

    assert type_of("transcription", "Succeeded") is EventType.TRANSCRIPTION_HARVESTED
    assert type_of("transcription", "Failed") is EventType.TRANSCRIPTION_FAILED
    assert type_of("conversation", "Completed") is EventType.CONVERSATION_HARVESTED
    assert type_of("conversation", "Failed") is EventType.CONVERSATION_FAILED


def test_failed_job_carries_its_error_and_never_a_sas():
    failed = manifest("Failed", error=JobError(code="InvalidData", message="bad audio"))

    def signed(path: str) -> str:
        return f"{CONTAINER}/{path}?sv=2024&sig=SECRET"

    event = transcript_event(failed, PATH, url_of=signed, source=CONTAINER + "?sig=SECRET")
    assert event.data.error is not None
    assert event.data.error.code == "InvalidData"
    assert "SECRET" not in event.to_json()
    assert "sig=" not in event.to_json()
