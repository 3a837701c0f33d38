"""Small pure rules of the queue listener, the HTTP converter and function keys."""

import azure.functions as func
import pytest

from local.host.http import to_response
from local.host.keys import FunctionKey, authorised, presented_key, resolve_key
from local.host.queues import PollingBackoff, decode_body


def test_base64_bodies_decode_and_invalid_ones_are_refused():
    assert decode_body("aGVsbG8=", "base64") == b"hello"
    assert decode_body("aGVs\r\nbG8=", "base64") == b"hello"  # whitespace is ignored, as in .NET
    assert decode_body("not base64!", "base64") is None
    assert decode_body("aGVsbG8", "base64") is None  # missing padding
    assert decode_body("not base64!", "none") == b"not base64!"


def test_polling_backs_off_while_empty_and_resets_when_messages_arrive():
    backoff = PollingBackoff(maximum=2.0)
    assert [backoff.after(found=False) for _ in range(6)] == [0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    assert backoff.after(found=True) == 0.1
    assert backoff.after(found=False) == 0.2


def test_http_response_conversion_follows_the_worker():
    response = to_response(func.HttpResponse("hi", status_code=202, headers={"x-a": "1"}))
    assert response.status_code == 202
    assert response.body == b"hi"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-a"] == "1"
    binary = to_response(func.HttpResponse(b"\x00", mimetype="application/octet-stream"))
    assert binary.headers["content-type"] == "application/octet-stream"
    assert to_response("plain").body == b"plain"
    with pytest.raises(TypeError, match="NoneType"):
        to_response(None)


def test_function_key_from_setting_or_generated():
    assert resolve_key({"LOCAL_HOST_FUNCTION_KEY": "k"}) == FunctionKey("k", generated=False)
    generated = resolve_key({})
    assert generated.generated
    assert len(generated.value) >= 32
    assert resolve_key({}).value != generated.value


def test_key_is_taken_from_header_or_code_parameter():
    key = FunctionKey("secret", generated=False)
    assert authorised(presented_key({"code": "secret"}, {}), key)
    assert authorised(presented_key({}, {"x-functions-key": "secret"}), key)
    assert not authorised(presented_key({"code": "wrong"}, {}), key)
    assert not authorised(presented_key({}, {}), key)
