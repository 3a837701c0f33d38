"""The web hook receiver's pure part: signatures, the challenge, and what each request is classified as."""

import base64
import hashlib
import hmac
import json

import pytest

from shared.webhooks import (
    EVENT_HEADER,
    SIGNATURE_HEADER,
    Acknowledge,
    Challenge,
    Event,
    Refusal,
    TranscriptionEvent,
    classify,
    signature,
    signature_problem,
    transcription_id_of,
)

SECRET = "s3cret-for-hooks"
JOB = "5cff1d03-118f-4c4c-b3ba-e1f1cd88c14d"
SELF = f"https://westus.api.cognitive.microsoft.com/speechtotext/transcriptions/{JOB}?api-version=2024-11-15"


def body_of(**entity) -> bytes:
    return json.dumps({"self": SELF, "status": "Succeeded", **entity}).encode()


def signed(event: str, body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {EVENT_HEADER: event, SIGNATURE_HEADER: signature(secret, body)}


def refusal(result) -> Refusal:
    assert isinstance(result, Refusal), result
    return result


def test_signature_is_base64_hmac_sha256_of_the_raw_body():
    body = b'{"a": 1}'
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert signature(SECRET, body) == expected
    assert signature_problem(SECRET, body, expected) is None
    assert signature_problem(SECRET, body, " " + expected + " ") is None


@pytest.mark.parametrize(
    ("presented", "problem"),
    [
        (None, "not signed"),
        ("", "not signed"),
        ("bm90IHRoZSBzaWduYXR1cmU=", "does not match"),
        ("sïgnature-with-non-ascii", "does not match"),
    ],
)
def test_missing_or_wrong_signature_is_named(presented, problem):
    assert problem in signature_problem(SECRET, b"{}", presented)


def test_without_a_secret_every_request_passes_the_signature_check():
    assert signature_problem(None, b"{}", None) is None
    assert signature_problem("", b"{}", "garbage") is None


def test_challenge_echoes_the_token_when_signed():
    result = classify("POST", signed("Challenge", b""), {"validationToken": "tok-123"}, b"", SECRET)
    assert result == Challenge("tok-123")


def test_challenge_by_get_without_event_header_is_accepted():
    assert classify("GET", {}, {"validationToken": "abc"}, b"", None) == Challenge("abc")


def test_unsigned_challenge_is_refused_when_a_secret_is_set():
    result = refusal(classify("POST", {EVENT_HEADER: "Challenge"}, {"validationToken": "t"}, b"", SECRET))
    assert result.status == 401


def test_challenge_without_token_is_a_bad_request():
    result = refusal(classify("POST", {EVENT_HEADER: "Challenge"}, {}, b"", None))
    assert result.status == 400
    assert "validationToken" in result.message


def test_header_names_and_event_names_are_case_insensitive():
    body = body_of()
    headers = {k.lower(): v for k, v in signed("transcriptioncompletion", body).items()}
    result = classify("POST", headers, {}, body, SECRET)
    assert isinstance(result, TranscriptionEvent)
    assert result.event is Event.TRANSCRIPTION_COMPLETION


@pytest.mark.parametrize(
    "event",
    [
        "TranscriptionCreation",
        "TranscriptionProcessing",
        "TranscriptionCompletion",
        "TranscriptionDeletion",
    ],
)
def test_transcription_events_carry_the_id_from_self(event):
    body = body_of()
    result = classify("POST", signed(event, body), {}, body, SECRET)
    assert result == TranscriptionEvent(Event(event), JOB, json.loads(body))


def test_forged_completion_is_refused():
    body = body_of()
    headers = signed("TranscriptionCompletion", body, secret="not-the-secret")
    result = refusal(classify("POST", headers, {}, body, SECRET))
    assert result.status == 401
    assert result.code == "Unauthorized"


def test_body_changed_after_signing_is_refused():
    headers = signed("TranscriptionCompletion", body_of())
    assert refusal(classify("POST", headers, {}, body_of(status="Failed"), SECRET)).status == 401


def test_ping_and_other_entity_events_are_acknowledged():
    assert classify("POST", {EVENT_HEADER: "Ping"}, {}, b"{}", None) == Acknowledge("Ping")
    assert classify("POST", {EVENT_HEADER: "ModelCompletion"}, {}, b"{}", None) == Acknowledge(
        "ModelCompletion"
    )


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        ({}, b"{}", "header is missing"),
        ({EVENT_HEADER: "TranscriptionExploded"}, b"{}", "unknown event 'TranscriptionExploded'"),
        ({EVENT_HEADER: "TranscriptionCompletion"}, b"", "body is empty"),
        ({EVENT_HEADER: "TranscriptionCompletion"}, b"{not json", "not valid JSON"),
        ({EVENT_HEADER: "TranscriptionCompletion"}, b"\xff\xfe", "not UTF-8"),
        ({EVENT_HEADER: "TranscriptionCompletion"}, b"[1, 2]", "must be a JSON object, got list"),
        ({EVENT_HEADER: "TranscriptionCompletion"}, b'{"status": "Succeeded"}', "has no 'self'"),
        ({EVENT_HEADER: "TranscriptionCompletion"}, b'{"self": 42}', "'self' must be a string"),
        (
            {EVENT_HEADER: "TranscriptionCompletion"},
            b'{"self": "https://h/speechtotext/transcriptions/not-a-uuid"}',
            "'self' is not the URL of a transcription",
        ),
        (
            {EVENT_HEADER: "TranscriptionCompletion"},
            json.dumps({"self": f"https://h/speechtotext/models/{JOB}"}).encode(),
            "'self' is not the URL of a transcription",
        ),
    ],
)
def test_malformed_requests_get_a_400_naming_the_problem(headers, body, message):
    result = refusal(classify("POST", headers, {}, body, None))
    assert result.status == 400
    assert message in result.message


def test_get_is_only_for_the_challenge():
    result = refusal(classify("GET", {EVENT_HEADER: "TranscriptionCompletion"}, {}, b"", None))
    assert result.status == 400
    assert "challenge" in result.message


def test_other_methods_are_refused():
    assert refusal(classify("DELETE", {}, {}, b"", None)).status == 405


def test_self_with_sas_is_redacted_in_the_message():
    body = json.dumps({"self": "https://h/container/blob?sv=1&sig=SECRETSIG"}).encode()
    result = refusal(classify("POST", {EVENT_HEADER: "TranscriptionCompletion"}, {}, body, None))
    assert "SECRETSIG" not in result.message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"https://h/speechtotext/v3.2/transcriptions/{JOB}", JOB),
        (f"https://h/speechtotext/transcriptions/{JOB}?api-version=2025-10-15", JOB),
        (f"https://h/speechtotext/transcriptions/{JOB.upper()}", None),
        (f"https://h/speechtotext/transcriptions/%7B{JOB}%7D", None),
        (f"https://h/speechtotext/transcriptions/urn:uuid:{JOB}", None),
        (f"https://h/speechtotext/transcriptions/{JOB}%0A", None),
        ("https://h/speechtotext/transcriptions/..", None),
        (f"https://h/speechtotext/transcriptions/{JOB}/", JOB),
        (f"https://h/speechtotext/transcriptions/{JOB}/files", None),
        (f"/speechtotext/transcriptions/{JOB}", None),
        (f"ftp://h/transcriptions/{JOB}", None),
    ],
)
def test_transcription_id_of(url, expected):
    assert transcription_id_of(url) == expected
