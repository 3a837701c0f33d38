import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.speech import (
    ApiVersion,
    Diarization,
    FileKind,
    LanguageIdentification,
    OfflineTask,
    ProcessingStatus,
    Status,
    Transcription,
    TranscriptionDefinition,
    TranscriptionFile,
    TranscriptionReport,
    WebHook,
    WebHookDefinition,
    WebHookEvents,
    WebHookUpdate,
)
from shared.speech.definitions import version_problems
from shared.speech.transcriptions import TranscriptionProperties

DATA = Path(__file__).parent / "data"


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def test_transcription_2024_11_15_from_the_docs():
    raw = load("transcription_2024-11-15.json")
    t = Transcription.model_validate(raw)
    assert t.id == "5cff1d03-118f-4c4c-b3ba-e1f1cd88c14d"
    assert t.self_url == raw["self"]
    assert t.display_name == "My Transcription"
    assert t.locale == "en-US"
    assert t.status is Status.SUCCEEDED
    assert t.is_terminal
    assert t.created_date_time == datetime(2025, 5, 24, 13, 36, 57, tzinfo=UTC)
    assert t.links is not None
    assert t.links.files == raw["links"]["files"]
    props = t.properties
    assert props is not None
    assert props.time_to_live_hours == 48
    assert props.duration_milliseconds == 3000
    assert props.channels == [0, 1]
    assert props.language_identification is not None
    assert props.language_identification.candidate_locales == ["en-US", "de-DE", "es-ES"]
    assert props.language_identification.mode == "Continuous"
    assert t.duration_seconds == 3.0
    assert t.error is None
    assert t.wire == raw


def test_transcription_v3_2_from_the_docs():
    raw = load("transcription_v3.2.json")
    t = Transcription.model_validate(raw)
    assert t.id == "637d9333-6559-47a6-b8de-c7d732c1ddf3"
    assert t.model is not None
    assert t.model.self_url is not None
    assert t.model.self_url.endswith("/models/base/aaa321e9-5a4e-4db1-88a2-f251bbe7b555")
    assert t.properties is not None
    assert t.properties.duration == "PT3S"
    assert t.properties.diarization_enabled is False
    assert t.properties.display_form_word_level_timestamps_enabled is True
    assert t.duration_seconds == 3.0
    assert t.wire == raw


@pytest.mark.parametrize(
    ("name", "self_prefix"),
    [
        ("files_2024-11-15.json", "https://eastus.api.cognitive.microsoft.com/speechtotext/transcriptions/"),
        ("files_v3.2.json", "https://eastus.api.cognitive.microsoft.com/speechtotext/v3.2/transcriptions/"),
    ],
)
def test_files_lists_from_the_docs(name, self_prefix):
    raw = load(name)
    files = [TranscriptionFile.model_validate(item) for item in raw["values"]]
    assert [f.name for f in files] == ["contenturl_0.json", "contenturl_1.json", "report.json"]
    assert [f.kind for f in files] == [
        FileKind.TRANSCRIPTION,
        FileKind.TRANSCRIPTION,
        FileKind.TRANSCRIPTION_REPORT,
    ]
    assert all(isinstance(f.kind, FileKind) for f in files)
    assert [f.content_url for f in files] == [
        "YourTranscriptionUrl",
        "YourTranscriptionUrl",
        "YourTranscriptionReportUrl",
    ]
    assert all(f.self_url and f.self_url.startswith(self_prefix) for f in files)
    assert "?" not in files[0].id
    assert files[2].size in (747, 279)
    assert files[0].duration_seconds is None
    assert [f.wire for f in files] == raw["values"]


def test_file_kinds_are_open():
    f = TranscriptionFile.model_validate(
        {"kind": "SomethingNew", "properties": {"durationMilliseconds": 1500}}
    )
    assert f.kind == "SomethingNew"
    assert not isinstance(f.kind, FileKind)
    assert f.duration_seconds == 1.5


def test_report_from_the_docs_and_legacy_source_url():
    raw = load("report.json")
    report = TranscriptionReport.model_validate(raw)
    assert report.successful_transcriptions_count == 2
    assert report.failed_transcriptions_count == 0
    assert report.details is not None
    assert [d.source for d in report.details] == [
        "https://crbn.us/hello.wav",
        "https://crbn.us/whatstheweatherlike.wav",
    ]
    assert report.wire == raw

    legacy = {
        "details": [
            {
                "sourceUrl": "https://x/fail.wav",
                "status": "Failed",
                "errorKind": "InvalidData",
                "errorMessage": "bad",
            }
        ]
    }
    detail = TranscriptionReport.model_validate(legacy).details[0]  # type: ignore[index]
    assert (detail.source, detail.status, detail.error_kind, detail.error_message) == (
        "https://x/fail.wav",
        "Failed",
        "InvalidData",
        "bad",
    )


def test_unknown_fields_nulls_and_statuses_are_tolerated_and_kept():
    raw = {
        "self": "https://h/speechtotext/transcriptions/abc?api-version=2099-01-01",
        "displayName": None,
        "status": "Paused",
        "brandNewField": {"nested": [1, 2]},
        "links": None,
        "properties": {
            "channels": None,
            "error": {
                "code": "InvalidData",
                "message": "The recordings URI contains invalid data.",
                "extra": 1,
            },
            "diarization": {"enabled": True, "maxSpeakers": 4, "speakers": None},
            "someFutureFlag": True,
        },
        "createdDateTime": None,
    }
    t = Transcription.model_validate(raw)
    assert t.id == "abc"
    assert t.status == "Paused"
    assert not t.is_terminal
    assert t.brandNewField == {"nested": [1, 2]}  # type: ignore[attr-defined]
    assert t.error is not None
    assert t.error.code == "InvalidData"
    assert t.properties is not None
    assert t.properties.diarization == Diarization(enabled=True, max_speakers=4, speakers=None)
    assert t.duration_seconds is None
    assert t.wire is raw
    assert t.properties.wire is raw["properties"]
    # Re-serialising keeps unknown fields under their wire names too.
    assert t.model_dump(mode="json")["brandNewField"] == {"nested": [1, 2]}
    assert t.model_dump(mode="json")["properties"]["someFutureFlag"] is True


def test_transcription_without_self_has_no_id():
    with pytest.raises(ValueError, match="self"):
        _ = Transcription.model_validate({}).id


def test_unreadable_iso_duration_is_none_not_an_error():
    t = Transcription.model_validate({"properties": {"duration": "P1M"}})
    assert t.duration_seconds is None


def test_model_built_in_code_has_its_body_as_wire():
    props = TranscriptionProperties(time_to_live_hours=48, channels=None)
    assert props.wire == {"timeToLiveHours": 48}


def test_definition_for_v3_2():
    d = TranscriptionDefinition.for_version(
        "v3.2",
        locale="en-US",
        display_name="job",
        content_urls=["https://a/one.wav?sig=x"],
        diarization_max_speakers=3,
        word_level_timestamps=True,
        model="https://h/speechtotext/v3.2/models/base/m1",
    )
    assert d.to_body() == {
        "displayName": "job",
        "locale": "en-US",
        "model": {"self": "https://h/speechtotext/v3.2/models/base/m1"},
        "contentUrls": ["https://a/one.wav?sig=x"],
        "properties": {
            "wordLevelTimestampsEnabled": True,
            "timeToLive": "PT48H",
            "diarizationEnabled": True,
            "diarization": {"speakers": {"minCount": 1, "maxCount": 3}},
        },
    }
    assert version_problems(d, ApiVersion.V3_2) == []
    assert version_problems(d, ApiVersion.V2024_11_15) == [
        "properties.timeToLive was removed in API 2024-11-15",
        "properties.diarizationEnabled was removed in API 2024-11-15",
        "properties.diarization.speakers was removed in API 2024-11-15",
        "API 2024-11-15 requires properties.timeToLiveHours",
    ]


@pytest.mark.parametrize("version", [ApiVersion.V2024_11_15, ApiVersion.V2025_10_15])
def test_definition_for_2024_and_later(version):
    d = TranscriptionDefinition.for_version(
        version,
        locale="en-US",
        display_name="job",
        content_container_url="https://a/c?sp=rl&sig=x",
        diarization_max_speakers=2,
        language_identification=LanguageIdentification(candidate_locales=["en-US", "de-DE"]),
        destination_container_url="https://a/out?sig=y",
        custom_properties={"k": "v"},
    )
    assert d.to_body() == {
        "displayName": "job",
        "locale": "en-US",
        "customProperties": {"k": "v"},
        "contentContainerUrl": "https://a/c?sp=rl&sig=x",
        "properties": {
            "destinationContainerUrl": "https://a/out?sig=y",
            "timeToLiveHours": 48,
            "diarization": {"enabled": True, "maxSpeakers": 2},
            "languageIdentification": {"candidateLocales": ["en-US", "de-DE"]},
        },
    }
    assert version_problems(d, version) == []
    assert version_problems(d, ApiVersion.V3_2) == [
        "properties.timeToLiveHours is not part of API v3.2",
        "properties.diarization.enabled is not part of API v3.2",
        "properties.diarization.maxSpeakers is not part of API v3.2",
    ]


def test_v3_2_definition_may_never_expire():
    d = TranscriptionDefinition.for_version(
        ApiVersion.V3_2, locale="de-DE", display_name="x", content_urls=["u"], time_to_live_hours=None
    )
    assert d.to_body()["properties"] == {}


@pytest.mark.parametrize(
    ("version", "kwargs", "message"),
    [
        ("2024-11-15", {}, "exactly one"),
        ("2024-11-15", {"content_urls": ["u"], "content_container_url": "c"}, "exactly one"),
        ("2024-11-15", {"content_urls": []}, "1 to 1000"),
        ("2024-11-15", {"content_urls": ["u"] * 1001}, "1 to 1000"),
        ("2024-11-15", {"content_urls": ["u"], "time_to_live_hours": None}, "requires time_to_live_hours"),
        ("2025-10-15", {"content_urls": ["u"], "time_to_live_hours": 5}, "requires time_to_live_hours"),
        ("2025-10-15", {"content_urls": ["u"], "time_to_live_hours": 745}, "requires time_to_live_hours"),
        ("v3.2", {"content_urls": ["u"], "time_to_live_hours": 745}, "time_to_live_hours must be"),
        ("2024-11-15", {"content_urls": ["u"], "diarization_max_speakers": 1}, "diarization_max_speakers"),
        ("v3.2", {"content_urls": ["u"], "diarization_max_speakers": 36}, "diarization_max_speakers"),
        ("v3.1", {"content_urls": ["u"]}, "v3.1"),
    ],
)
def test_definition_rejects(version, kwargs, message):
    with pytest.raises(ValueError, match=message):
        TranscriptionDefinition.for_version(version, locale="en-US", display_name="x", **kwargs)


WEBHOOK = {
    "self": "https://westus.api.cognitive.microsoft.com/speechtotext/webhooks/c7d3f9e2-8b1a-4d5e-9f0a-1b2c3d4e5f60?api-version=2024-11-15",
    "displayName": "Harvester",
    "webUrl": "https://example.com/api/speech-events",
    "events": {"transcriptionCompletion": True, "transcriptionDeletion": False, "newEvent": True},
    "properties": {"apiVersion": "v2024-11-15", "secret": None, "error": None},
    "links": {
        "ping": "https://westus.api.cognitive.microsoft.com/speechtotext/webhooks/c7d3f9e2-8b1a-4d5e-9f0a-1b2c3d4e5f60:test?api-version=2024-11-15",
        "test": "https://westus.api.cognitive.microsoft.com/speechtotext/webhooks/c7d3f9e2-8b1a-4d5e-9f0a-1b2c3d4e5f60:ping?api-version=2024-11-15",
    },
    "status": "NotStarted",
    "createdDateTime": "2025-05-24T13:36:57Z",
    "lastActionDateTime": "2025-05-24T13:36:57Z",
}


def test_webhook_model():
    hook = WebHook.model_validate(WEBHOOK)
    assert hook.id == "c7d3f9e2-8b1a-4d5e-9f0a-1b2c3d4e5f60"
    assert hook.status is Status.NOT_STARTED
    assert hook.events is not None
    assert hook.events.transcription_completion is True
    assert hook.events.newEvent is True  # type: ignore[attr-defined]
    assert hook.properties is not None
    assert hook.properties.api_version == "v2024-11-15"
    assert hook.wire == WEBHOOK


def test_webhook_bodies():
    events = WebHookEvents(transcription_completion=True, transcription_deletion=True)
    definition = WebHookDefinition(display_name="h", web_url="https://x/hook", events=events)
    assert definition.to_body() == {
        "displayName": "h",
        "webUrl": "https://x/hook",
        "events": {"transcriptionCompletion": True, "transcriptionDeletion": True},
    }
    assert WebHookUpdate(web_url="https://y/hook").to_body() == {"webUrl": "https://y/hook"}


def test_offline_task():
    raw = {
        "id": "conv-1",
        "processingStatus": "Completed",
        "transcriptions": [
            {
                "userId": "Guest_0",
                "resultId": "r1",
                "reason": "RecognizedSpeech",
                "text": "Hello.",
                "durationInTicks": 13200000,
                "offsetInTicks": 7600000.0,
            }
        ],
    }
    task = OfflineTask.model_validate(raw)
    assert task.processing_status is ProcessingStatus.COMPLETED
    assert task.is_terminal
    assert task.transcriptions is not None
    assert task.transcriptions[0].offset_in_ticks == 7_600_000
    assert task.transcriptions[0].user_id == "Guest_0"
    assert task.wire == raw
    assert not OfflineTask.model_validate({"processingStatus": "Uploading"}).is_terminal
    assert OfflineTask.model_validate({"processingStatus": "Archived"}).processing_status == "Archived"


def test_status_terminality():
    assert [s.is_terminal for s in Status] == [False, False, True, True]
