"""Result files: listing, content, sizes, SAS behaviour, destination containers and container input."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from azure.storage.blob import BlobClient, BlobServiceClient

from local.azurite import Azurite
from local.speech_emulator import EmulatorServer
from local.speech_emulator.wire import TranscriptionReport, TranscriptResult
from tests.emulator.api import QUERY_VERSIONS, VERSIONS, SpeechApi, container_sas_url, download, job_id
from tests.fixtures.waiting import wait_for


@pytest.fixture(params=VERSIONS)
def api(request, fresh_emulator: EmulatorServer) -> SpeechApi:
    return SpeechApi(fresh_emulator.endpoint, request.param)


def finished(api: SpeechApi, emulator: EmulatorServer, body: dict) -> str:
    """Create a job and force it to Succeeded at once (lifecycle timing is tested elsewhere)."""
    created = job_id(api.created(body))
    emulator.admin.complete(created)
    return created


def succeed_naturally(api: SpeechApi, body: dict) -> dict:
    created = job_id(api.created(body))
    return wait_for(
        lambda: (entity := api.job(created))["status"] in {"Succeeded", "Failed"} and entity,
        timeout=10,
        what="job to finish",
    )


def test_files_list_one_transcription_per_input_and_a_report(api: SpeechApi, fresh_emulator: EmulatorServer):
    urls = ["https://audio.example/one.wav", "https://audio.example/two.wav?phrases=5"]
    created = finished(api, fresh_emulator, api.body(urls))

    files = api.files(created)

    assert [(f["name"], f["kind"]) for f in files] == [
        ("contenturl_0.json", "Transcription"),
        ("contenturl_1.json", "Transcription"),
        ("report.json", "TranscriptionReport"),
    ]
    for item in files:
        assert ("?api-version=" + api.version in item["self"]) == api.in_query
        content = download(item["links"]["contentUrl"])
        assert content.status_code == 200
        assert len(content.content) == item["properties"]["size"]
        assert item["createdDateTime"].endswith("Z")
        assert "durationMilliseconds" not in item["properties"]
    results = [
        TranscriptResult.model_validate_json(download(f["links"]["contentUrl"]).content) for f in files[:2]
    ]
    assert [r.source for r in results] == urls
    assert [len(r.recognized_phrases) for r in results] == [3, 5]
    assert all((r.duration_milliseconds is not None) == api.in_query for r in results)
    assert results[1].duration_in_ticks == 5 * 4 * 10_000_000
    assert results[1].duration == "PT20S"
    report = TranscriptionReport.model_validate_json(download(files[2]["links"]["contentUrl"]).content)
    assert (report.successful_transcriptions_count, report.failed_transcriptions_count) == (2, 0)


def test_get_file_by_id_and_unknown_file_is_404(api: SpeechApi, fresh_emulator: EmulatorServer):
    created = finished(api, fresh_emulator, api.body())
    listed = api.files(created)[0]

    got = api.call("GET", listed["self"])

    assert got.status_code == 200
    assert got.json()["name"] == listed["name"]
    assert "Retry-After" not in got.headers
    assert api.get(f"/transcriptions/{created}/files/{uuid.uuid4()}").status_code == 404


def test_files_of_an_unfinished_job_are_empty_with_retry_after(
    api: SpeechApi, fresh_emulator: EmulatorServer
):
    [running] = fresh_emulator.admin.seed(1, status="Running")
    response = api.get(f"/transcriptions/{running}/files")
    assert response.json()["values"] == []
    assert response.headers["Retry-After"] == "1"


def test_files_page_and_filter(api: SpeechApi, fresh_emulator: EmulatorServer):
    created = finished(api, fresh_emulator, api.body([f"https://audio.example/{n}.wav" for n in range(3)]))
    sas_param = {"sasLifetimeMinutes": 30} if api.in_query else {"sasValidityInSeconds": 1800}

    first = api.get(f"/transcriptions/{created}/files", top=3, **sas_param).json()
    rest = api.call("GET", first["@nextLink"]).json()

    query = parse_qs(urlsplit(first["@nextLink"]).query)
    assert query["skip"] == ["3"]
    assert {name: int(value) for name, [value] in query.items() if name.startswith("sas")} == sas_param
    assert [f["name"] for f in first["values"] + rest["values"]][-1] == "report.json"
    assert "@nextLink" not in rest
    reports = api.files(created, filter="kind eq 'TranscriptionReport'")
    assert [f["name"] for f in reports] == ["report.json"]
    named = api.files(created, filter="name eq 'contenturl_1.json' or name eq 'contenturl_2.json'")
    assert [f["name"] for f in named] == ["contenturl_1.json", "contenturl_2.json"]
    assert (
        api.files(created, filter="createdDateTime gt 2000-01-01T00:00:00Z and kind ne 'Transcription'")
        == reports
    )
    bad = api.get(f"/transcriptions/{created}/files", filter="size gt 3")
    assert bad.status_code == 400
    assert bad.json()["innerError"]["code"] == "UnsupportedFilter"


def test_result_content_follows_the_url_and_the_properties(api: SpeechApi, fresh_emulator: EmulatorServer):
    properties = {
        "wordLevelTimestampsEnabled": True,
        "displayFormWordLevelTimestampsEnabled": True,
        "languageIdentification": {"candidateLocales": ["en-US", "de-DE"]},
    } | (
        {"diarization": {"enabled": True, "maxSpeakers": 3}}
        if api.in_query
        else {"diarization": {"speakers": {"minCount": 1, "maxCount": 3}}}
    )
    urls = ["https://audio.example/call-stereo.wav?phrases=6", "https://audio.example/mono.wav?phrases=2"]
    created = finished(api, fresh_emulator, api.body(urls, **properties))

    stereo, mono = (
        TranscriptResult.model_validate_json(download(f["links"]["contentUrl"]).content)
        for f in api.files(created)[:2]
    )

    assert [c.channel for c in stereo.combined_recognized_phrases] == [0, 1]
    assert {p.channel for p in stereo.recognized_phrases} == {0, 1}
    assert len(stereo.recognized_phrases) == 6
    assert [c.channel for c in mono.combined_recognized_phrases] == [0]
    for phrase in stereo.recognized_phrases + mono.recognized_phrases:
        best = phrase.n_best[0]
        assert phrase.recognition_status == "Success"
        assert 1 <= phrase.speaker <= 3
        assert phrase.locale in {"en-US", "de-DE"}
        assert [w.word for w in best.words] == best.lexical.split(" ")
        assert " ".join(w.display_text for w in best.display_words) == best.display
        assert phrase.offset_in_ticks == best.words[0].offset_in_ticks
    channel_0 = [p.n_best[0].display for p in stereo.recognized_phrases if p.channel == 0]
    assert stereo.combined_recognized_phrases[0].display == " ".join(channel_0)


def test_result_content_is_deterministic_per_url(fresh_emulator: EmulatorServer):
    api = SpeechApi(fresh_emulator.endpoint, "2024-11-15")
    url = "https://audio.example/same.wav?phrases=4&sig=secret1"
    other_sas = "https://elsewhere.example/x/same.wav?phrases=4&sig=secret2&se=2030-01-01"
    phrases = []
    for content_url in (url, other_sas, "https://audio.example/different.wav?phrases=4"):
        created = finished(api, fresh_emulator, api.body([content_url]))
        body = json.loads(download(api.files(created)[0]["links"]["contentUrl"]).content)
        phrases.append(body["recognizedPhrases"])
    assert phrases[0] == phrases[1] != phrases[2]


def test_partially_failed_job_succeeds_with_failures_in_the_report(api: SpeechApi):
    urls = ["https://audio.example/good.wav", "https://audio.example/will-fail.wav"]
    entity = succeed_naturally(api, api.body(urls))

    assert entity["status"] == "Succeeded"
    assert "error" not in entity["properties"]
    files = api.files(job_id(entity))
    assert [f["name"] for f in files] == ["contenturl_0.json", "report.json"]
    report = json.loads(download(files[-1]["links"]["contentUrl"]).content)
    assert report["successfulTranscriptionsCount"] == 1
    assert report["failedTranscriptionsCount"] == 1
    failed = report["details"][1]
    assert failed["source"] == urls[1]
    assert failed["status"] == "Failed"
    assert failed["errorKind"]
    assert failed["errorMessage"]
    assert report["details"][0] == {"source": urls[0], "status": "Succeeded"}


def test_a_job_whose_inputs_all_fail_is_failed_with_an_error(api: SpeechApi):
    entity = succeed_naturally(
        api, api.body(["https://audio.example/fail-1.wav", "https://audio.example/fail-2.wav"])
    )

    assert entity["status"] == "Failed"
    assert set(entity["properties"]["error"]) == {"code", "message"}
    assert "duration" not in entity["properties"]
    assert "durationMilliseconds" not in entity["properties"]
    files = api.files(job_id(entity))
    assert [f["kind"] for f in files] == ["TranscriptionReport"]


def test_container_input_names_files_after_the_blobs(fresh_emulator: EmulatorServer, azurite: Azurite):
    api = SpeechApi(fresh_emulator.endpoint, "2025-10-15")
    name = f"input-{uuid.uuid4().hex}"
    sas_url = container_sas_url(azurite.connection_string, name, "rl")
    container = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client(name)
    for blob in ("a.wav", "sub/b-stereo.wav", "c-fail.wav"):
        container.upload_blob(blob, b"RIFF")
    body = api.body() | {"contentContainerUrl": sas_url}
    del body["contentUrls"]

    created = finished(api, fresh_emulator, body)

    files = api.files(created)
    assert [f["name"] for f in files] == ["a.wav.json", "sub/b-stereo.wav.json", "report.json"]
    source = TranscriptResult.model_validate_json(download(files[1]["links"]["contentUrl"]).content).source
    assert source == f"{container.url}/sub/b-stereo.wav"


def test_an_unreadable_input_container_is_rejected(fresh_emulator: EmulatorServer, azurite: Azurite):
    api = SpeechApi(fresh_emulator.endpoint, "2024-11-15")
    no_list = container_sas_url(azurite.connection_string, f"input-{uuid.uuid4().hex}", "r")
    body = api.body() | {"contentContainerUrl": no_list}
    del body["contentUrls"]
    response = api.create(body)
    assert response.status_code == 400
    assert response.json()["innerError"]["code"] == "InaccessibleCustomerStorage"


@pytest.mark.parametrize("version", QUERY_VERSIONS)
def test_destination_container_receives_results_and_urls_carry_no_sas(
    fresh_emulator: EmulatorServer, azurite: Azurite, version: str
):
    api = SpeechApi(fresh_emulator.endpoint, version)
    name = f"dest-{uuid.uuid4().hex}"
    destination = container_sas_url(azurite.connection_string, name, "racwl")

    created = finished(api, fresh_emulator, api.body(destinationContainerUrl=destination))

    files = api.files(created, sasLifetimeMinutes=5)
    container = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client(name)
    blobs = {blob.name: blob.size for blob in container.list_blobs()}
    assert blobs == {
        f"{created}_0.json": files[0]["properties"]["size"],
        f"{created}_report.json": files[1]["properties"]["size"],
    }
    for item in files:
        url = item["links"]["contentUrl"]
        assert "?" not in url
        assert url.startswith(container.url + "/")
        assert download(url).status_code in {403, 404}  # private container: no SAS, no access


@pytest.mark.parametrize(
    "make_url",
    [
        lambda sas: sas.replace("?", "/folder?", 1),
        lambda sas: sas.split("?")[0],
        lambda sas: sas.replace("sr=c", "sr=b"),
    ],
    ids=["sub-directory", "no-sas", "blob-sas"],
)
def test_destination_must_be_a_container_sas_url(fresh_emulator: EmulatorServer, azurite: Azurite, make_url):
    api = SpeechApi(fresh_emulator.endpoint, "2024-11-15")
    sas = container_sas_url(azurite.connection_string, f"dest-{uuid.uuid4().hex}", "racwl")
    response = api.create(api.body(destinationContainerUrl=make_url(sas)))
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidRequest"
    assert "not a SAS URL for a container" in response.json()["message"]


def test_sas_validity_is_honoured_and_azurite_refuses_expired_urls(fresh_emulator: EmulatorServer):
    api = SpeechApi(fresh_emulator.endpoint, "v3.2")
    created = finished(api, fresh_emulator, api.body())

    [item, _] = api.files(created, sasValidityInSeconds=1)

    url = item["links"]["contentUrl"]
    expiry = datetime.fromisoformat(parse_qs(urlsplit(url).query)["se"][0])
    assert expiry <= datetime.now(UTC) + timedelta(seconds=2)
    wait_for(lambda: download(url).status_code == 403, timeout=5, what="the short SAS to expire")


def test_sas_lifetime_minutes_sets_the_expiry(fresh_emulator: EmulatorServer):
    api = SpeechApi(fresh_emulator.endpoint, "2024-11-15")
    created = finished(api, fresh_emulator, api.body())

    default, short = (
        api.files(created, **params)[0]["links"]["contentUrl"] for params in ({}, {"sasLifetimeMinutes": 5})
    )

    def expiry(url: str) -> datetime:
        return datetime.fromisoformat(parse_qs(urlsplit(url).query)["se"][0])

    now = datetime.now(UTC)
    assert timedelta(hours=11, minutes=59) < expiry(default) - now <= timedelta(hours=12)
    assert timedelta(minutes=4) < expiry(short) - now <= timedelta(minutes=5)
    assert api.get(f"/transcriptions/{created}/files", sasLifetimeMinutes=0).status_code == 400


def test_expired_sas_fault_hands_out_urls_that_azurite_refuses(fresh_emulator: EmulatorServer):
    api = SpeechApi(fresh_emulator.endpoint, "2024-11-15")
    created = finished(api, fresh_emulator, api.body())
    fresh_emulator.admin.add_fault("GET /transcriptions/{id}/files", "expired-sas", count=1)

    expired = api.files(created)[0]["links"]["contentUrl"]
    fresh = api.files(created)[0]["links"]["contentUrl"]

    assert download(expired).status_code == 403
    assert download(fresh).status_code == 200


def test_deleting_a_job_removes_its_managed_results(fresh_emulator: EmulatorServer):
    api = SpeechApi(fresh_emulator.endpoint, "2024-11-15")
    created = finished(api, fresh_emulator, api.body())
    url = api.files(created)[0]["links"]["contentUrl"]
    assert download(url).status_code == 200

    api.call("DELETE", api.url(f"/transcriptions/{created}"))

    wait_for(lambda: download(url).status_code == 404, timeout=5, what="result blob to be deleted")


def test_large_result_file_is_streamed_into_blocks(fresh_emulator: EmulatorServer):
    api = SpeechApi(fresh_emulator.endpoint, "2024-11-15")
    size = 6_000_000
    created = finished(api, fresh_emulator, api.body([f"https://audio.example/long.wav?bytes={size}"]))

    item = api.files(created)[0]

    content = download(item["links"]["contentUrl"]).content
    assert len(content) == item["properties"]["size"] >= size
    parsed = TranscriptResult.model_validate_json(content)
    assert parsed.duration_in_ticks == len(parsed.recognized_phrases) * 4 * 10_000_000
    combined = " ".join(phrase.n_best[0].lexical for phrase in parsed.recognized_phrases)
    assert parsed.combined_recognized_phrases[0].lexical == combined
    committed, _ = BlobClient.from_blob_url(item["links"]["contentUrl"]).get_block_list("committed")
    assert len(committed) == 2  # 6 MB went up as 4 MiB blocks, never as one buffer


def test_result_files_take_the_shapes_real_files_do(fresh_emulator: EmulatorServer):
    """Pretty-printed, non-ASCII, empty and unrecognised phrases, channels listed in turn, long phrases,
    and milliseconds on phrases and words from 2024-11-15 (only milliseconds with `times=ms`)."""
    api = SpeechApi(fresh_emulator.endpoint, "2024-11-15")
    knobs = "phrases=40&pretty=1&empty=3&nomatch=4&long=5&order=channel"
    urls = [f"https://audio.example/call-stereo.wav?{knobs}", f"https://audio.example/m.wav?{knobs}&times=ms"]
    created = finished(api, fresh_emulator, api.body(urls, wordLevelTimestampsEnabled=True))
    stereo_data, ms_data = (download(f["links"]["contentUrl"]).content for f in api.files(created)[:2])

    assert stereo_data.startswith(b'{\n  "source": "https://audio.example/call-stereo.wav?')
    assert b'\n    {\n      "recognitionStatus": "Success",\n' in stereo_data
    stereo = json.loads(stereo_data)
    phrases = stereo["recognizedPhrases"]
    assert len(phrases) == 40
    assert [p["channel"] for p in phrases] == [0] * 20 + [1] * 20
    assert any(ord(char) > 127 for char in stereo_data.decode())
    unrecognised = [p for p in phrases if p["recognitionStatus"] != "Success"]
    assert len(unrecognised) == 10
    assert {json.dumps(p.get("nBest")) for p in unrecognised} == {"null", "[]"}
    empty = [p for p in phrases if p.get("nBest") and p["nBest"][0]["display"] == ""]
    assert len(empty) == 10  # every third, less those every fourth took
    assert (
        max(len(p["nBest"][0]["words"]) for p in phrases if p.get("nBest") and p["nBest"][0]["display"]) >= 40
    )
    for phrase in phrases:
        assert phrase["offsetMilliseconds"] * 10_000 == phrase["offsetInTicks"]
        for word in phrase.get("nBest", [{}])[0].get("words", []) if phrase.get("nBest") else []:
            assert word["durationMilliseconds"] * 10_000 == word["durationInTicks"]
    ends = [p["offsetInTicks"] + p["durationInTicks"] for p in phrases]
    assert stereo["durationInTicks"] >= max(ends)

    for phrase in json.loads(ms_data)["recognizedPhrases"]:
        assert not {"offset", "duration", "offsetInTicks", "durationInTicks"} & set(phrase)
        assert {"offsetMilliseconds", "durationMilliseconds"} <= set(phrase)

    v32 = SpeechApi(fresh_emulator.endpoint, "v3.2")
    created = finished(v32, fresh_emulator, v32.body(urls, wordLevelTimestampsEnabled=True))
    for item in v32.files(created)[:2]:
        assert (
            b"Milliseconds"
            not in download(item["links"]["contentUrl"]).content.split(b"combinedRecognized")[1]
        )
