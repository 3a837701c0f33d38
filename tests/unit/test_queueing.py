import json

import pytest

from shared.queueing import (
    MAX_MESSAGE,
    BadMessageError,
    HarvestRequest,
    PoisonEnvelope,
    RequestReason,
    parse_request,
    poisoned_request,
)
from shared.states import JobKind

JOB = "5cff1d03-118f-4c4c-b3ba-e1f1cd88c14d"
OTHER = "00000000-118f-4c4c-b3ba-e1f1cd88c14d"


def test_round_trip():
    request = HarvestRequest(id=JOB, reason=RequestReason.WEBHOOK)
    parsed = parse_request(request.model_dump_json().encode())
    assert parsed == request


def test_a_carried_entity_round_trips():
    entity = {"self": f"https://x/speechtotext/transcriptions/{JOB.upper()}?api-version=2024-11-15"}
    request = HarvestRequest(id=JOB, entity={**entity, "status": "Succeeded"})
    assert parse_request(request.model_dump_json().encode()).entity == {**entity, "status": "Succeeded"}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object, got list"),
        (json.dumps({"kind": "transcription"}).encode(), "id: Field required"),
        (json.dumps({"id": JOB, "surprise": 1}).encode(), "surprise: Extra inputs are not permitted"),
        (json.dumps({"id": "../../etc"}).encode(), "must be a canonical UUID"),
        (json.dumps({"id": JOB.upper()}).encode(), "must be a canonical UUID"),
        (json.dumps({"id": "{" + JOB + "}"}).encode(), "must be a canonical UUID"),
        (json.dumps({"id": "urn:uuid:" + JOB}).encode(), "must be a canonical UUID"),
        (json.dumps({"id": JOB + "\n"}).encode(), "must be a canonical UUID"),
        (json.dumps({"kind": "conversation", "id": "conv-42\n"}).encode(), "conversation id must be"),
        (json.dumps({"id": JOB, "kind": "video"}).encode(), "kind: Input should be"),
        (
            json.dumps({"id": JOB, "entity": {"self": f"https://x/transcriptions/{OTHER}"}}).encode(),
            "entity: not",
        ),
        (
            json.dumps({"id": JOB, "entity": {"status": "Succeeded"}}).encode(),
            "entity: not the transcription",
        ),
        (
            json.dumps({"kind": "conversation", "id": "c-1", "entity": {"self": "https://x/c-1"}}).encode(),
            "entity: only a transcription",
        ),
    ],
)
def test_bad_messages_are_named(body, problem):
    with pytest.raises(BadMessageError, match=problem.replace("(", r"\(")):
        parse_request(body)


def test_conversation_request():
    parsed = parse_request(json.dumps({"kind": "conversation", "id": "conv-42"}).encode())
    assert parsed.kind is JobKind.CONVERSATION


def test_poison_envelope_is_camel_case_and_keeps_the_body():
    body = HarvestRequest(id=JOB).model_dump_json().encode()
    envelope = json.loads(PoisonEnvelope.wrap(body, "why", dequeue_count=3).to_json())
    assert {"schemaVersion", "reason", "body", "bodyEncoding", "poisonedAt", "dequeueCount"} <= set(envelope)
    assert not any("_" in name for name in envelope)
    assert (envelope["body"], envelope["bodyTruncated"], envelope["dequeueCount"]) == (
        body.decode(),
        False,
        3,
    )
    assert poisoned_request(json.dumps(envelope)).id == JOB


def test_envelopes_written_before_schema_1_0_are_still_replayed():
    body = HarvestRequest(id=JOB).model_dump_json()
    old = {"reason": "r", "body": body, "body_encoding": "utf-8", "poisoned_at": "2026-01-01T00:00:00Z"}
    assert poisoned_request(json.dumps(old)).id == JOB


def test_a_cut_body_is_never_replayed():
    envelope = PoisonEnvelope.wrap(b"x" * 100_000, "too big")
    assert envelope.body_truncated
    assert envelope.encoded_size() <= MAX_MESSAGE
    with pytest.raises(BadMessageError, match="cut to fit"):
        poisoned_request(envelope.to_json())


def test_requests_are_camel_case_and_old_ones_still_read():
    written = json.loads(HarvestRequest(id=JOB).model_dump_json())
    assert set(written) == {"kind", "id", "reason", "requestedAt", "traceparent", "entity"}
    old = {"kind": "transcription", "id": JOB, "reason": "poll", "requested_at": "2026-01-01T00:00:00Z"}
    assert parse_request(json.dumps(old).encode()).requested_at.year == 2026
