"""Harvest end to end over Azurite and the Speech emulator, through the production client and adapters.

The poller and harvester are driven directly here (deterministic, fast); tests/e2e/test_pipeline.py runs
the same code under the local Functions host.
"""

import dataclasses
import hashlib
import io
import json
import threading
import uuid

import pytest
import requests
import srt
import webvtt

from shared import runtime
from shared.destination import Destination
from shared.harvest import Outcome
from shared.ledger import Ledger
from shared.queueing import HarvestRequest, parse_request
from shared.speech import NotFoundError, RetryRules, ServiceError, SpeechClient
from shared.states import JobKind, LedgerState
from tests.emulator.api import container_sas_url
from tests.fixtures.emulator import EMULATOR_KEY
from tests.fixtures.stack import API_VERSIONS, poison_reader

pytestmark = pytest.mark.e2e


def poll_and_harvest(stack):
    """One poll tick, then harvest every request it enqueued, as the queue trigger would."""
    report = runtime.poller(stack.parts).tick()
    outcomes = [runtime.harvester(stack.parts).harvest(parse_request(body)) for body in stack.drain()]
    return report, outcomes


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_succeeded_job_lands_with_documented_layout(make_stack, api_version):
    stack = make_stack(api_version, CHANNEL_LABELS="Agent,Customer")
    job = stack.submit(["call-0042-stereo.wav?phrases=6", "memo.wav"], word_level_timestamps=True)
    stack.finished(job)

    report, outcomes = poll_and_harvest(stack)
    assert report.enqueued == 1
    assert outcomes == [Outcome.HARVESTED]

    root = f"transcriptions/{job}/"
    blobs = stack.blobs(job)
    expected = {
        "transcription.json",
        "raw/contenturl_0.json",
        "raw/contenturl_1.json",
        "raw/report.json",
        "manifest.json",
        *(f"transcript/call-0042-stereo.{ext}" for ext in ("json", "txt", "srt", "vtt")),
        *(f"transcript/memo.{ext}" for ext in ("json", "txt", "srt", "vtt")),
    }
    assert {name.removeprefix(root) for name in blobs} == expected

    # Raw copies are byte-exact: compare with what the service serves.
    for file in stack.speech.list_files(job):
        served = requests.get(file.content_url, timeout=30).content
        assert blobs[root + "raw/" + file.name] == served

    manifest = stack.manifest(job)
    assert manifest["schemaVersion"] == "1.0"
    assert manifest["id"] == job
    assert manifest["apiVersion"] == api_version
    assert manifest["status"] == "Succeeded"
    assert manifest["locale"] == "en-US"
    assert manifest["audioDurationSeconds"] > 0
    assert manifest["report"]["successfulTranscriptionsCount"] == 2
    assert manifest["report"]["failedTranscriptionsCount"] == 0
    results = {r["name"]: r for r in manifest["results"]}
    assert set(results) == {"contenturl_0.json", "contenturl_1.json", "report.json"}
    for result in results.values():
        data = blobs[result["blob"]]
        assert result["size"] == len(data)
        assert result["sha256"] == hashlib.sha256(data).hexdigest()
        assert result["validation"]["valid"] is True
        for derived in result["transcripts"]:
            assert derived["sha256"] == hashlib.sha256(blobs[derived["blob"]]).hexdigest()
    assert (
        results["contenturl_0.json"]["source"] == "https://audio.example.invalid/calls/call-0042-stereo.wav"
    )
    assert "sig=" not in json.dumps(manifest)
    assert "sig=" not in blobs[root + "transcription.json"].decode()

    # Readable outputs parse with the well-known libraries, and channel labels are applied.
    captions = list(srt.parse(blobs[root + "transcript/call-0042-stereo.srt"].decode()))
    assert captions
    vtt = webvtt.from_buffer(io.StringIO(blobs[root + "transcript/call-0042-stereo.vtt"].decode()))
    assert len(vtt.captions) >= 1
    assert "Agent" in blobs[root + "transcript/call-0042-stereo.txt"].decode()
    transcript = json.loads(blobs[root + "transcript/memo.json"])
    assert (transcript["schemaVersion"], transcript["locale"]) == ("2.0", "en-US")  # the job's locale

    # Blob metadata lets consumers filter without opening the blob.
    props = stack.parts.destination.find(root + "raw/contenturl_0.json")
    assert props.metadata["transcriptionid"] == job
    assert props.metadata["sourcefile"] == "contenturl_0.json"

    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
    assert record.state is LedgerState.HARVESTED
    assert record.manifest_blob == root + "manifest.json"


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_failed_job_gets_a_failure_manifest(make_stack, api_version):
    stack = make_stack(api_version)
    job = stack.submit(["fail-1.wav", "fail-2.wav"])
    assert str(stack.finished(job).status) == "Failed"
    _, outcomes = poll_and_harvest(stack)
    assert outcomes == [Outcome.HARVESTED]
    manifest = stack.manifest(job)
    assert manifest["status"] == "Failed"
    assert manifest["error"]["code"]
    assert manifest["error"]["message"]
    names = {name.rsplit("/", 1)[-1] for name in stack.blobs(job)}
    assert {"transcription.json", "manifest.json"} <= names
    assert not any(name.endswith(".vtt") for name in names)


def test_partially_failed_job_lists_its_failures(make_stack):
    stack = make_stack()
    job = stack.submit(["ok.wav", "fail-me.wav"])
    assert str(stack.finished(job).status) == "Succeeded"
    poll_and_harvest(stack)
    report = stack.manifest(job)["report"]
    assert report["successfulTranscriptionsCount"] == 1
    assert report["failedTranscriptionsCount"] == 1
    assert report["failures"][0]["source"].endswith("fail-me.wav")
    assert report["failures"][0]["errorMessage"]


def test_multi_page_file_list_is_read_in_full(make_stack):
    stack = make_stack(OUTPUT_FORMATS="json")
    names = [f"clip-{i:03d}.wav?phrases=1" for i in range(105)]
    job = stack.submit(names)
    stack.finished(job)
    stack.emulator.admin.reset_stats()
    poll_and_harvest(stack)
    manifest = stack.manifest(job)
    assert len(manifest["results"]) == 106
    assert stack.emulator.admin.stats().routes["GET /transcriptions/{id}/files"] >= 2
    stems = {d["blob"].rsplit("/", 1)[-1] for r in manifest["results"] for d in r["transcripts"]}
    assert {"clip-000.json", "clip-104.json"} <= stems


def test_a_polled_job_costs_one_speech_call_to_harvest(make_stack):
    stack = make_stack()
    jobs = [stack.submit([f"one-{i}.wav", f"two-{i}.wav"]) for i in range(3)]
    for job in jobs:
        stack.finished(job)
    runtime.poller(stack.parts).tick()
    requests_sent = [parse_request(body) for body in stack.drain()]
    assert sorted(r.id for r in requests_sent) == sorted(jobs)
    assert all(r.entity is not None and "sig=" not in json.dumps(r.entity) for r in requests_sent)
    stack.emulator.admin.reset_stats()
    outcomes = [runtime.harvester(stack.parts).harvest(request) for request in requests_sent]
    assert outcomes == [Outcome.HARVESTED] * 3
    # The entity came with the request: each harvest only lists its files.
    assert stack.emulator.admin.stats().routes == {"GET /transcriptions/{id}/files": 3}


def test_a_harvest_reads_its_ledger_row_once_and_its_folder_once(make_stack):
    """Per job: one read of the row, two conditional writes (Harvesting, Harvested: the second on the ETag
    of the first), and one listing of the job's folder, which also tells whether a manifest exists."""
    stack = make_stack()
    job = stack.submit(["one.wav", "two.wav"])
    stack.finished(job)
    runtime.poller(stack.parts).tick()
    [request] = [parse_request(body) for body in stack.drain()]
    calls: list[str] = []

    class CountedLedger(Ledger):
        def get(self, kind, job_id):
            calls.append("ledger.get")
            return super().get(kind, job_id)

        def save(self, record):
            calls.append(f"ledger.save {record.state.value}")
            return super().save(record)

    class CountedDestination(Destination):
        def find(self, path):
            calls.append("destination.find")
            return super().find(path)

        def folder(self, prefix):
            calls.append("destination.folder")
            return super().folder(prefix)

    parts = dataclasses.replace(
        stack.parts,
        ledger=CountedLedger.open(stack.settings.storage, stack.settings.ledger_table),
        destination=CountedDestination(stack.parts.destination.container),
    )
    assert runtime.harvester(parts).harvest(request) is Outcome.HARVESTED
    assert sorted(calls) == [
        "destination.folder",
        "ledger.get",
        "ledger.save Harvested",
        "ledger.save Harvesting",
    ]


def test_a_job_deleted_after_it_was_listed_is_missing_not_an_empty_harvest(make_stack):
    stack = make_stack()
    job = stack.submit(["gone.wav"])
    stack.finished(job)
    runtime.poller(stack.parts).tick()
    [request] = [parse_request(body) for body in stack.drain()]
    stack.speech.delete_transcription(job)
    outcome = runtime.harvester(stack.parts).harvest(request)
    assert outcome is Outcome.MISSING
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, job).state is LedgerState.MISSING
    assert stack.blobs(job) == {}


def test_redelivery_changes_and_downloads_nothing(make_stack):
    stack = make_stack()
    job = stack.submit(["a.wav"])
    stack.finished(job)
    poll_and_harvest(stack)
    before = {b.name: b.etag for b in stack.parts.destination.container.list_blobs()}
    stack.emulator.admin.reset_stats()
    outcome = runtime.harvester(stack.parts).harvest(HarvestRequest(id=job))
    assert outcome is Outcome.ALREADY_HARVESTED
    assert stack.emulator.admin.stats().total == 0
    after = {b.name: b.etag for b in stack.parts.destination.container.list_blobs()}
    assert after == before


def test_resume_after_a_crash_before_the_manifest(make_stack):
    stack = make_stack()
    job = stack.submit(["a.wav", "b.wav"])
    stack.finished(job)
    poll_and_harvest(stack)
    manifest_path = f"transcriptions/{job}/manifest.json"
    first_manifest = stack.manifest(job)
    stack.parts.destination.container.delete_blob(manifest_path)
    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
    stack.parts.ledger.save(record.model_copy(update={"state": LedgerState.QUEUED}))
    before = {b.name: b.etag for b in stack.parts.destination.container.list_blobs()}

    assert runtime.harvester(stack.parts).harvest(HarvestRequest(id=job)) is Outcome.HARVESTED
    after = {b.name: b.etag for b in stack.parts.destination.container.list_blobs()}
    assert {k: v for k, v in after.items() if k != manifest_path} == before
    second_manifest = stack.manifest(job)
    assert second_manifest["results"] == first_manifest["results"]


def test_concurrent_duplicates_write_each_blob_once(make_stack):
    stack = make_stack()
    job = stack.submit(["a-stereo.wav?phrases=20", "b.wav?phrases=20"])
    stack.finished(job)
    runtime.poller(stack.parts).tick()
    stack.drain()
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def run():
        try:
            barrier.wait(10)
            outcomes.append(runtime.harvester(stack.parts).harvest(HarvestRequest(id=job)))
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert Outcome.HARVESTED in outcomes
    blobs = stack.blobs(job)
    manifest = stack.manifest(job)
    for result in manifest["results"]:
        assert hashlib.sha256(blobs[result["blob"]]).hexdigest() == result["sha256"]
        for derived in result["transcripts"]:
            assert hashlib.sha256(blobs[derived["blob"]]).hexdigest() == derived["sha256"]
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, job).state is LedgerState.HARVESTED


def test_throttled_service_is_retried_with_retry_after(make_stack):
    stack = make_stack()
    job = stack.submit(["a.wav"])
    stack.finished(job)
    runtime.poller(stack.parts).tick()
    stack.emulator.admin.add_fault("GET /transcriptions/{id}/files", "429", count=2, retry_after=1)
    stack.emulator.admin.add_fault("GET /transcriptions/{id}", "503", count=1, retry_after=1)
    [body] = stack.drain()
    assert runtime.harvester(stack.parts).harvest(parse_request(body)) is Outcome.HARVESTED
    stats = stack.emulator.admin.stats()
    assert stats.statuses.get("429", 0) >= 2
    assert stack.manifest(job)["status"] == "Succeeded"


def test_expired_sas_is_refreshed_by_listing_again(make_stack):
    stack = make_stack()
    job = stack.submit(["a.wav", "b.wav"])
    stack.finished(job)
    runtime.poller(stack.parts).tick()
    stack.emulator.admin.add_fault("GET /transcriptions/{id}/files", "expired-sas", count=1)
    stack.emulator.admin.reset_stats()
    [body] = stack.drain()
    assert runtime.harvester(stack.parts).harvest(parse_request(body)) is Outcome.HARVESTED
    assert stack.emulator.admin.stats().routes["GET /transcriptions/{id}/files"] >= 2
    assert len(stack.manifest(job)["results"]) == 3


def test_malformed_message_goes_to_poison_with_its_reason(make_stack):
    stack = make_stack()
    runtime.handle_message(b'{"id": "../../etc/passwd"}', 1, stack.parts)
    [poisoned] = poison_reader(stack.env["AzureWebJobsStorage"], stack.settings.harvest_queue).peek_messages()
    envelope = json.loads(poisoned.content)
    assert "must be a canonical UUID" in envelope["reason"]
    assert envelope["body"] == '{"id": "../../etc/passwd"}'


def test_last_failed_attempt_poisons_and_marks_the_job(make_stack):
    stack = make_stack(HARVEST_MAX_ATTEMPTS="2")
    job = stack.submit(["a.wav"])
    stack.finished(job)
    runtime.poller(stack.parts).tick()
    [body] = stack.drain()
    stack.emulator.admin.add_fault("GET /transcriptions/{id}/files", "500", count=1000)
    impatient = SpeechClient(
        stack.settings.speech_endpoint,
        api_version=stack.settings.speech_api_version,
        key=EMULATOR_KEY,
        retry=RetryRules(max_attempts=2, base=0.01, cap=0.01),
    )
    parts = dataclasses.replace(stack.parts, speech=impatient)
    with pytest.raises(ServiceError, match=r"500"):
        runtime.handle_message(body, 1, parts)
    runtime.handle_message(body, 2, parts)  # the last attempt: poisoned, not raised
    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, job)
    assert record.state is LedgerState.POISONED
    assert "gave up after 2 attempts" in record.detail
    [poisoned] = poison_reader(stack.env["AzureWebJobsStorage"], stack.settings.harvest_queue).peek_messages()
    assert "gave up after 2 attempts" in json.loads(poisoned.content)["reason"]
    assert "emulator-key" not in poisoned.content.decode()


@pytest.mark.parametrize("api_version", ["2024-11-15", "v3.2"])
def test_delete_after_harvest(make_stack, api_version):
    stack = make_stack(api_version, DELETE_AFTER_HARVEST="true")
    job = stack.submit(["a.wav"])
    stack.finished(job)
    poll_and_harvest(stack)
    assert stack.manifest(job) is not None
    with pytest.raises(NotFoundError):
        stack.speech.get_transcription(job)


@pytest.mark.parametrize("api_version", ["2024-11-15", "2025-10-15"])
def test_job_with_destination_container_url_is_read_with_our_credential(make_stack, api_version):
    """With destinationContainerUrl the service returns plain URLs (no SAS): we read them as the destination."""
    stack = make_stack(api_version)
    target = container_sas_url(stack.env["AzureWebJobsStorage"], f"speech-out-{uuid.uuid4().hex[:8]}", "rcwl")
    job = stack.submit(["byos.wav"], destination_container_url=target)
    stack.finished(job)
    [result] = [f for f in stack.speech.list_files(job) if f.kind == "Transcription"]
    assert "sig=" not in result.content_url
    poll_and_harvest(stack)
    manifest = stack.manifest(job)
    assert manifest["status"] == "Succeeded"
    assert {r["name"] for r in manifest["results"]} == {"contenturl_0.json", "report.json"}
    assert all(r["validation"]["valid"] for r in manifest["results"])
    assert "sig=" not in json.dumps(manifest)
    assert "sig=" not in stack.blobs(job)[f"transcriptions/{job}/transcription.json"].decode()


def test_harvest_over_its_time_budget_continues_in_a_new_message(make_stack):
    """Bounded work per invocation: past the budget the harvest enqueues its continuation and stops cleanly."""
    stack = make_stack(HARVEST_TIME_BUDGET_SECONDS="60")
    job = stack.submit(["a.wav", "b.wav", "c.wav"])
    stack.finished(job)
    runtime.poller(stack.parts).tick()
    [body] = stack.drain()
    ticks = iter(range(0, 10_000, 45))  # each look at the clock: 45 s later
    slow = dataclasses.replace(runtime.harvester(stack.parts), monotonic=lambda: float(next(ticks)))

    assert slow.harvest(parse_request(body)) is Outcome.CONTINUED
    assert stack.manifest(job) is None
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, job).state is LedgerState.QUEUED
    [continuation] = stack.drain()
    assert parse_request(continuation).reason.value == "continuation"
    done_before = {
        b.name: b.etag for b in stack.parts.destination.container.list_blobs() if "/raw/" in b.name
    }
    assert done_before

    assert runtime.harvester(stack.parts).harvest(parse_request(continuation)) is Outcome.HARVESTED
    manifest = stack.manifest(job)
    assert len(manifest["results"]) == 4
    after = {b.name: b.etag for b in stack.parts.destination.container.list_blobs()}
    assert all(after[name] == etag for name, etag in done_before.items())


def test_files_harvested_in_parallel_take_their_stems_in_file_order(make_stack):
    stack = make_stack(HARVEST_FILE_CONCURRENCY="8", OUTPUT_FORMATS="txt")
    # Twelve inputs with one name; the first files are the largest, so they finish downloading last.
    names = [f"call.wav?phrases={60 - 5 * i}" for i in range(12)]
    job = stack.submit(names)
    stack.finished(job)
    _, outcomes = poll_and_harvest(stack)
    assert outcomes == [Outcome.HARVESTED]
    results = [r for r in stack.manifest(job)["results"] if r["kind"] == "Transcription"]
    assert [r["name"] for r in results] == sorted(r["name"] for r in results)  # the manifest is in file order
    stems = [r["transcripts"][0]["blob"].rsplit("/", 1)[-1] for r in results]
    assert stems == ["call.txt"] + [f"call-{n}.txt" for n in range(2, 13)]
    blobs = stack.blobs(job)
    for result, stem in zip(results, stems, strict=True):
        # Each stem holds the transcript of its own file, whatever finished first.
        assert stack.parts.destination.find(result["blob"]).metadata["stem"] == stem.removesuffix(".txt")
        last = json.loads(blobs[result["blob"]])["recognizedPhrases"][-1]["nBest"][0]["display"]
        assert last in blobs[f"transcriptions/{job}/transcript/{stem}"].decode()


def test_an_entity_too_large_for_a_message_is_left_out_and_the_harvest_asks_for_the_job(make_stack):
    stack = make_stack()
    job = stack.submit(["big.wav"])
    entity = stack.finished(job).wire
    huge = {**entity, "contentUrls": [f"https://audio.invalid/{i:04d}/" + "a" * 80 for i in range(1000)]}
    stack.parts.queue.send(HarvestRequest(id=job, entity=huge))
    stack.parts.queue.send(HarvestRequest(id=job, entity=entity))
    first, second = [parse_request(body) for body in stack.drain()]
    assert first.entity is None  # about 100 KB: no queue message holds it
    assert second.entity == entity
    stack.emulator.admin.reset_stats()
    assert runtime.harvester(stack.parts).harvest(first) is Outcome.HARVESTED
    assert stack.emulator.admin.stats().routes == {
        "GET /transcriptions/{id}": 1,
        "GET /transcriptions/{id}/files": 1,
    }
