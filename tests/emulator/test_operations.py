"""The emulator as a test instrument: admin API, faults, throttling, seeding at scale, stats, start/stop, CLI."""

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from azure.storage.blob import BlobServiceClient

from local.azurite import Azurite
from local.speech_emulator import EmulatorConfig, EmulatorServer
from tests.emulator.api import SpeechApi, job_id
from tests.fixtures.emulator import EMULATOR_KEY
from tests.fixtures.waiting import wait_for

JOB_ROUTE = "GET /transcriptions/{id}"


@pytest.fixture
def api(fresh_emulator: EmulatorServer) -> SpeechApi:
    return SpeechApi(fresh_emulator.endpoint, "2024-11-15")


def test_seeding_10000_jobs_is_fast_and_they_list_and_materialise_lazily(fresh_emulator, api):
    # The emulator serves from a thread of this process, so the process's CPU time is the seeding's own work
    # (about 0.4 s here), whatever else the machine is busy with; writing the jobs' files eagerly, or a cost
    # growing with the square of the jobs, would take many times the bound.
    started, cpu_started = time.monotonic(), time.process_time()
    ids = fresh_emulator.admin.seed(10_000, inputs=2)
    cpu = time.process_time() - cpu_started
    seconds = time.monotonic() - started

    assert len(set(ids)) == 10_000
    assert cpu < 2, f"seeding took {cpu:.2f}s of CPU ({seconds:.2f}s wall)"
    first = api.get("/transcriptions").json()
    assert len(first["values"]) == 100
    assert "@nextLink" in first
    assert all(entity["status"] == "Succeeded" for entity in first["values"])
    assert [f["name"] for f in api.files(ids[-1])] == [
        "contenturl_0.json",
        "contenturl_1.json",
        "report.json",
    ]


def test_seeding_with_materialise_writes_the_results_before_answering(fresh_emulator, azurite):
    # As the service has a finished job's results: a bench then times the harvest, not the emulator.
    container = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client(
        fresh_emulator.config.results_container
    )

    def blobs(job: str) -> list[str]:
        return sorted(b.name for b in container.list_blobs(name_starts_with=f"TranscriptionData/{job}_"))

    [lazy] = fresh_emulator.admin.seed(1, inputs=2)
    [eager] = fresh_emulator.admin.seed(1, inputs=2, materialise=True)
    [running] = fresh_emulator.admin.seed(1, status="Running", materialise=True)

    assert blobs(lazy) == []
    assert blobs(eager) == [f"TranscriptionData/{eager}_{suffix}.json" for suffix in ("0", "1", "report")]
    assert blobs(running) == []


def test_seeded_jobs_keep_their_status_and_times(fresh_emulator, api):
    [running] = fresh_emulator.admin.seed(1, status="Running", display_name="pinned")
    [failed] = fresh_emulator.admin.seed(1, status="Failed", locale="de-de")

    assert api.job(running)["status"] == "Running"
    assert api.job(running)["displayName"] == "pinned"
    failed_job = api.job(failed)
    assert failed_job["status"] == "Failed"
    assert failed_job["locale"] == "de-DE"
    assert failed_job["properties"]["error"]["code"]


def test_complete_forces_a_terminal_state_now(fresh_emulator, api):
    [stuck] = fresh_emulator.admin.seed(1, status="Running")
    [other] = fresh_emulator.admin.seed(1, status="NotStarted")

    fresh_emulator.admin.complete(stuck, "Succeeded")
    fresh_emulator.admin.complete(other, "Failed")

    assert api.job(stuck)["status"] == "Succeeded"
    failed = api.job(other)
    assert failed["status"] == "Failed"
    assert failed["properties"]["error"]["code"] == "InternalError"
    with pytest.raises(requests.HTTPError) as conflict:
        fresh_emulator.admin.complete(other, "Succeeded")
    assert conflict.value.response.status_code == 409
    with pytest.raises(requests.HTTPError) as missing:
        fresh_emulator.admin.complete("00000000-0000-0000-0000-000000000000")
    assert missing.value.response.status_code == 404


def test_complete_can_stamp_the_change_earlier_so_a_list_from_after_the_stamp_shows_it_late(
    fresh_emulator, api
):
    long_ago = datetime.now(UTC) - timedelta(days=1)
    [job] = fresh_emulator.admin.seed(1, status="Running", created=long_ago, last_action=long_ago)
    stamped = long_ago + timedelta(hours=1)
    since = f"lastActionDateTime ge {(stamped + timedelta(seconds=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
    assert api.get("/transcriptions", filter=since).json()["values"] == []

    fresh_emulator.admin.complete(job, "Succeeded", stamped=stamped)

    assert api.job(job)["status"] == "Succeeded"
    assert api.job(job)["lastActionDateTime"] == stamped.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert api.get("/transcriptions", filter=since).json()["values"] == []
    with pytest.raises(requests.HTTPError) as future:
        fresh_emulator.admin.complete(job, "Succeeded", stamped=datetime.now(UTC) + timedelta(hours=1))
    assert future.value.response.status_code == 400


def test_stats_count_speech_calls_by_route_and_status_but_not_admin_calls(fresh_emulator, api):
    [seeded] = fresh_emulator.admin.seed(1)
    fresh_emulator.admin.reset_stats()
    api.get("/transcriptions")
    api.get("/transcriptions")
    api.get(f"/transcriptions/{seeded}")
    api.get("/transcriptions/00000000-0000-0000-0000-000000000000")
    api.created(api.body())
    v32 = SpeechApi(fresh_emulator.endpoint, "v3.2")
    v32.created(v32.body())
    v32.get(f"/transcriptions/{seeded}/files")

    stats = fresh_emulator.admin.stats()

    assert stats.total == 7
    assert stats.routes == {
        "GET /transcriptions": 2,
        JOB_ROUTE: 2,
        "POST /transcriptions:submit": 1,
        "POST /transcriptions": 1,
        "GET /transcriptions/{id}/files": 1,
    }
    assert stats.statuses == {"200": 4, "404": 1, "201": 2}
    fresh_emulator.admin.reset_stats()
    assert fresh_emulator.admin.stats().total == 0


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("429", 429, "TooManyRequests"),
        ("500", 500, "InternalServerError"),
        ("503", 503, "ServiceUnavailable"),
    ],
)
def test_error_faults_answer_like_the_service(fresh_emulator, api, kind, status, code):
    [seeded] = fresh_emulator.admin.seed(1)
    fresh_emulator.admin.add_fault(JOB_ROUTE, kind, count=2, retry_after=7)

    faulted = [api.get(f"/transcriptions/{seeded}") for _ in range(3)]

    assert [r.status_code for r in faulted] == [status, status, 200]
    assert faulted[0].json()["code"] == code
    assert ("Retry-After" in faulted[0].headers) == (kind != "500")
    if kind != "500":
        assert faulted[0].headers["Retry-After"] == "7"


def test_faults_only_hit_their_route_and_rates_are_probabilities(fresh_emulator, api):
    [seeded] = fresh_emulator.admin.seed(1)
    fresh_emulator.admin.add_fault("GET /transcriptions", "503", rate=1.0)
    fresh_emulator.admin.add_fault("GET /transcriptions/{id}/files", "500", rate=0.5)

    assert api.get("/transcriptions").status_code == 503
    assert api.get(f"/transcriptions/{seeded}").status_code == 200
    statuses = {api.get(f"/transcriptions/{seeded}/files").status_code for _ in range(40)}
    assert statuses == {200, 500}
    fresh_emulator.admin.clear_faults()
    assert api.get("/transcriptions").status_code == 200


def test_wildcard_faults_and_unknown_routes_are_rejected(fresh_emulator, api):
    fresh_emulator.admin.add_fault("*", "500", count=1)
    assert api.get("/transcriptions/locales").status_code == 500
    with pytest.raises(requests.HTTPError):
        fresh_emulator.admin.add_fault("GET /nothing", "500")


def test_slow_fault_delays_the_answer(fresh_emulator, api):
    fresh_emulator.admin.add_fault("GET /transcriptions", "slow", count=1, delay_seconds=0.3)
    started = time.monotonic()
    response = api.get("/transcriptions")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_drop_fault_closes_the_connection_without_a_response(fresh_emulator, api):
    fresh_emulator.admin.add_fault("POST /transcriptions:submit", "drop", count=1)

    with pytest.raises(requests.ConnectionError):
        api.create(api.body())

    assert api.get("/transcriptions").json()["values"] == []  # dropped before it was handled
    assert api.create(api.body()).status_code == 201
    assert fresh_emulator.admin.stats().routes["POST /transcriptions:submit"] == 2


def test_truncate_fault_cuts_the_body_short(fresh_emulator, api):
    fresh_emulator.admin.seed(3)
    fresh_emulator.admin.add_fault("GET /transcriptions", "truncate", count=1)

    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        api.get("/transcriptions")

    assert len(api.get("/transcriptions").json()["values"]) == 3


def test_stuck_fault_keeps_a_job_running_until_completed(fresh_emulator, api):
    fresh_emulator.admin.add_fault("POST /transcriptions:submit", "stuck", count=1)
    stuck = job_id(api.created(api.body()))
    normal = job_id(api.created(api.body()))

    wait_for(lambda: api.job(normal)["status"] == "Succeeded", timeout=10, what="the normal job")

    assert api.job(stuck)["status"] == "Running"
    fresh_emulator.admin.complete(stuck)
    assert api.job(stuck)["status"] == "Succeeded"


def test_throttling_per_key_with_retry_after(azurite: Azurite):
    config = EmulatorConfig(
        storage_connection_string=azurite.connection_string,
        keys=(EMULATOR_KEY, "second-key"),
        throttle_limit=3,
        throttle_window_seconds=1.0,
    )
    with EmulatorServer(config) as emulator:
        api = SpeechApi(emulator.endpoint, "2025-10-15")
        statuses = [api.get("/transcriptions/locales").status_code for _ in range(4)]
        throttled = api.get("/transcriptions")

        assert statuses == [200, 200, 200, 429]
        assert throttled.json()["code"] == "TooManyRequests"
        assert throttled.headers["Retry-After"] == "1"
        assert (
            SpeechApi(emulator.endpoint, "v3.2", key="second-key").get("/transcriptions").status_code == 200
        )
        assert emulator.admin.stats().statuses == {"200": 4, "429": 2}  # admin calls are never throttled
        wait_for(lambda: api.get("/transcriptions").status_code == 200, timeout=5, what="a free slot")


def emulator_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("speech-emulator")}


def test_server_starts_cheaply_stops_for_good_and_frees_its_port(azurite: Azurite):
    """Start-up does little work (CPU time, about 0.01 s here: the same under load) and answers at once; stop
    ends every thread the server started before its join timeouts (a stop that waited them out would leave
    one running), so a test's emulator never outlives it."""
    config = EmulatorConfig(storage_connection_string=azurite.connection_string)
    before = emulator_threads()
    cpu_started = time.process_time()
    server = EmulatorServer(config).start()
    up = time.process_time() - cpu_started
    endpoint = server.endpoint
    assert requests.get(endpoint + "/_emulator/stats", timeout=5).status_code == 200
    assert emulator_threads() - before, "the server runs in a thread of its own"

    server.stop()

    assert up < 0.5, f"start took {up:.2f}s of CPU"
    assert {t.name for t in emulator_threads() - before if t.is_alive()} == set()
    with pytest.raises(requests.ConnectionError):
        requests.get(endpoint + "/_emulator/stats", timeout=5)


def test_cli_prints_its_endpoint_and_serves(azurite: Azurite):
    command = [
        sys.executable, "-m", "local.speech_emulator",
        "--azurite-connection-string", azurite.connection_string,
        "--key", "cli-key", "--phase-seconds", "0.1", "--log-level", "warning",
    ]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            line = process.stdout.readline().strip()
            assert line.startswith("Speech emulator listening on http://127.0.0.1:")
            api = SpeechApi(line.rsplit(" ", 1)[-1], "v3.2", key="cli-key")
            assert "en-US" in api.get("/transcriptions/locales").json()
        finally:
            process.terminate()
            assert process.wait(timeout=10) == 0
