"""SpeechClient and ConversationClient over real HTTP: what is sent per API version, what comes back."""

import json
from pathlib import Path

import pytest
import requests
from azure.core.credentials import AccessToken

from shared.speech import (
    ApiVersion,
    ConversationClient,
    NotFoundError,
    ProcessingStatus,
    SpeechClient,
    Status,
    TranscriptionDefinition,
    UnexpectedResponseError,
    WebHookDefinition,
    WebHookEvents,
    WebHookUpdate,
    conversation_endpoint,
    region_from_endpoint,
)
from tests.speech.scripted_server import Reply, ScriptedServer

DATA = Path(__file__).parent / "data"
TRANSCRIPTION = json.loads((DATA / "transcription_2024-11-15.json").read_text())
FILES = json.loads((DATA / "files_2024-11-15.json").read_text())
TID = "5cff1d03-118f-4c4c-b3ba-e1f1cd88c14d"
HOOK = {"self": "http://svc/speechtotext/webhooks/hook-1", "displayName": "h", "status": "Succeeded"}


def speech(
    server: ScriptedServer, key: str, version: ApiVersion | str = ApiVersion.V2024_11_15
) -> SpeechClient:
    return SpeechClient(server.url + "/", api_version=version, key=key, sleep=pytest.fail)


def v(version: ApiVersion, path: str, query: str = "") -> str:
    """The request target the service expects for `path` under `version`."""
    if version is ApiVersion.V3_2:
        return f"/speechtotext/v3.2/{path}" + (f"?{query}" if query else "")
    return f"/speechtotext/{path}?" + (f"{query}&" if query else "") + f"api-version={version.value}"


ALL_VERSIONS = list(ApiVersion)


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_transcription_operations_address_each_version(server: ScriptedServer, key, version):
    client = speech(server, key, version)
    server.script(
        Reply(json=TRANSCRIPTION),  # get
        Reply(json={"values": []}),  # list
        Reply(json=FILES),  # list files
        Reply(json=FILES["values"][0]),  # get file
        Reply(json=TRANSCRIPTION),  # update
        Reply(204),  # delete
        Reply(404, {"code": "NotFound", "message": "gone"}),  # delete again
    )
    client.get_transcription(TID)
    list(client.list_transcriptions(filter="status eq 'Succeeded'", top=50, skip=10))
    list(client.list_files(TID, sas_validity_seconds=90, filter="kind eq 'Transcription'"))
    client.get_file(TID, "file-1", sas_validity_seconds=3600)
    client.update_transcription(TID, display_name="renamed", custom_properties={"a": "b"})
    client.delete_transcription(TID)
    client.delete_transcription(TID)

    sas = "sasValidityInSeconds=90" if version is ApiVersion.V3_2 else "sasLifetimeMinutes=2"
    sas_hour = "sasValidityInSeconds=3600" if version is ApiVersion.V3_2 else "sasLifetimeMinutes=60"
    assert [(r.method, r.target) for r in server.received] == [
        ("GET", v(version, f"transcriptions/{TID}")),
        ("GET", v(version, "transcriptions", "filter=status%20eq%20%27Succeeded%27&top=50&skip=10")),
        ("GET", v(version, f"transcriptions/{TID}/files", f"{sas}&filter=kind%20eq%20%27Transcription%27")),
        ("GET", v(version, f"transcriptions/{TID}/files/file-1", sas_hour)),
        ("PATCH", v(version, f"transcriptions/{TID}")),
        ("DELETE", v(version, f"transcriptions/{TID}")),
        ("DELETE", v(version, f"transcriptions/{TID}")),
    ]
    patch = server.received[4]
    assert json.loads(patch.body) == {"displayName": "renamed", "customProperties": {"a": "b"}}
    assert patch.headers["content-type"] == "application/json"
    assert all(r.headers["ocp-apim-subscription-key"] == key for r in server.received)
    assert all(r.headers["accept"] == "application/json" for r in server.received)
    assert client.calls == 7


@pytest.mark.parametrize(
    ("version", "path"),
    [
        (ApiVersion.V3_2, "/speechtotext/v3.2/transcriptions"),
        (ApiVersion.V2024_11_15, "/speechtotext/transcriptions:submit?api-version=2024-11-15"),
        (ApiVersion.V2025_10_15, "/speechtotext/transcriptions:submit?api-version=2025-10-15"),
    ],
)
def test_submit_per_version(server: ScriptedServer, key, version, path):
    definition = TranscriptionDefinition.for_version(
        version, locale="en-US", display_name="job", content_urls=["https://a/x.wav?sig=s"]
    )
    server.script(Reply(201, TRANSCRIPTION, {"Location": TRANSCRIPTION["self"]}))
    job = speech(server, key, version).submit_transcription(definition)
    assert job.id == TID
    assert job.wire == TRANSCRIPTION
    (request,) = server.received
    assert (request.method, request.target) == ("POST", path)
    assert json.loads(request.body) == definition.to_body()


def test_submit_refuses_a_body_shaped_for_another_version(server: ScriptedServer, key):
    definition = TranscriptionDefinition.for_version(
        ApiVersion.V3_2, locale="en-US", display_name="job", content_urls=["https://a/x.wav"]
    )
    with pytest.raises(ValueError, match="timeToLive was removed"):
        speech(server, key, ApiVersion.V2024_11_15).submit_transcription(definition)
    assert server.received == []


def test_update_needs_something_to_update(server: ScriptedServer, key):
    with pytest.raises(ValueError, match="nothing to update"):
        speech(server, key).update_transcription(TID)


def test_get_returns_the_model_with_the_received_json(server: ScriptedServer, key):
    server.script(Reply(json=TRANSCRIPTION))
    job = speech(server, key).get_transcription(TID)
    assert job.status is Status.SUCCEEDED
    assert job.duration_seconds == 3.0
    assert job.wire == TRANSCRIPTION
    assert list(job.wire) == list(TRANSCRIPTION)  # key order as received


def test_paging_follows_next_link_as_is(server: ScriptedServer, key):
    next_link = (
        f"{server.url}/speechtotext/transcriptions?skip=2&top=2&filter=x%20eq%201&api-version=2024-11-15"
    )
    first = {
        "values": [TRANSCRIPTION, {**TRANSCRIPTION, "self": "http://svc/t/second"}],
        "@nextLink": next_link,
    }
    last = {"values": [{**TRANSCRIPTION, "self": "http://svc/t/third", "newField": 1}], "@nextLink": None}
    server.script(Reply(json=first), Reply(json=last))
    client = speech(server, key)
    jobs = list(client.list_transcriptions(filter="x eq 1", top=2))
    assert [j.id for j in jobs] == [TID, "second", "third"]
    assert jobs[2].wire["newField"] == 1
    assert [r.target for r in server.received] == [
        "/speechtotext/transcriptions?filter=x%20eq%201&top=2&api-version=2024-11-15",
        "/speechtotext/transcriptions?skip=2&top=2&filter=x%20eq%201&api-version=2024-11-15",
    ]
    assert client.calls == 2


def test_paging_is_lazy_and_resumable_by_page(server: ScriptedServer, key):
    next_link = f"{server.url}/speechtotext/transcriptions?skip=1&api-version=2024-11-15"
    server.script(default=Reply(json={"values": [TRANSCRIPTION], "@nextLink": next_link}))
    client = speech(server, key)
    pager = client.list_transcriptions()
    assert client.calls == 0
    pages = pager.by_page(continuation_token=next_link)
    assert [t.id for t in next(pages)] == [TID]
    assert [r.target for r in server.received] == [
        "/speechtotext/transcriptions?skip=1&api-version=2024-11-15"
    ]
    assert pages.continuation_token == next_link


def test_next_link_to_another_host_is_not_given_the_key(server: ScriptedServer, key):
    foreign = "https://attacker.example/speechtotext/transcriptions?skip=1&api-version=2024-11-15"
    server.script(Reply(json={"values": [], "@nextLink": foreign}), Reply(json={"values": []}))
    assert list(speech(server, key).list_transcriptions()) == []
    assert server.received[1].target == "/speechtotext/transcriptions?skip=1&api-version=2024-11-15"
    assert server.received[1].headers["host"] == f"127.0.0.1:{server.port}"


def test_files_keep_their_wire_form(server: ScriptedServer, key):
    server.script(Reply(json=FILES))
    files = list(speech(server, key).list_files(TID))
    assert [f.wire for f in files] == FILES["values"]
    assert files[2].kind == "TranscriptionReport"


def test_missing_transcription_is_not_found(server: ScriptedServer, key):
    server.script(Reply(404, {"code": "NotFound", "message": "Entity not found."}))
    with pytest.raises(NotFoundError) as caught:
        speech(server, key).get_transcription(TID)
    assert caught.value.code == "NotFound"


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ([TRANSCRIPTION], "expected a JSON object"),
        (
            {
                "self": "http://svc/t/1",
                "createdDateTime": "not a date",
                "contentUrls": ["https://a/x?sig=LEAK"],
            },
            "Transcription",
        ),
    ],
)
def test_unexpected_shapes_raise_redacted_typed_errors(server: ScriptedServer, key, payload, match):
    server.script(Reply(json=payload))
    with pytest.raises(UnexpectedResponseError, match=match) as caught:
        speech(server, key).get_transcription(TID)
    assert "LEAK" not in str(caught.value)


def test_unexpected_page_shape(server: ScriptedServer, key):
    server.script(Reply(json=[1, 2]))
    with pytest.raises(UnexpectedResponseError, match="page object"):
        list(speech(server, key).list_transcriptions())


@pytest.mark.parametrize(
    ("version", "body", "expected"),
    [
        (ApiVersion.V3_2, ["en-US", "de-DE"], ["en-US", "de-DE"]),
        (ApiVersion.V2024_11_15, {"Transcribe": ["en-US"], "Submit": ["en-US", "fr-FR"]}, ["en-US", "fr-FR"]),
    ],
)
def test_list_locales(server: ScriptedServer, key, version, body, expected):
    server.script(Reply(json=body))
    assert speech(server, key, version).list_locales() == expected
    assert server.received[0].target == v(version, "transcriptions/locales")


def test_list_locales_rejects_other_shapes(server: ScriptedServer, key):
    server.script(Reply(json={"Transcribe": ["en-US"]}))
    with pytest.raises(UnexpectedResponseError, match="locales"):
        speech(server, key).list_locales()


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_webhook_operations(server: ScriptedServer, key, version):
    client = speech(server, key, version)
    server.script(
        Reply(json={"values": [HOOK]}),
        Reply(201, HOOK),
        Reply(json=HOOK),
        Reply(json=HOOK),
        Reply(204),
        Reply(202),
        Reply(204),
    )
    assert [h.id for h in client.list_webhooks()] == ["hook-1"]
    events = WebHookEvents(transcription_completion=True)
    created = client.create_webhook(
        WebHookDefinition(display_name="h", web_url="https://x/hook", events=events)
    )
    assert created.wire == HOOK
    assert client.get_webhook("hook-1").status is Status.SUCCEEDED
    client.update_webhook("hook-1", WebHookUpdate(display_name="h2"))
    client.delete_webhook("hook-1")
    client.ping_webhook("hook-1")
    client.test_webhook("hook-1")
    assert [(r.method, r.target) for r in server.received] == [
        ("GET", v(version, "webhooks")),
        ("POST", v(version, "webhooks")),
        ("GET", v(version, "webhooks/hook-1")),
        ("PATCH", v(version, "webhooks/hook-1")),
        ("DELETE", v(version, "webhooks/hook-1")),
        ("POST", v(version, "webhooks/hook-1:ping")),
        ("POST", v(version, "webhooks/hook-1:test")),
    ]
    assert json.loads(server.received[1].body) == {
        "displayName": "h",
        "webUrl": "https://x/hook",
        "events": {"transcriptionCompletion": True},
    }
    assert json.loads(server.received[3].body) == {"displayName": "h2"}


class StaticCredential:
    def __init__(self) -> None:
        self.requests = 0

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        self.requests += 1
        return AccessToken("entra-token", 4_102_444_800)  # year 2100


def test_token_credential_sends_a_cached_bearer_token(server: ScriptedServer):
    credential = StaticCredential()
    client = SpeechClient(server.url, credential=credential, sleep=pytest.fail)
    server.script(default=Reply(json=TRANSCRIPTION))
    for _ in range(3):
        client.get_transcription(TID)
    assert credential.requests == 1
    assert [r.headers["authorization"] for r in server.received] == ["Bearer entra-token"] * 3
    assert all("ocp-apim-subscription-key" not in r.headers for r in server.received)


def test_client_needs_a_key_or_credential(server: ScriptedServer):
    with pytest.raises(ValueError, match="key or a TokenCredential"):
        SpeechClient(server.url)


def test_client_closes_only_its_own_session(server: ScriptedServer, key):
    session = requests.Session()
    with SpeechClient(server.url, key=key, session=session) as client:
        server.script(Reply(json=TRANSCRIPTION))
        client.get_transcription(TID)
    assert session.adapters  # still usable: the caller owns it
    server.script(Reply(json={}))
    assert session.get(server.url + "/x", timeout=5).status_code == 200


# -- conversation transcription --------------------------------------------------------------------------


def test_conversation_get_and_delete(server: ScriptedServer, key):
    task = {
        "id": "conv 1",
        "processingStatus": "Completed",
        "transcriptions": [
            {
                "userId": "u1",
                "resultId": "r1",
                "reason": "RecognizedSpeech",
                "text": "Hi.",
                "durationInTicks": 5000000,
                "offsetInTicks": 0,
            }
        ],
    }
    server.script(Reply(json=task), Reply(200), Reply(404, {"code": "NotFound", "message": "no"}))
    client = ConversationClient(server.url + "/api/v1/", key=key, sleep=pytest.fail)
    got = client.get("conv 1")
    assert got.processing_status is ProcessingStatus.COMPLETED
    assert got.wire == task
    client.delete("conv 1")
    client.delete("conv 1")
    assert [(r.method, r.target) for r in server.received] == [
        ("GET", "/api/v1/offlinetask?id=conv%201"),
        ("DELETE", "/api/v1/offlinetask?id=conv%201"),
        ("DELETE", "/api/v1/offlinetask?id=conv%201"),
    ]
    assert server.received[0].headers["ocp-apim-subscription-key"] == key
    assert client.calls == 3


def test_conversation_unknown_id_is_not_found(server: ScriptedServer, key):
    server.script(Reply(404, {"code": "NotFound", "message": "unknown"}))
    with pytest.raises(NotFoundError):
        ConversationClient(server.url + "/api/v1", key=key, sleep=pytest.fail).get("nope")
    assert server.received[0].target == "/api/v1/offlinetask?id=nope"


def test_conversation_endpoint_and_region():
    assert conversation_endpoint("westus") == "https://transcribe.westus.cts.speech.microsoft.com/api/v1/"
    assert region_from_endpoint("https://westus.api.cognitive.microsoft.com") == "westus"
    assert (
        region_from_endpoint("https://WestEurope.api.cognitive.microsoft.com/speechtotext/v3.2/")
        == "westeurope"
    )
    assert region_from_endpoint("https://usgovarizona.api.cognitive.microsoft.us") == "usgovarizona"
    assert region_from_endpoint("https://chinaeast2.api.cognitive.azure.cn") == "chinaeast2"
    assert region_from_endpoint("https://my-speech.cognitiveservices.azure.com/") is None
    assert region_from_endpoint("http://127.0.0.1:8080") is None
    assert region_from_endpoint("not a url") is None
