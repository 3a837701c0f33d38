"""Telemetry end to end: the host runs the app with the Azure Monitor distro (as the Python worker does) and a
connection string whose IngestionEndpoint is a local capture server; what the real exporters send is checked.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

from local.identity_endpoint import IdentityEndpoint
from local.telemetry_capture import TelemetryCapture
from local.tls import make_tls
from shared.speech import SpeechClient, TranscriptionDefinition
from shared.webhooks import EVENT_HEADER, SIGNATURE_HEADER, signature
from tests.fixtures.emulator import EMULATOR_KEY
from tests.fixtures.host import REPO_ROOT
from tests.fixtures.stack import stack_env
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.e2e

METRICS = {
    "harvester.jobs.transitions",
    "harvester.harvest.duration",
    "harvester.e2e.latency",
    "harvester.queue.wait",
    "harvester.bytes",
    "harvester.files",
    "speech.requests",
    "speech.ratelimit.wait",
    "harvester.open_jobs",
    "harvester.oldest_open.age",
    "harvester.ttl_at_risk",
    "harvester.poison.length",
}


def telemetry_env(capture: TelemetryCapture) -> dict[str, str]:
    """The worker's two settings, plus short export intervals (standard OpenTelemetry settings)."""
    return {
        "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY": "true",
        "APPLICATIONINSIGHTS_CONNECTION_STRING": capture.connection_string,
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        "OTEL_METRIC_EXPORT_INTERVAL": "300",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BLRP_SCHEDULE_DELAY": "200",
        "OTEL_TRACES_SAMPLER": "always_on",  # the distro's default keeps 5 traces a second
    }


def of_type(envelopes: list[dict[str, Any]], base_type: str) -> list[dict[str, Any]]:
    return [e for e in envelopes if e.get("data", {}).get("baseType") == base_type]


def messages(envelopes: list[dict[str, Any]], **dimensions: str) -> list[dict[str, Any]]:
    """Log records whose custom dimensions include `dimensions`."""
    return [
        e
        for e in of_type(envelopes, "MessageData")
        if all(e["data"]["baseData"].get("properties", {}).get(k) == v for k, v in dimensions.items())
    ]


def operation_id(envelope: dict[str, Any]) -> str:
    return envelope["tags"]["ai.operation.id"]


def metric_points(envelopes: list[dict[str, Any]]) -> list[tuple[str, dict[str, str], float]]:
    points = []
    for envelope in of_type(envelopes, "MetricData"):
        data = envelope["data"]["baseData"]
        for metric in data["metrics"]:
            points.append((metric["name"], data.get("properties", {}), metric["value"]))
    return points


def sas_destination(connection_string: str, container: str) -> tuple[str, str]:
    """A container SAS URL for the destination, so the test can check its signature never leaks."""
    service = BlobServiceClient.from_connection_string(connection_string)
    client = service.create_container(container)
    token = generate_container_sas(
        service.account_name,
        container,
        account_key=service.credential.account_key,
        permission=ContainerSasPermissions(read=True, write=True, create=True, list=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    return f"{client.url}?{token}", token


def test_telemetry_reaches_application_insights_through_the_exporters(azurite, fresh_emulator, run_host):
    env = stack_env(azurite, fresh_emulator, "2024-11-15", POLL_SCHEDULE="* * * * * *")
    container_url, sas = sas_destination(azurite.connection_string, env.pop("DESTINATION_CONTAINER"))
    del env["DESTINATION_CONNECTION"]
    env["DESTINATION_CONTAINER_URL"] = container_url
    signature = dict(pair.split("=", 1) for pair in sas.split("&"))["sig"]
    client = SpeechClient(fresh_emulator.endpoint, api_version="2024-11-15", key=EMULATOR_KEY)

    def submit(name: str) -> str:
        definition = TranscriptionDefinition.for_version(
            "2024-11-15", locale="en-US", display_name=name, content_urls=[f"https://a.invalid/x/{name}.wav"]
        )
        return client.submit_transcription(definition).id

    ok, failed = submit("call-1-stereo"), submit("fail")

    with TelemetryCapture() as capture, run_host(REPO_ROOT, {**env, **telemetry_env(capture)}) as host:

        def counts() -> dict[str, int] | None:
            status = requests.get(host.url("/api/status"), params={"code": host.function_key}, timeout=10)
            return status.json()["counts"].get("transcription")

        wait_for(lambda: counts() == {"Harvested": 2}, timeout=60, what="both jobs harvested")

        def arrived() -> bool:
            envelopes = capture.envelopes()
            names = {name for name, _, _ in metric_points(envelopes)}
            return names >= METRICS and all(
                messages(envelopes, event="job_state", id=job, state="Harvested") for job in (ok, failed)
            )

        wait_for(arrived, timeout=30, what="logs and every metric at the capture server")
    envelopes = capture.envelopes()

    # Log records: one per event, the key=value pairs as separate custom dimensions (flat keys).
    queued = messages(envelopes, event="job_state", id=ok, state="Queued")
    harvested = messages(envelopes, event="job_state", id=ok, state="Harvested")
    assert len(queued) == 1
    assert len(harvested) == 1
    dims = harvested[0]["data"]["baseData"]["properties"]
    assert dims["kind"] == "transcription"
    assert dims["previous"] == "Harvesting"
    assert dims["trigger"] == "timer"
    assert float(dims["since_finished_s"]) >= 0
    assert harvested[0]["data"]["baseData"]["message"].startswith(f"job_state kind=transcription id={ok}")
    assert not any("custom_dimensions" in e["data"]["baseData"].get("properties", {}) for e in envelopes)
    assert messages(envelopes, event="poll_tick")

    # One trace per job: the Queued record (poll tick) and the Harvested record (harvest) share an operation id.
    assert operation_id(queued[0]) == operation_id(harvested[0])
    failed_queued = messages(envelopes, event="job_state", id=failed, state="Queued")
    failed_harvested = messages(envelopes, event="job_state", id=failed, state="Harvested")
    assert operation_id(failed_queued[0]) == operation_id(failed_harvested[0])
    assert operation_id(queued[0]) != operation_id(failed_queued[0])

    # Speech dependencies, in the job's trace, with the operation and what the retries did.
    dependencies = of_type(envelopes, "RemoteDependencyData")
    speech = [d for d in dependencies if "speech.operation" in d["data"]["baseData"]["properties"]]
    in_job = [d for d in speech if operation_id(d) == operation_id(harvested[0])]
    operations = {d["data"]["baseData"]["properties"]["speech.operation"] for d in in_job}
    assert operations == {"GET /transcriptions/{id}/files"}  # the request carries the job: one call per job
    assert all(d["data"]["baseData"]["resultCode"] == "200" for d in in_job)
    assert {"speech.retries", "speech.throttled"} <= set(in_job[0]["data"]["baseData"]["properties"])
    # Storage calls are dependencies too (the Azure SDK's spans), in the same trace.
    storage = [d for d in dependencies if d["data"]["baseData"].get("type") != "InProc" and d not in speech]
    assert any(operation_id(d) == operation_id(harvested[0]) for d in storage)

    # Metrics: the documented dimensions, never an id.
    points = metric_points(envelopes)
    transitions = [dims for name, dims, _ in points if name == "harvester.jobs.transitions"]
    assert {
        "kind": "transcription",
        "from": "Harvesting",
        "to": "Harvested",
        "trigger": "timer",
    } in transitions
    files = [dims for name, dims, _ in points if name == "harvester.files"]
    assert {"kind": "transcription", "format": "vtt", "valid": "true"} in files
    requests_by_status = {(d["operation"], d["status_code"]) for n, d, _ in points if n == "speech.requests"}
    assert ("GET /transcriptions/{id}/files", "200") in requests_by_status
    for _, dims, _ in points:
        assert ok not in json.dumps(dims)
        assert failed not in json.dumps(dims)

    # No secret anywhere: the Speech key, the storage account key, the destination SAS signature.
    everything = json.dumps(envelopes)
    account_key = dict(p.split("=", 1) for p in azurite.connection_string.split(";") if "=" in p)[
        "AccountKey"
    ]
    for secret in (EMULATOR_KEY, account_key, signature, requests.utils.quote(signature, safe="")):
        assert secret not in everything


def test_a_job_completed_by_web_hook_is_traced_from_the_request_to_its_manifest(
    azurite, fresh_emulator, run_host
):
    secret = "telemetry-hook-secret-51c2"
    env = stack_env(azurite, fresh_emulator, "2024-11-15", POLL_SCHEDULE="0 0 0 1 1 *", WEBHOOK_SECRET=secret)
    client = SpeechClient(fresh_emulator.endpoint, api_version="2024-11-15", key=EMULATOR_KEY)
    definition = TranscriptionDefinition.for_version(
        "2024-11-15", locale="en-US", display_name="hooked", content_urls=["https://a.invalid/x/hook.wav"]
    )
    job = client.submit_transcription(definition).id
    entity = wait_for(
        lambda: (t := client.get_transcription(job)).is_terminal and t, what="the job to finish"
    ).wire
    body = json.dumps(entity).encode()
    headers = {EVENT_HEADER: "TranscriptionCompletion", SIGNATURE_HEADER: signature(secret, body)}

    with TelemetryCapture() as capture, run_host(REPO_ROOT, {**env, **telemetry_env(capture)}) as host:
        answer = requests.post(host.url("/api/webhooks/speech"), data=body, headers=headers, timeout=10)
        assert answer.json()["action"] == "enqueued"
        wait_for(
            lambda: messages(capture.envelopes(), event="job_state", id=job, state="Harvested"),
            timeout=60,
            what="the Harvested record at the capture server",
        )
    envelopes = capture.envelopes()
    (queued,) = messages(envelopes, event="job_state", id=job, state="Queued")
    (harvested,) = messages(envelopes, event="job_state", id=job, state="Harvested")
    assert queued["data"]["baseData"]["properties"]["trigger"] == "webhook"
    assert harvested["data"]["baseData"]["properties"]["trigger"] == "webhook"
    requests_seen = {
        e["data"]["baseData"]["name"]: operation_id(e) for e in of_type(envelopes, "RequestData")
    }
    # The web hook's request, the Queued record and the harvest (with its manifest) are one trace.
    assert requests_seen["speech_webhook"] == operation_id(queued) == operation_id(harvested)
    assert requests_seen["harvest transcription"] == operation_id(harvested)
    assert secret not in json.dumps(envelopes)


def test_a_submitted_job_is_traced_from_its_submission_to_its_event(azurite, fresh_emulator, run_host):
    """The submission's trace is kept in the job's ledger row, so the tick that queues the job later, the
    harvest and the transcript-ready event all continue it."""
    env = stack_env(
        azurite,
        fresh_emulator,
        "2024-11-15",
        POLL_SCHEDULE="* * * * * *",
        NOTIFY_QUEUE=f"events-{uuid.uuid4().hex[:8]}",
    )
    body = {
        "contentUrls": ["https://audio.invalid/calls/call-3-stereo.wav"],
        "locale": "en-US",
        "displayName": "submitted",
    }
    with TelemetryCapture() as capture, run_host(REPO_ROOT, {**env, **telemetry_env(capture)}) as host:
        answer = requests.post(
            host.url("/api/transcriptions"), params={"code": host.function_key}, json=body, timeout=10
        )
        assert answer.status_code == 202, answer.text
        job = answer.json()["id"]
        wait_for(
            lambda: messages(capture.envelopes(), event="event_published", id=job),
            timeout=60,
            what="the event_published record at the capture server",
        )
    envelopes = capture.envelopes()
    (submitted,) = [
        e
        for e in of_type(envelopes, "RequestData")
        if e["data"]["baseData"]["name"] == "submit_transcription"
    ]
    (pending,) = messages(envelopes, event="job_state", id=job, state="Pending")
    (queued,) = messages(envelopes, event="job_state", id=job, state="Queued")
    (harvested,) = messages(envelopes, event="job_state", id=job, state="Harvested")
    (published,) = messages(envelopes, event="event_published", id=job)
    assert pending["data"]["baseData"]["properties"]["trigger"] == "submit"
    assert queued["data"]["baseData"]["properties"]["trigger"] == "timer"  # queued by a later tick
    trace_id = operation_id(submitted)
    assert {operation_id(e) for e in (pending, queued, harvested, published)} == {trace_id}
    assert trace_id not in {operation_id(e) for e in messages(envelopes, event="poll_tick")}


def test_entra_auth_sends_the_managed_identitys_token_over_tls(azurite, fresh_emulator, run_host, tmp_path):
    """APPLICATIONINSIGHTS_AUTHENTICATION_STRING: the exporters authenticate with the user-assigned managed
    identity it names (the App Service identity protocol, served locally), over HTTPS only."""
    tls = make_tls(tmp_path)
    client_id = str(uuid.uuid4())
    env = stack_env(azurite, fresh_emulator, "2024-11-15", POLL_SCHEDULE="* * * * * *")
    with (
        IdentityEndpoint(client_ids=(client_id,)) as identity,
        TelemetryCapture(certificate=(tls.cert_path, tls.key_path)) as capture,
    ):
        settings = {
            **env,
            **telemetry_env(capture),
            **identity.environ(),
            "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": f"ClientId={client_id};Authorization=AAD",
            "REQUESTS_CA_BUNDLE": str(tls.ca_path),
        }
        with run_host(REPO_ROOT, settings):
            wait_for(
                lambda: messages(capture.envelopes(), event="poll_tick"),
                timeout=30,
                what="a poll_tick record",
            )
    assert capture.authorizations()
    assert all(a is not None and a.startswith("Bearer ") for a in capture.authorizations())
    assert {(i.resource.rstrip("/"), i.client_id) for i in identity.issued} == {
        ("https://monitor.azure.com", client_id)
    }
    everything = json.dumps(capture.envelopes())
    assert not any(a.split(" ", 1)[1] in everything for a in capture.authorizations() if a)
