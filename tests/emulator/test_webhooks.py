"""Web hooks over real HTTP, per API version: the operations, the challenge, signed callbacks, retries.

Callbacks go to a small Starlette receiver on uvicorn in a background thread (module-scoped). Every hook gets
its own receiver path and behaviour: answer challenges with the token or wrongly, fail the first N callbacks.
The emulator's delivery worker sends callbacks one at a time in order, so a test that must show something was
NOT sent waits for a later callback (a marker) instead of waiting for time to pass.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from local.azurite import Azurite
from local.speech_emulator import EmulatorConfig, EmulatorServer
from local.speech_emulator.lifecycle import JobState, Schedule, Status, milestones, state_at
from local.speech_emulator.notifier import challenge_url
from local.speech_emulator.webhook_delivery import redact
from tests.emulator.api import VERSIONS, SpeechApi, job_id
from tests.fixtures.emulator import WEBHOOK_RETRIES
from tests.fixtures.waiting import wait_for

EVENT_HEADER = "x-microsoftspeechservices-event"
SIGNATURE_HEADER = "x-microsoftspeechservices-signature"
WRONG_ANSWER = "not-the-token"
TRANSCRIPTION_EVENTS = (
    "transcriptionCreation",
    "transcriptionProcessing",
    "transcriptionCompletion",
    "transcriptionDeletion",
)
API_VERSION_PROPERTY = {"v3.2": "v3.2", "2024-11-15": "v2024-11-15", "2025-10-15": "2025-10-15"}
MISSING = "00000000-0000-0000-0000-000000000000"


# ---------------------------------------------------------------- the receiver


@dataclass(frozen=True)
class Received:
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def event(self) -> str | None:
        return self.headers.get(EVENT_HEADER)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Behaviour:
    echo: bool
    failures: int
    received: list[Received] = field(default_factory=list)


class Receiver:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._behaviours: dict[str, Behaviour] = {}
        app = Starlette(routes=[Route("/hooks/{name}", self._receive, methods=["POST"])])
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self.base = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(
            uvicorn.Config(app, http="h11", lifespan="off", log_config=None, log_level="warning")
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="webhook-receiver", daemon=True
        )

    def start(self) -> Receiver:
        self._thread.start()
        wait_for(lambda: self._server.started, timeout=10, what="the web hook receiver")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(5)
        self._socket.close()

    def hook(self, *, echo: bool = True, failures: int = 0, query: str = "") -> ReceiverHook:
        """A fresh path; `query` is appended to its URL (a receiver's own parameters, like a function key)."""
        name = uuid.uuid4().hex
        behaviour = Behaviour(echo=echo, failures=failures)
        with self.lock:
            self._behaviours[name] = behaviour
        return ReceiverHook(self, f"{self.base}/hooks/{name}", query, behaviour)

    async def _receive(self, request: Request) -> Response:
        received = Received(
            query=dict(request.query_params),
            headers={name.lower(): value for name, value in request.headers.items()},
            body=await request.body(),
        )
        with self.lock:
            behaviour = self._behaviours[request.path_params["name"]]
            behaviour.received.append(received)
            token = request.query_params.get("validationToken")
            if token is not None:
                return PlainTextResponse(token if behaviour.echo else WRONG_ANSWER)
            if behaviour.failures > 0:
                behaviour.failures -= 1
                return Response(status_code=500)
        return Response(status_code=200)


class ReceiverHook:
    """One receiver path: the URL to register and what arrived there."""

    def __init__(self, receiver: Receiver, path_url: str, query: str, behaviour: Behaviour) -> None:
        self._receiver = receiver
        self.path_url = path_url
        self.url = path_url + query
        self._behaviour = behaviour

    def received(self, event: str | None = None) -> list[Received]:
        with self._receiver.lock:
            everything = list(self._behaviour.received)
        return [item for item in everything if event is None or item.event == event]

    def events(self) -> list[str | None]:
        return [item.event for item in self.received()]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


# ---------------------------------------------------------------- helpers


@pytest.fixture(params=VERSIONS)
def api(request, fresh_emulator: EmulatorServer) -> SpeechApi:
    return SpeechApi(fresh_emulator.endpoint, request.param)


@pytest.fixture
def api2024(fresh_emulator: EmulatorServer) -> SpeechApi:
    return SpeechApi(fresh_emulator.endpoint, "2024-11-15")


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def create_hook(
    api: SpeechApi, url: str, events: tuple[str, ...] = ("transcriptionCompletion",), **extra: Any
) -> requests.Response:
    body = {"displayName": "hook", "webUrl": url, "events": dict.fromkeys(events, True)} | extra
    return api.call("POST", api.url("/webhooks"), json=body)


def get_hook(api: SpeechApi, hook_id: str) -> dict[str, Any]:
    response = api.get(f"/webhooks/{hook_id}")
    assert response.status_code == 200, response.text
    return response.json()


def settled_hook(api: SpeechApi, url: str, **kwargs: Any) -> dict[str, Any]:
    """Create a hook and wait for its challenge to settle (Succeeded or Failed)."""
    response = create_hook(api, url, **kwargs)
    assert response.status_code == 201, response.text
    hook_id = job_id(response.json())
    return wait_for(
        lambda: (entity := get_hook(api, hook_id))["status"] in {"Succeeded", "Failed"} and entity,
        timeout=10,
        what="the challenge to settle",
    )


def active_hook(api: SpeechApi, url: str, **kwargs: Any) -> dict[str, Any]:
    entity = settled_hook(api, url, **kwargs)
    assert entity["status"] == "Succeeded", entity
    return entity


def arrived(hook: ReceiverHook, event: str, count: int = 1) -> list[Received]:
    return wait_for(
        lambda: len(items := hook.received(event)) >= count and items, timeout=10, what=f"{count} x {event}"
    )


# ---------------------------------------------------------------- operations


def test_create_get_list_update_delete_per_version(api: SpeechApi, receiver: Receiver, fresh_emulator):
    target = receiver.hook()
    response = create_hook(
        api,
        target.url,
        events=("transcriptionCompletion", "transcriptionDeletion"),
        description="first",
        customProperties={"team": "blue"},
        properties={"secret": "s3cr3t"},
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["Location"] == created["self"]
    assert created["self"].startswith(api.base + "/webhooks/")
    assert ("?api-version=" + api.version in created["self"]) == api.in_query
    hook_id = job_id(created)
    assert created["links"] == {
        "ping": api.url(f"/webhooks/{hook_id}:ping"),
        "test": api.url(f"/webhooks/{hook_id}:test"),
    }
    assert created["status"] == "NotStarted"
    assert created["properties"] == {"apiVersion": API_VERSION_PROPERTY[api.version]}
    assert created["events"] == {"transcriptionCompletion": True, "transcriptionDeletion": True}
    assert created["webUrl"] == target.url
    assert (created["displayName"], created["description"]) == ("hook", "first")
    assert created["customProperties"] == {"team": "blue"}
    assert created["createdDateTime"].endswith("Z")
    assert "s3cr3t" not in response.text
    assert get_hook(api, hook_id)["status"] in {"NotStarted", "Succeeded"}
    entity = wait_for(lambda: (e := get_hook(api, hook_id))["status"] == "Succeeded" and e, timeout=10)
    assert "s3cr3t" not in json.dumps(entity)

    second = create_hook(api, receiver.hook().url, events=("ping",)).json()
    page = api.get("/webhooks", top=1).json()
    assert [job_id(item) for item in page["values"]] == [hook_id]
    rest = api.call("GET", page["@nextLink"]).json()
    assert [job_id(item) for item in rest["values"]] == [job_id(second)]
    assert "@nextLink" not in rest
    filtered = api.get("/webhooks", filter="status eq 'Succeeded' and displayName eq 'hook'").json()
    assert hook_id in [job_id(item) for item in filtered["values"]]

    patched = api.call(
        "PATCH",
        api.url(f"/webhooks/{hook_id}"),
        json={"displayName": "renamed", "events": {"transcriptionDeletion": False, "ping": True}},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["displayName"] == "renamed"
    assert patched.json()["events"] == {"ping": True, "transcriptionCompletion": True}
    assert patched.json()["status"] == "Succeeded"  # same webUrl: no new challenge
    assert get_hook(api, hook_id)["displayName"] == "renamed"

    assert api.call("DELETE", api.url(f"/webhooks/{hook_id}")).status_code == 204
    assert api.get(f"/webhooks/{hook_id}").status_code == 404
    assert api.call("DELETE", api.url(f"/webhooks/{hook_id}")).status_code == 204
    routes = fresh_emulator.admin.stats().routes
    assert routes["POST /webhooks"] == 2
    assert routes["PATCH /webhooks/{id}"] == 1
    assert routes["DELETE /webhooks/{id}"] == 2
    assert routes["GET /webhooks"] == 3


def test_invalid_hooks_are_rejected_like_the_service(api2024: SpeechApi, receiver: Receiver):
    bad_url = create_hook(api2024, "ftp://example.invalid/hook")
    no_events = create_hook(api2024, receiver.hook().url, events=())
    no_name = api2024.call(
        "POST", api2024.url("/webhooks"), json={"webUrl": receiver.hook().url, "events": {"ping": True}}
    )

    assert bad_url.status_code == 400
    assert bad_url.json()["innerError"]["code"] == "InvalidCallbackUri"
    assert no_events.status_code == 400
    assert no_events.json()["innerError"]["code"] == "InvalidWebHookEventKind"
    assert no_name.status_code == 400
    assert "webHook.displayName" in no_name.json()["message"]
    assert api2024.get(f"/webhooks/{MISSING}").json()["code"] == "NotFound"
    assert api2024.call("POST", api2024.url(f"/webhooks/{MISSING}:ping")).status_code == 404


# ---------------------------------------------------------------- the challenge


def test_challenge_is_a_signed_post_carrying_the_token(
    api2024: SpeechApi, receiver: Receiver, fresh_emulator
):
    target = receiver.hook(query="?code=function-key")
    entity = active_hook(api2024, target.url, properties={"secret": "hush"})

    [challenge] = target.received("Challenge")
    token = challenge.query["validationToken"]
    assert challenge.query["code"] == "function-key"  # the receiver's own query is kept
    assert len(token) >= 16
    assert challenge.headers["content-type"] == "application/json"
    assert challenge.headers[SIGNATURE_HEADER] == signature("hush", challenge.body)
    assert challenge.json()["self"] == entity["self"]
    assert challenge.json()["status"] == "NotStarted"
    assert "secret" not in challenge.json()["properties"]
    [logged] = fresh_emulator.admin.deliveries()
    assert (logged.event, logged.attempt, logged.status_code) == ("Challenge", 1, 200)
    assert logged.url == target.path_url  # no validation token, no function key
    assert logged.hook_id == job_id(entity)


def test_a_wrong_answer_fails_the_hook_and_it_gets_no_events(api2024: SpeechApi, receiver: Receiver):
    wrong = receiver.hook(echo=False)
    failed = settled_hook(api2024, wrong.url)
    good = receiver.hook()
    active_hook(api2024, good.url)

    assert failed["status"] == "Failed"
    token = wrong.received("Challenge")[0].query["validationToken"]
    assert failed["properties"]["error"] == {
        "code": "InvalidCallbackUri",
        "message": f"Challenge response payload doesn't match validation token. Expected: {token}, "
        f"actual: {WRONG_ANSWER}",
    }
    job = api2024.created(api2024.body())
    arrived(good, "TranscriptionCompletion")  # the failed hook was registered first: it would have come first
    assert wrong.events() == ["Challenge"]
    assert job_id(good.received("TranscriptionCompletion")[0].json()) == job_id(job)


def test_a_new_web_url_is_challenged_again(api2024: SpeechApi, receiver: Receiver):
    hook = active_hook(api2024, receiver.hook().url)
    wrong = receiver.hook(echo=False)

    patched = api2024.call("PATCH", api2024.url(f"/webhooks/{job_id(hook)}"), json={"webUrl": wrong.url})

    assert patched.status_code == 200
    assert patched.json()["status"] == "NotStarted"
    assert patched.headers["Retry-After"] == "1"
    settled = wait_for(lambda: (e := get_hook(api2024, job_id(hook)))["status"] == "Failed" and e, timeout=10)
    assert settled["webUrl"] == wrong.url
    assert settled["properties"]["error"]["message"].startswith("Challenge response payload doesn't match")


def test_an_unreachable_receiver_fails_the_challenge_after_the_retries(api2024: SpeechApi, fresh_emulator):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/nobody?code=key"
    failed = settled_hook(api2024, url)

    assert failed["status"] == "Failed"
    assert failed["properties"]["error"]["code"] == "InvalidCallbackUri"
    assert "ConnectionError" in failed["properties"]["error"]["message"]
    attempts = fresh_emulator.admin.deliveries()
    assert [a.attempt for a in attempts] == list(range(1, WEBHOOK_RETRIES + 2))
    assert {(a.event, a.status_code, a.error, a.url) for a in attempts} == {
        ("Challenge", None, "ConnectionError", url.split("?", maxsplit=1)[0])
    }


# ---------------------------------------------------------------- transcription events


def test_each_transition_is_announced_once_in_the_hooks_version(api: SpeechApi, receiver: Receiver):
    target = receiver.hook()
    active_hook(api, target.url, events=TRANSCRIPTION_EVENTS, properties={"secret": "hush"})
    job = api.created(api.body(["https://audio.example/calls/one.wav"]))

    arrived(target, "TranscriptionCompletion")
    assert api.call("DELETE", api.url(f"/transcriptions/{job_id(job)}")).status_code == 204
    arrived(target, "TranscriptionDeletion")

    events = target.received()[1:]  # after the challenge
    assert [item.event for item in events] == [
        "TranscriptionCreation",
        "TranscriptionProcessing",
        "TranscriptionCompletion",
        "TranscriptionDeletion",
    ]
    assert [item.json()["status"] for item in events] == ["NotStarted", "Running", "Succeeded", "Succeeded"]
    for item in events:
        assert item.headers["content-type"] == "application/json"
        assert item.headers[SIGNATURE_HEADER] == signature("hush", item.body)
        assert item.json()["self"] == job["self"]  # GET-able, in the hook's version
    completed = events[2].json()
    assert completed["links"]["files"] == job["links"]["files"]
    assert ("durationMilliseconds" in completed["properties"]) == api.in_query
    assert ("duration" in completed["properties"]) == (not api.in_query)
    assert completed["displayName"] == job["displayName"]


def test_a_hook_gets_the_shape_of_its_own_version_whoever_created_the_job(fresh_emulator, receiver: Receiver):
    v32 = SpeechApi(fresh_emulator.endpoint, "v3.2")
    v2025 = SpeechApi(fresh_emulator.endpoint, "2025-10-15")
    target = receiver.hook()
    active_hook(v32, target.url)

    job = v2025.created(v2025.body())

    [completion] = arrived(target, "TranscriptionCompletion")
    body = completion.json()
    assert body["self"] == v32.url(f"/transcriptions/{job_id(job)}")
    assert "duration" in body["properties"]
    assert body["properties"]["timeToLive"] == "P2D"  # the job's timeToLiveHours, in v3.2 terms
    assert "timeToLiveHours" not in body["properties"]


def test_completion_covers_failed_and_forced_jobs_but_seeded_jobs_are_silent(
    api2024: SpeechApi, receiver: Receiver, fresh_emulator
):
    target = receiver.hook()
    active_hook(api2024, target.url)
    [seeded] = fresh_emulator.admin.seed(1, status="Running")
    fresh_emulator.admin.complete(seeded, "Succeeded")
    failing = api2024.created(api2024.body(["https://audio.example/calls/will-fail.wav"]))
    fresh_emulator.admin.add_fault("POST /transcriptions:submit", "stuck", count=1)
    stuck = api2024.created(api2024.body())

    fresh_emulator.admin.complete(job_id(stuck), "Failed")

    bodies = {job_id(item.json()): item.json() for item in arrived(target, "TranscriptionCompletion", 2)}
    assert set(bodies) == {job_id(failing), job_id(stuck)}
    assert bodies[job_id(failing)]["status"] == "Failed"
    assert bodies[job_id(failing)]["properties"]["error"]["code"] == "InvalidData"
    assert bodies[job_id(stuck)]["properties"]["error"]["code"] == "InternalError"
    assert target.events() == ["Challenge", "TranscriptionCompletion", "TranscriptionCompletion"]


def test_failed_callbacks_are_retried_until_they_succeed(
    api2024: SpeechApi, receiver: Receiver, fresh_emulator
):
    flaky = receiver.hook(failures=2)
    hook = active_hook(api2024, flaky.url, events=("transcriptionCompletion", "ping"))

    assert api2024.call("POST", api2024.url(f"/webhooks/{job_id(hook)}:ping")).status_code == 202

    arrived(flaky, "Ping", 3)
    pings = [a for a in fresh_emulator.admin.deliveries() if a.event == "Ping"]
    assert [(a.attempt, a.status_code) for a in pings] == [(1, 500), (2, 500), (3, 200)]
    assert all(a.hook_id == job_id(hook) for a in pings)


def test_delivery_gives_up_after_the_configured_retries(
    api2024: SpeechApi, receiver: Receiver, fresh_emulator
):
    broken = receiver.hook(failures=1000)
    marker = receiver.hook()
    broken_hook = active_hook(api2024, broken.url, events=("ping",))
    marker_hook = active_hook(api2024, marker.url, events=("ping",))

    api2024.call("POST", api2024.url(f"/webhooks/{job_id(broken_hook)}:ping"))
    api2024.call("POST", api2024.url(f"/webhooks/{job_id(marker_hook)}:ping"))

    arrived(marker, "Ping")  # deliveries are sequential: the broken one has given up by now
    assert len(broken.received("Ping")) == WEBHOOK_RETRIES + 1
    broken_attempts = [
        a.attempt for a in fresh_emulator.admin.deliveries() if a.hook_id == job_id(broken_hook)
    ]
    assert broken_attempts == [1, *range(1, WEBHOOK_RETRIES + 2)]  # the challenge, then the ping's tries


# ---------------------------------------------------------------- ping and test


def test_ping_posts_the_hook_itself(api: SpeechApi, receiver: Receiver):
    target = receiver.hook()
    hook = active_hook(api, target.url, properties={"secret": "hush"})

    response = api.call("POST", hook["links"]["ping"])

    assert response.status_code == 202
    assert response.headers["Retry-After"] == "1"
    [ping] = arrived(target, "Ping")
    assert ping.json()["self"] == hook["self"]
    assert ping.json()["status"] == "Succeeded"
    assert ping.headers[SIGNATURE_HEADER] == signature("hush", ping.body)


def test_test_sends_each_subscribed_event_about_the_latest_job(api2024: SpeechApi, receiver: Receiver):
    target = receiver.hook()
    hook = active_hook(
        api2024, target.url, events=("transcriptionCreation", "transcriptionCompletion", "ping")
    )

    assert api2024.call("POST", hook["links"]["test"]).status_code == 204  # no job yet
    api2024.created(api2024.body())
    latest = api2024.created(api2024.body())
    arrived(target, "TranscriptionCompletion", 2)
    before = len(target.received())

    assert api2024.call("POST", hook["links"]["test"]).status_code == 202

    wait_for(lambda: len(target.received()) == before + 2, timeout=10, what="two test callbacks")
    tests = target.received()[before:]
    assert sorted(item.event for item in tests) == ["TranscriptionCompletion", "TranscriptionCreation"]
    assert {job_id(item.json()) for item in tests} == {job_id(latest)}


def test_reset_forgets_hooks_and_deliveries(api2024: SpeechApi, receiver: Receiver, fresh_emulator):
    hook = active_hook(api2024, receiver.hook().url)
    assert fresh_emulator.admin.deliveries()

    fresh_emulator.admin.reset()

    assert fresh_emulator.admin.deliveries() == []
    assert api2024.get(f"/webhooks/{job_id(hook)}").status_code == 404
    assert api2024.get("/webhooks").json()["values"] == []


# ---------------------------------------------------------------- pure pieces and the server's lifetime


def test_milestones_list_every_status_entered_even_between_two_looks():
    created = datetime(2025, 1, 1, tzinfo=UTC)
    phase = timedelta(seconds=10)
    schedule = Schedule(created=created, phase=phase, outcome=Status.SUCCEEDED)

    assert [m.status for m in milestones(schedule, created + timedelta(seconds=5))] == [Status.NOT_STARTED]
    assert [m.status for m in milestones(schedule, created + timedelta(seconds=25))] == [
        Status.NOT_STARTED,
        Status.RUNNING,
        Status.SUCCEEDED,
    ]
    early = replace(schedule, forced=JobState(Status.FAILED, created + timedelta(seconds=3)))
    assert [m.status for m in milestones(early, created + timedelta(seconds=30))] == [
        Status.NOT_STARTED,
        Status.FAILED,
    ]
    stuck = replace(schedule, stuck=True)
    assert milestones(stuck, created + timedelta(days=1))[-1].status is Status.RUNNING
    for now in (created, created + phase, created + 2 * phase, created + timedelta(days=1)):
        assert milestones(schedule, now)[-1] == state_at(schedule, now)


def test_challenge_urls_keep_the_receivers_query_and_logs_drop_it():
    assert challenge_url("http://h/api/hook", "t0k") == "http://h/api/hook?validationToken=t0k"
    assert challenge_url("http://h/api/hook?code=k", "t0k") == "http://h/api/hook?code=k&validationToken=t0k"
    assert redact("https://user:pw@h:7071/api/hook?code=k&validationToken=t") == "https://h:7071/api/hook"


def test_background_work_stops_with_the_server(azurite: Azurite):
    config = EmulatorConfig(storage_connection_string=azurite.connection_string, tick_seconds=0.01)

    before = set(threading.enumerate())

    with EmulatorServer(config):
        started = set(threading.enumerate()) - before
        assert "speech-emulator-webhooks" in {thread.name for thread in started}

    assert not started & set(threading.enumerate())
