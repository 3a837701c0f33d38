import json

import pytest

from shared.queueing import BadMessageError, HarvestRequest, RequestReason, parse_request
from shared.states import JobKind

JOB = "5cff1d03-118f-4c4c-b3ba-e1f1cd88c14d"


def test_round_trip():
    request = HarvestRequest(id=JOB, reason=RequestReason.WEBHOOK)
    parsed = parse_request(request.model_dump_json().encode())
    assert parsed == request


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object, got list"),
        (json.dumps({"kind": "transcription"}).encode(), "id: Field required"),
        (json.dumps({"id": JOB, "surprise": 1}).encode(), "surprise: Extra inputs are not permitted"),
        (json.dumps({"id": "../../etc"}).encode(), "must be a UUID"),
        (json.dumps({"id": JOB, "kind": "video"}).encode(), "kind: Input should be"),
    ],
)
def test_bad_messages_are_named(body, problem):
    with pytest.raises(BadMessageError, match=problem.replace("(", r"\(")):
        parse_request(body)


def test_conversation_request():
    parsed = parse_request(json.dumps({"kind": "conversation", "id": "conv-42"}).encode())
    assert parsed.kind is JobKind.CONVERSATION
