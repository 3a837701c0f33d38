import json
from pathlib import Path

import pytest

from shared.failures import Failure, classify
from shared.speech.errors import (
    AuthenticationError,
    ErrorBody,
    InvalidRequestError,
    NotFoundError,
    ServiceError,
    SpeechError,
    SpeechTransportError,
    ThrottledError,
    error_class,
    error_from_response,
    parse_error_body,
)

REAL_ERROR = (Path(__file__).parent / "data" / "error_invalid_request.json").read_bytes()


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (404, None, NotFoundError),
        (404, "InvalidRequest", NotFoundError),
        (401, None, AuthenticationError),
        (403, "Forbidden", AuthenticationError),
        (429, None, ThrottledError),
        (400, "TooManyRequests", ThrottledError),
        (500, "InternalServerError", ServiceError),
        (503, None, ServiceError),
        (408, None, ServiceError),
        (400, "InvalidRequest", InvalidRequestError),
        (409, "Conflict", InvalidRequestError),
        (415, None, InvalidRequestError),
        (400, "NotFound", NotFoundError),
        (400, "Unauthorized", AuthenticationError),
        (302, None, SpeechError),
    ],
)
def test_error_class(status, code, expected):
    assert error_class(status, code) is expected


def test_real_error_body_with_explicit_nulls():
    body = parse_error_body(REAL_ERROR)
    assert isinstance(body, ErrorBody)
    assert body.code == "InvalidRequest"
    assert body.details is None
    assert body.target is None
    assert body.inner_error is not None
    assert body.inner_error.code == "InvalidPayload"
    assert body.inner_error.inner_error is None
    assert body.wire == json.loads(REAL_ERROR)


def test_error_from_response_for_the_real_body():
    err = error_from_response(
        400, REAL_ERROR, {"apim-request-id": "rid-1", "Content-Type": "application/json"}
    )
    assert type(err) is InvalidRequestError
    assert (err.status, err.code, err.inner_code, err.request_id) == (
        400,
        "InvalidRequest",
        "InvalidPayload",
        "rid-1",
    )
    assert err.message.startswith("The property transcription.properties.DestinationContainerUrl")
    assert classify(err) is Failure.PERMANENT
    assert str(err).startswith("HTTP 400 InvalidRequest/InvalidPayload: The property")
    assert str(err).endswith("(request id rid-1)")


def test_error_from_response_accepts_the_azure_envelope_and_nested_details():
    content = json.dumps(
        {"error": {"code": "NotFound", "message": "gone", "details": [{"code": "X", "details": None}]}}
    ).encode()
    err = error_from_response(404, content, {"X-MS-Request-Id": "r2"})
    assert type(err) is NotFoundError
    assert (err.code, err.message, err.request_id) == ("NotFound", "gone", "r2")


def test_throttled_error_carries_retry_after():
    err = error_from_response(429, b'{"code":"TooManyRequests","message":"slow down"}', {}, retry_after=7.0)
    assert isinstance(err, ThrottledError)
    assert err.retry_after == 7.0
    assert classify(err) is Failure.TRANSIENT


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>"), (b"", "(empty body)"), (b"[1]", "[1]")],
)
def test_error_from_response_without_an_error_object(content, message):
    err = error_from_response(502, content, {})
    assert type(err) is ServiceError
    assert err.code is None
    assert err.message == message


def test_error_messages_are_redacted_and_bounded():
    key = "secret-key-value-123"
    text = f"key {key} and https://a.blob.core.windows.net/c/x?sv=1&sig=SECRETSIG%3D&se=2 " + "x" * 1000
    content = json.dumps({"code": "InvalidRequest", "message": text}).encode()
    err = error_from_response(400, content, {}, secrets=[key])
    assert key not in str(err)
    assert "SECRETSIG" not in str(err)
    assert "sig=REDACTED" in err.message
    assert len(err.message) == 500


def test_transport_error_has_no_status():
    err = SpeechTransportError("GET https://h/p failed: ReadTimeout")
    assert err.status == 0
    assert classify(err) is Failure.TRANSIENT
    assert str(err) == "GET https://h/p failed: ReadTimeout"
