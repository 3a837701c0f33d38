"""The conversation transcription endpoint (`offlinetask`) over real HTTP: lifecycle, results, errors, faults."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from local.speech_emulator import EmulatorServer
from tests.fixtures.emulator import EMULATOR_KEY
from tests.fixtures.waiting import wait_for

TIMEOUT = 10
TICKS_PER_SECOND = 10_000_000


class Conversations:
    """Raw calls to {endpoint}/conversations/api/v1/offlinetask, as CONVERSATION_ENDPOINT would be set."""

    def __init__(self, endpoint: str, headers: dict[str, str] | None = None) -> None:
        self.base = f"{endpoint}/conversations/api/v1/"
        self.session = requests.Session()
        self.session.headers.update(
            {"Ocp-Apim-Subscription-Key": EMULATOR_KEY} if headers is None else headers
        )

    def call(self, method: str, conversation_id: str | None) -> requests.Response:
        params = {} if conversation_id is None else {"id": conversation_id}
        return self.session.request(method, self.base + "offlinetask", params=params, timeout=TIMEOUT)

    def get(self, conversation_id: str) -> dict[str, Any]:
        response = self.call("GET", conversation_id)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def conversations(fresh_emulator: EmulatorServer) -> Conversations:
    return Conversations(fresh_emulator.endpoint)


def new_id(label: str = "meeting") -> str:
    return f"{label}-{uuid.uuid4()}"


def test_a_conversation_moves_from_uploading_to_completed(conversations, fresh_emulator):
    conversation = new_id()
    fresh_emulator.admin.create_conversation(conversation, utterances=5)
    seen: list[str] = []

    def completed() -> bool:
        status = conversations.get(conversation)["processingStatus"]
        if not seen or seen[-1] != status:
            seen.append(status)
        return status == "Completed"

    wait_for(completed, timeout=10, what="the conversation to complete")

    assert seen[-1] == "Completed"
    assert seen == [
        s for s in ("Uploading", "Processing", "Completed") if s in seen
    ]  # in order, none skipped back
    body = conversations.get(conversation)
    assert body["id"] == conversation
    utterances = body["transcriptions"]
    assert len(utterances) == 5
    for utterance in utterances:
        assert set(utterance) == {"userId", "resultId", "reason", "text", "durationInTicks", "offsetInTicks"}
        assert utterance["reason"] == "RecognizedSpeech"
        assert utterance["text"]
        assert isinstance(utterance["durationInTicks"], int)
        assert 0 < utterance["durationInTicks"] < 4 * TICKS_PER_SECOND
    speakers = [utterance["userId"] for utterance in utterances]
    assert speakers[:2] == ["user-1", "user-2"]  # participants take turns
    assert set(speakers) <= {"user-1", "user-2", "user-3"}
    offsets = [utterance["offsetInTicks"] for utterance in utterances]
    assert offsets == sorted(offsets)
    assert len({utterance["resultId"] for utterance in utterances}) == 5


def test_results_are_deterministic_per_id(conversations, fresh_emulator):
    conversation = new_id()
    fresh_emulator.admin.create_conversation(conversation, status="Completed")
    first = conversations.get(conversation)

    fresh_emulator.admin.reset()
    fresh_emulator.admin.create_conversation(conversation, status="Completed")
    other = new_id()
    fresh_emulator.admin.create_conversation(other, status="Completed")

    assert conversations.get(conversation) == first
    assert len(first["transcriptions"]) == 4  # the default
    assert conversations.get(other)["transcriptions"] != first["transcriptions"]


@pytest.mark.parametrize("status", ["Uploading", "Processing", "Failed", "Deleted"])
def test_pinned_conversations_keep_their_status_and_have_no_transcriptions(
    conversations, fresh_emulator, status
):
    conversation = new_id()
    fresh_emulator.admin.create_conversation(conversation, status=status)

    assert conversations.get(conversation) == {"id": conversation, "processingStatus": status}


def test_an_id_containing_fail_ends_failed(conversations, fresh_emulator):
    conversation = new_id("will-fail")
    fresh_emulator.admin.create_conversation(conversation)

    body = wait_for(
        lambda: (b := conversations.get(conversation))["processingStatus"] == "Failed" and b,
        timeout=10,
        what="the conversation to fail",
    )

    assert "transcriptions" not in body


def test_delete_leaves_the_conversation_deleted(conversations, fresh_emulator):
    conversation = new_id()
    fresh_emulator.admin.create_conversation(conversation, status="Completed")

    deleted = conversations.call("DELETE", conversation)

    assert deleted.status_code == 200
    assert conversations.get(conversation) == {"id": conversation, "processingStatus": "Deleted"}
    assert conversations.call("DELETE", conversation).status_code == 200


def test_unknown_and_missing_ids(conversations):
    unknown_get = conversations.call("GET", "never-created")
    unknown_delete = conversations.call("DELETE", "never-created")
    missing = conversations.call("GET", None)
    blank = conversations.call("GET", "  ")

    assert unknown_get.status_code == 404
    assert unknown_get.json()["code"] == "NotFound"
    assert unknown_delete.status_code == 404
    assert missing.status_code == 400
    assert missing.json()["code"] == "InvalidRequest"
    assert blank.status_code == 400


def test_authentication_uses_the_speech_keys_or_a_token(fresh_emulator):
    conversation = new_id()
    fresh_emulator.admin.create_conversation(conversation, status="Processing")
    anonymous = Conversations(fresh_emulator.endpoint, headers={})
    wrong_key = Conversations(fresh_emulator.endpoint, headers={"Ocp-Apim-Subscription-Key": "nope"})
    bearer = Conversations(fresh_emulator.endpoint, headers={"Authorization": "Bearer some-entra-token"})

    assert anonymous.call("GET", conversation).status_code == 401
    assert wrong_key.call("GET", conversation).status_code == 401
    assert anonymous.call("GET", None).status_code == 401  # authentication comes first
    assert bearer.get(conversation)["processingStatus"] == "Processing"


def test_calls_are_counted_and_faults_can_target_them(conversations, fresh_emulator):
    conversation = new_id()
    fresh_emulator.admin.create_conversation(conversation, status="Completed")
    fresh_emulator.admin.reset_stats()
    fresh_emulator.admin.add_fault("GET /offlinetask", "503", count=1, retry_after=3)

    throttled = conversations.call("GET", conversation)
    conversations.get(conversation)
    conversations.call("DELETE", conversation)

    assert throttled.status_code == 503
    assert throttled.headers["Retry-After"] == "3"
    stats = fresh_emulator.admin.stats()
    assert stats.routes == {"GET /offlinetask": 2, "DELETE /offlinetask": 1}
    assert stats.statuses == {"503": 1, "200": 2}


def test_the_admin_api_validates_conversations(fresh_emulator):
    url = fresh_emulator.endpoint + "/_emulator/conversations"

    unknown_status = requests.post(url, json={"id": new_id(), "status": "Done"}, timeout=TIMEOUT)
    no_id = requests.post(url, json={"utterances": 2}, timeout=TIMEOUT)
    created = requests.post(url, json={"id": new_id(), "utterances": 2}, timeout=TIMEOUT)

    assert unknown_status.status_code == 400
    assert no_id.status_code == 400
    assert created.status_code == 201
