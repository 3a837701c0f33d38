"""The submission API's pure part: request validation, the body per API version, status and error views."""

import json
from datetime import UTC, datetime

import pytest

from shared.replies import service_error_reply
from shared.speech import AuthenticationError, InvalidRequestError, ServiceError, ThrottledError
from shared.states import JobKind, JobRecord, LedgerState
from shared.submission import InvalidSubmission, definition_for, parse_submission, status_view

URL = "https://audio.example.invalid/calls/a.wav?sv=2024&sig=SECRET"


def request(**overrides) -> bytes:
    body = {"contentUrls": [URL], "locale": "en-US", "displayName": "calls"}
    body.update(overrides)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


def invalid(body: bytes) -> InvalidSubmission:
    with pytest.raises(InvalidSubmission) as caught:
        parse_submission(body)
    return caught.value


def test_minimal_request_parses():
    parsed = parse_submission(request())
    assert parsed.content_urls == [URL]
    assert parsed.properties is None


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (b"{", None, "not valid JSON"),
        (b"\xff", None, "not UTF-8"),
        (b"[]", None, "must be a JSON object"),
        (request(extra=1), "extra", "not a known field"),
        (request(content_urls=["x"]), "content_urls", "not a known field"),  # snake_case is not accepted
        (request(contentUrls=None), "contentUrls", "exactly one"),
        (
            request(contentContainerUrl="https://a.blob.core.windows.net/c?sig=x"),
            "contentUrls",
            "exactly one",
        ),
        (request(contentUrls=[]), "contentUrls", "at least 1"),
        (request(contentUrls=["file:///etc/passwd"]), "contentUrls[0]", "http(s) URL"),
        (request(locale=None), "locale", "required"),
        (request(locale="english please"), "locale", "locale such as en-US"),
        (request(displayName=""), "displayName", "at least 1"),
        (request(properties={"timeToLiveHours": 0}), "properties.timeToLiveHours", "greater than or equal"),
        (request(properties={"channels": [2]}), "properties.channels[0]", "less than or equal"),
        (request(properties={"punctuationMode": "Loud"}), "properties.punctuationMode", "Input should be"),
        (request(properties={"diarization": {"maxSpeakers": 99}}), "properties.diarization.maxSpeakers", ""),
        (request(properties={"diarization": {"speakers": 2}}), "properties.diarization.speakers", "known"),
        (
            request(properties={"languageIdentification": {"candidateLocales": []}}),
            "properties.languageIdentification.candidateLocales",
            "at least 1",
        ),
    ],
)
def test_invalid_requests_name_the_field(body, field, words):
    error = invalid(body)
    assert error.field == field
    assert words in error.message


def test_a_sas_in_a_rejected_url_is_not_quoted_back():
    error = invalid(request(contentUrls=["ftp://host/a.wav?sig=SECRET"]))
    assert "SECRET" not in error.message
    assert error.reply().status == 400
    body = json.loads(error.reply().body)
    assert body == {"error": {"code": "InvalidRequest", "message": error.message, "field": "contentUrls[0]"}}


def test_2024_and_later_get_time_to_live_hours_48_by_default():
    for version in ("2024-11-15", "2025-10-15"):
        body = definition_for(parse_submission(request()), version).to_body()
        assert body["properties"]["timeToLiveHours"] == 48
        assert "timeToLive" not in body["properties"]


def test_v32_gets_no_time_to_live_unless_asked_and_then_an_iso_duration():
    assert "timeToLive" not in definition_for(parse_submission(request()), "v3.2").to_body().get(
        "properties", {}
    )
    body = definition_for(parse_submission(request(properties={"timeToLiveHours": 12})), "v3.2").to_body()
    assert body["properties"]["timeToLive"] == "PT12H"


def test_time_to_live_below_the_2024_minimum_names_the_field():
    parsed = parse_submission(request(properties={"timeToLiveHours": 3}))
    with pytest.raises(InvalidSubmission) as caught:
        definition_for(parsed, "2024-11-15")
    assert caught.value.field == "properties.timeToLiveHours"
    assert "time_to_live_hours" not in caught.value.message
    assert definition_for(parsed, "v3.2").to_body()["properties"]["timeToLive"] == "PT3H"


def test_diarization_shape_follows_the_version():
    parsed = parse_submission(request(properties={"diarization": {"enabled": True, "maxSpeakers": 4}}))
    assert definition_for(parsed, "2024-11-15").to_body()["properties"]["diarization"] == {
        "enabled": True,
        "maxSpeakers": 4,
    }
    v32 = definition_for(parsed, "v3.2").to_body()["properties"]
    assert v32["diarizationEnabled"] is True
    assert v32["diarization"] == {"speakers": {"minCount": 1, "maxCount": 4}}


def test_diarization_enabled_without_a_count_means_two_speakers():
    parsed = parse_submission(request(properties={"diarization": {"enabled": True}}))
    assert definition_for(parsed, "2025-10-15").to_body()["properties"]["diarization"]["maxSpeakers"] == 2


def test_diarization_disabled_sends_nothing_and_a_count_with_it_is_refused():
    parsed = parse_submission(request(properties={"diarization": {"enabled": False}}))
    assert "diarization" not in definition_for(parsed, "2024-11-15").to_body()["properties"]
    contradictory = parse_submission(
        request(properties={"diarization": {"enabled": False, "maxSpeakers": 3}})
    )
    with pytest.raises(InvalidSubmission) as caught:
        definition_for(contradictory, "2024-11-15")
    assert caught.value.field == "properties.diarization.maxSpeakers"


def test_one_speaker_is_refused_by_2024_but_not_by_v32():
    parsed = parse_submission(request(properties={"diarization": {"maxSpeakers": 1}}))
    with pytest.raises(InvalidSubmission) as caught:
        definition_for(parsed, "2024-11-15")
    assert caught.value.field == "properties.diarization.maxSpeakers"
    assert definition_for(parsed, "v3.2").to_body()["properties"]["diarizationEnabled"] is True


def test_every_property_is_passed_on():
    properties = {
        "wordLevelTimestampsEnabled": True,
        "displayFormWordLevelTimestampsEnabled": True,
        "channels": [0, 1],
        "punctuationMode": "Automatic",
        "profanityFilterMode": "Tags",
        "languageIdentification": {"candidateLocales": ["en-US", "de-DE"], "mode": "Continuous"},
        "destinationContainerUrl": "https://acct.blob.core.windows.net/out?sp=w&sig=x",
    }
    body = definition_for(parse_submission(request(properties=properties)), "2025-10-15").to_body()
    sent = body["properties"]
    for name, value in properties.items():
        assert sent[name] == value
    assert body["contentUrls"] == [URL]
    assert body["locale"] == "en-US"
    assert body["displayName"] == "calls"


def test_container_input_is_passed_on():
    container = "https://acct.blob.core.windows.net/audio?sp=rl&sig=x"
    parsed = parse_submission(request(contentUrls=None, contentContainerUrl=container))
    body = definition_for(parsed, "2024-11-15").to_body()
    assert body["contentContainerUrl"] == container
    assert "contentUrls" not in body


def test_service_rejections_keep_status_code_and_redacted_message():
    error = InvalidRequestError(400, "InvalidLocale", "The locale 'xx' is not supported. key=k3y")
    reply = service_error_reply(error, ["k3y"])
    assert reply.status == 400
    detail = json.loads(reply.body)["error"]
    assert detail["code"] == "InvalidLocale"
    assert "k3y" not in detail["message"]
    assert "not supported" in detail["message"]


def test_our_credentials_refused_or_service_down_is_a_bad_gateway_and_throttling_passes_retry_after():
    assert service_error_reply(AuthenticationError(401, "Unauthorized", "bad key")).status == 502
    assert service_error_reply(ServiceError(503, None, "down")).status == 502
    throttled = service_error_reply(ThrottledError(429, "TooManyRequests", "slow down", retry_after=7))
    assert throttled.status == 429
    assert throttled.headers == {"Retry-After": "7"}


def test_status_view_shows_the_manifest_only_once_harvested():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    record = JobRecord(
        kind=JobKind.TRANSCRIPTION,
        id="5cff1d03-118f-4c4c-b3ba-e1f1cd88c14d",
        state=LedgerState.QUEUED,
        service_status="Succeeded",
        first_seen=now,
        queued_at=now,
        tracked=True,
    )
    queued = status_view(record, "https://acct/blob/manifest.json").model_dump(
        by_alias=True, exclude_none=True
    )
    assert queued["state"] == "Queued"
    assert queued["serviceStatus"] == "Succeeded"
    assert "manifestUrl" not in queued
    harvested = record.model_copy(update={"state": LedgerState.HARVESTED, "harvested_at": now})
    view = status_view(harvested, "https://acct/blob/manifest.json").model_dump(by_alias=True)
    assert view["manifestUrl"] == "https://acct/blob/manifest.json"
    assert view["harvestedAt"] == now
