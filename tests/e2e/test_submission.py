"""The submission API through the real local host: one request shape, the body each API version needs (as the
emulator received it, read back from the job's properties), tracking, status, validation and rejections."""

import json
import uuid

import pytest
import requests
from opentelemetry import trace

from shared import runtime
from shared.queueing import parse_request
from shared.states import JobKind, LedgerState
from tests.fixtures.host import REPO_ROOT
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.e2e

QUIET = "0 0 0 1 1 *"
TIMEOUT = 10
AUDIO = "https://audio.example.invalid/calls"


def submission(**properties) -> dict:
    return {
        "contentUrls": [f"{AUDIO}/call-7-stereo.wav?phrases=4", f"{AUDIO}/memo.wav"],
        "locale": "en-US",
        "displayName": "submitted over the API",
        "properties": {"wordLevelTimestampsEnabled": True, **properties},
    }


@pytest.fixture
def hosted(make_stack, run_host):
    def start(api_version: str, **settings: str):
        stack = make_stack(api_version, POLL_SCHEDULE=QUIET, **settings)
        return stack, run_host(REPO_ROOT, stack.env)

    return start


def api(host, method: str, path: str, *, key: bool = True, **kwargs):
    params = {"code": host.function_key} if key else {}
    return requests.request(method, host.url(path), params=params, timeout=TIMEOUT, **kwargs)


def harvested_status(host, url: str) -> dict:
    """Wait for the host's queue trigger to finish the harvest; on a timeout, show what the host logged."""

    def status():
        answer = api(host, "GET", url).json()
        return answer if answer["state"] == "Harvested" else None

    try:
        return wait_for(status, timeout=20, what="the status to say Harvested")
    except pytest.fail.Exception:
        pytest.fail(f"not harvested; host log tail:\n{host.logs()[-4000:]}")


# (API version, what we send in properties, what the service must have received, read from the job)
SHAPES = [
    (
        "2024-11-15",
        {"diarization": {"maxSpeakers": 3}},
        {"timeToLiveHours": 48, "diarization": {"enabled": True, "maxSpeakers": 3}},
    ),
    (
        "2025-10-15",
        {"timeToLiveHours": 72, "diarization": {"enabled": True}},
        {"timeToLiveHours": 72, "diarization": {"enabled": True, "maxSpeakers": 2}},
    ),
    (
        "v3.2",
        {"timeToLiveHours": 12, "diarization": {"maxSpeakers": 3}},
        {
            "timeToLive": "PT12H",
            "diarizationEnabled": True,
            "diarization": {"speakers": {"minCount": 1, "maxCount": 3}},
        },
    ),
]


@pytest.mark.parametrize(("api_version", "sent", "received"), SHAPES, ids=[s[0] for s in SHAPES])
def test_submit_track_and_follow_a_job_to_its_manifest(hosted, api_version, sent, received):
    stack, host_context = hosted(api_version)
    with host_context as host:
        answer = api(host, "POST", "/api/transcriptions", json=submission(**sent))
        assert answer.status_code == 202, answer.text
        body = answer.json()
        job = body["id"]
        assert body == {
            "id": job,
            "status": "NotStarted",
            "statusUrl": f"/api/transcriptions/{job}",
            "tracked": True,
        }
        assert answer.headers["location"] == body["statusUrl"]

        properties = stack.speech.get_transcription(job).wire["properties"]
        for name, value in received.items():
            assert properties[name] == value, name
        assert properties["wordLevelTimestampsEnabled"] is True
        if api_version == "v3.2":
            assert "timeToLiveHours" not in properties
        else:
            assert "timeToLive" not in properties

        record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
        assert (record.state, record.tracked, record.source) == (LedgerState.PENDING, True, "submit")
        status = api(host, "GET", body["statusUrl"]).json()
        assert status["state"] == "Pending"
        assert status["tracked"] is True
        assert status["displayName"] == "submitted over the API"
        assert "manifestUrl" not in status

        # The timer is quiet: one tick by hand, and the host's queue trigger harvests.
        stack.finished(job)
        assert runtime.poller(stack.parts).tick().enqueued_ids == [job]
        harvested = harvested_status(host, body["statusUrl"])
        assert harvested["serviceStatus"] == "Succeeded"
        assert harvested["harvestedAt"] >= harvested["queuedAt"]
        assert harvested["manifestUrl"].endswith(f"/transcriptions/{job}/manifest.json")
        assert "?" not in harvested["manifestUrl"]
        manifest = requests.get(harvested["manifestUrl"], timeout=TIMEOUT)
        assert manifest.status_code in (200, 403, 404)  # private container: the URL carries no grant
        assert stack.manifest(job)["apiVersion"] == api_version


def test_requests_are_validated_and_service_rejections_passed_on(hosted):
    stack, host_context = hosted("2024-11-15")
    with host_context as host:
        unknown_field = api(host, "POST", "/api/transcriptions", json={**submission(), "priority": "high"})
        assert unknown_field.status_code == 400
        assert unknown_field.json()["error"]["code"] == "InvalidRequest"
        assert unknown_field.json()["error"]["field"] == "priority"

        both = api(
            host,
            "POST",
            "/api/transcriptions",
            json={**submission(), "contentContainerUrl": "https://acct.blob.core.windows.net/audio?sig=x"},
        )
        assert (both.status_code, both.json()["error"]["field"]) == (400, "contentUrls")

        too_short = api(host, "POST", "/api/transcriptions", json=submission(timeToLiveHours=2))
        assert (too_short.status_code, too_short.json()["error"]["field"]) == (
            400,
            "properties.timeToLiveHours",
        )

        not_json = api(
            host, "POST", "/api/transcriptions", data=b"{", headers={"Content-Type": "application/json"}
        )
        assert not_json.status_code == 400
        assert "not valid JSON" in not_json.json()["error"]["message"]

        stack.emulator.admin.reset_stats()
        rejected = api(host, "POST", "/api/transcriptions", json={**submission(), "locale": "xx-XX"})
        assert rejected.status_code == 400
        error = rejected.json()["error"]
        assert (error["code"], error["innerCode"]) == ("InvalidRequest", "InvalidLocale")
        assert "xx-XX" in error["message"]
        assert stack.emulator.admin.stats().routes == {"POST /transcriptions:submit": 1}

        assert api(host, "POST", "/api/transcriptions", key=False, json=submission()).status_code == 401
        assert api(host, "GET", f"/api/transcriptions/{uuid.uuid4()}").status_code == 404
        bad_id = api(host, "GET", "/api/transcriptions/not-a-uuid")
        assert (bad_id.status_code, bad_id.json()["error"]["field"]) == (400, "id")
        assert stack.parts.ledger.counts() == {}


def test_submitted_jobs_are_the_ones_followed_with_tracked_discovery(make_stack):
    stack = make_stack(DISCOVERY="tracked")
    reply = runtime.submit_transcription(json.dumps(submission()).encode(), stack.parts)
    assert reply.status == 202
    ours = json.loads(reply.body)["id"]
    theirs = stack.submit(["someone-elses.wav"])
    for job in (ours, theirs):
        stack.finished(job)
    runtime.poller(stack.parts).tick()
    assert [parse_request(body).id for body in stack.drain()] == [ours]
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, theirs) is None


def test_a_submitted_job_is_queued_later_in_its_submissions_trace(make_stack, otel):
    """The request's trace is kept in the job's ledger row: the tick that queues the job (later, in its own span)
    sends the harvest request in it, so the submission and the harvest share one trace."""
    stack, tracer = make_stack(), trace.get_tracer("test")
    with tracer.start_as_current_span("submit_transcription") as request:
        reply = runtime.submit_transcription(json.dumps(submission()).encode(), stack.parts)
    job = json.loads(reply.body)["id"]
    stack.finished(job)
    with tracer.start_as_current_span("poll") as tick:
        runtime.poll_tick(stack.parts)
    [body] = stack.drain()
    traceparent = parse_request(body).traceparent
    assert traceparent is not None
    submitted_in, ticked_in = request.get_span_context().trace_id, tick.get_span_context().trace_id
    assert int(traceparent.split("-")[1], 16) == submitted_in != ticked_in
    # The tick's step that queued the job is in the job's trace too, linked to the tick.
    (queued,) = [s for s in otel.spans("queue transcription") if s.attributes["job.id"] == job]
    assert queued.context.trace_id == submitted_in
    assert [link.context.span_id for link in queued.links] == [tick.get_span_context().span_id]


def test_a_failed_submission_leaves_no_trace_in_the_ledger(make_stack):
    stack = make_stack()
    stack.emulator.admin.add_fault("POST /transcriptions:submit", "429", count=1000, retry_after=0)
    reply = runtime.submit_transcription(json.dumps(submission()).encode(), stack.parts)
    assert reply.status == 429
    assert json.loads(reply.body)["error"]["code"]
    assert stack.parts.ledger.counts() == {}
