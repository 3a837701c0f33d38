"""Conformance of the transcription operations, per API version, over real HTTP."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from local.speech_emulator import EmulatorServer
from tests.emulator.api import QUERY_VERSIONS, VERSIONS, SpeechApi, job_id
from tests.fixtures.waiting import wait_for


@pytest.fixture(params=VERSIONS)
def api(request, fresh_emulator: EmulatorServer) -> SpeechApi:
    return SpeechApi(fresh_emulator.endpoint, request.param)


def assert_error(response, status: int, code: str, inner: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["innerError"]["code"] == inner
    assert body["message"]
    return body


def test_create_returns_201_with_location_and_the_versions_shape(api: SpeechApi):
    response = api.create(
        api.body(
            ["https://audio.example/a.wav"],
            wordLevelTimestampsEnabled=True,
            **({"timeToLive": "PT12H"} if not api.in_query else {}),
        )
        | {"description": "first", "customProperties": {"team": "blue"}}
    )

    assert response.status_code == 201, response.text
    entity = response.json()
    assert response.headers["Location"] == entity["self"]
    assert entity["self"].startswith(api.base + "/transcriptions/")
    assert ("?api-version=" + api.version in entity["self"]) == api.in_query
    assert ("api-version" in entity["links"]["files"]) == api.in_query
    assert entity["status"] == "NotStarted"
    assert entity["createdDateTime"].endswith("Z")
    assert entity["lastActionDateTime"] == entity["createdDateTime"]
    assert entity["description"] == "first"
    assert entity["customProperties"] == {"team": "blue"}
    assert "contentUrls" not in entity
    properties = entity["properties"]
    assert properties["wordLevelTimestampsEnabled"] is True
    assert properties["channels"] == [0, 1]
    assert properties["punctuationMode"] == "DictatedAndAutomatic"
    assert "durationMilliseconds" not in properties
    assert "duration" not in properties
    if api.in_query:
        assert properties["timeToLiveHours"] == 48
        assert "diarizationEnabled" not in properties
        assert "timeToLive" not in properties
    else:
        assert properties["timeToLive"] == "PT12H"
        assert properties["diarizationEnabled"] is False


def test_a_job_moves_through_its_lifecycle_and_reports_its_duration(api: SpeechApi):
    created = api.created(api.body(["https://audio.example/a.wav?phrases=2"]))
    seen = set()

    def finished():
        entity = api.job(job_id(created))
        seen.add(entity["status"])
        return entity if entity["status"] == "Succeeded" else None

    entity = wait_for(finished, timeout=10, what="job to succeed")

    assert seen <= {"NotStarted", "Running", "Succeeded"}
    assert entity["lastActionDateTime"] >= entity["createdDateTime"]
    if api.in_query:
        assert entity["properties"]["durationMilliseconds"] == 8000
    else:
        assert entity["properties"]["duration"] == "PT8S"


def test_get_carries_retry_after_only_while_a_job_is_not_finished(
    api: SpeechApi, fresh_emulator: EmulatorServer
):
    running, done = fresh_emulator.admin.seed(1, status="Running") + fresh_emulator.admin.seed(1)

    assert api.get(f"/transcriptions/{running}").headers["Retry-After"] == "1"
    assert "Retry-After" not in api.get(f"/transcriptions/{done}").headers
    assert api.get("/transcriptions").headers["Retry-After"] == "1"


def test_diarization_is_rendered_in_each_versions_shape(api: SpeechApi):
    if api.in_query:
        properties = {"diarization": {"enabled": True, "maxSpeakers": 4}}
    else:
        properties = {
            "diarizationEnabled": False,
            "diarization": {"speakers": {"minCount": 1, "maxCount": 4}},
        }
    entity = api.created(api.body(**properties))

    assert entity["properties"]["diarization"] == properties["diarization"]
    other = SpeechApi(api.endpoint, "v3.2" if api.in_query else "2025-10-15")
    seen_by_other = other.job(job_id(entity))["properties"]["diarization"]
    if api.in_query:
        assert seen_by_other == {"speakers": {"minCount": 1, "maxCount": 4}}
    else:
        assert seen_by_other == {"enabled": True, "maxSpeakers": 4}


def test_update_changes_only_the_versions_updatable_fields(api: SpeechApi):
    entity = api.created(api.body() | {"description": "old"})
    patch = {
        "displayName": "renamed",
        "description": None,
        "customProperties": {"k": "v"},
        "project": {"self": "https://speech.example/projects/p1"},
        "status": "Failed",
    }

    response = api.call("PATCH", entity["self"], json=patch)

    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["displayName"] == "renamed"
    assert "description" not in updated
    assert updated["customProperties"] == {"k": "v"}
    assert updated["status"] != "Failed"
    assert ("project" in updated) == (api.version != "2024-11-15")


def test_patch_accepts_merge_patch_json(api: SpeechApi):
    entity = api.created(api.body())
    response = api.call(
        "PATCH",
        entity["self"],
        data=b'{"displayName": "merged"}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200
    assert response.json()["displayName"] == "merged"


def test_delete_is_idempotent_and_the_job_is_gone(api: SpeechApi):
    entity = api.created(api.body())

    assert api.call("DELETE", entity["self"]).status_code == 204
    assert api.call("DELETE", entity["self"]).status_code == 204
    assert_error(api.call("GET", entity["self"]), 404, "NotFound", "NotFound")


def test_unknown_id_is_404_not_found(api: SpeechApi):
    missing = "00000000-0000-0000-0000-000000000000"
    assert_error(api.get(f"/transcriptions/{missing}"), 404, "NotFound", "NotFound")
    assert_error(api.get(f"/transcriptions/{missing}/files"), 404, "NotFound", "NotFound")


def test_listing_pages_with_top_and_an_absolute_next_link(api: SpeechApi, fresh_emulator: EmulatorServer):
    ids = []
    for minute in range(5):
        ids += fresh_emulator.admin.seed(1, created=datetime(2025, 1, 1, 12, minute, tzinfo=UTC))
    flt = "createdDateTime ge 2025-01-01T12:00:00Z"

    pages = [api.get("/transcriptions", top=2, filter=flt).json()]
    while "@nextLink" in pages[-1]:
        link = pages[-1]["@nextLink"]
        query = parse_qs(urlsplit(link).query)
        assert link.startswith(api.base + "/transcriptions?")
        assert query["filter"] == [flt]
        assert query["top"] == ["2"]
        assert query.get("api-version") == ([api.version] if api.in_query else None)
        pages.append(api.call("GET", link).json())

    assert [len(page["values"]) for page in pages] == [2, 2, 1]
    assert [job_id(entity) for page in pages for entity in page["values"]] == ids


def test_listing_defaults_to_pages_of_100(api: SpeechApi, fresh_emulator: EmulatorServer):
    fresh_emulator.admin.seed(101)
    first = api.get("/transcriptions").json()
    assert len(first["values"]) == 100
    assert len(api.call("GET", first["@nextLink"]).json()["values"]) == 1


def test_listing_rejects_bad_paging(api: SpeechApi):
    assert_error(api.get("/transcriptions", top=0), 400, "InvalidRequest", "UnsupportedPagination")
    assert_error(api.get("/transcriptions", skip="x"), 400, "InvalidRequest", "UnsupportedPagination")


@pytest.fixture
def filter_jobs(fresh_emulator: EmulatorServer) -> dict[str, str]:
    """Five jobs with known names, statuses and times (12:00 .. 12:04 on 2025-01-01)."""
    admin = fresh_emulator.admin
    names = {}
    for minute, (name, status) in enumerate(
        [
            ("alpha", "Succeeded"),
            ("beta", "Failed"),
            ("O'Brien", "Running"),
            ("delta", "Succeeded"),
            ("eps", "NotStarted"),
        ]
    ):
        created = datetime(2025, 1, 1, 12, minute, tzinfo=UTC)
        [names[name]] = admin.seed(
            1, status=status, display_name=name, created=created, last_action=created + timedelta(hours=1)
        )
    return names


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("status eq 'Succeeded'", {"alpha", "delta"}),
        ("status ne 'Succeeded'", {"beta", "O'Brien", "eps"}),
        ("displayName eq 'O''Brien'", {"O'Brien"}),
        ("status eq 'Succeeded' and displayName ne 'alpha'", {"delta"}),
        ("status eq 'Failed' or displayName eq 'eps'", {"beta", "eps"}),
        ("not (status eq 'Succeeded' or status eq 'Failed')", {"O'Brien", "eps"}),
        ("not status eq 'Succeeded' and displayName ne 'eps'", {"beta", "O'Brien"}),
        ("createdDateTime gt 2025-01-01T12:02:00Z", {"delta", "eps"}),
        ("createdDateTime ge 2025-01-01T12:02:00Z", {"O'Brien", "delta", "eps"}),
        ("createdDateTime lt 2025-01-01T12:01:00Z", {"alpha"}),
        ("createdDateTime le 2025-01-01T12:01:00Z", {"alpha", "beta"}),
        ("createdDateTime eq 2025-01-01T12:03:00Z", {"delta"}),
        (
            "lastActionDateTime ge 2025-01-01T13:03:00Z and (status eq 'Succeeded' or locale eq 'de-DE')",
            {"delta"},
        ),
        ("CreatedDateTime GE 2025-01-01T12:04:00+00:00", {"eps"}),
        ("locale eq 'en-US' and description eq 'nothing'", set()),
    ],
)
def test_filter_semantics(api: SpeechApi, filter_jobs: dict[str, str], expression: str, expected: set[str]):
    response = api.get("/transcriptions", filter=expression)
    assert response.status_code == 200, response.text
    assert {entity["displayName"] for entity in response.json()["values"]} == expected


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("status gt 'Succeeded'", "not supported for property 'status'"),
        ("colour eq 'red'", "Unsupported property 'colour'"),
        ("status eq 'Succeeded", "Unterminated string"),
        ("status eq Succeeded", "needs a quoted string"),
        ("(status eq 'Failed'", "Expected ')'"),
        ("status eq 'Failed' and", "Expected a property name"),
        ("createdDateTime gt yesterday", "needs an ISO-8601 date-time"),
        ("status eq 'Failed' status eq 'Failed'", "Unexpected 'status'"),
        ("status == 'Failed'", "Unexpected character '='"),
    ],
)
def test_bad_filters_are_400_unsupported_filter_naming_the_problem(
    api: SpeechApi, expression: str, problem: str
):
    body = assert_error(
        api.get("/transcriptions", filter=expression), 400, "InvalidRequest", "UnsupportedFilter"
    )
    assert problem in body["message"]


def test_401_without_or_with_a_wrong_key_and_bearer_tokens_are_accepted(api: SpeechApi):
    assert_error(
        api.call("GET", api.url("/transcriptions"), headers={"Ocp-Apim-Subscription-Key": "nope"}),
        401,
        "Unauthorized",
        "InvalidSubscription",
    )
    anonymous = SpeechApi(api.endpoint, api.version)
    del anonymous.session.headers["Ocp-Apim-Subscription-Key"]
    assert anonymous.get("/transcriptions").status_code == 401
    assert (
        anonymous.call("GET", api.url("/transcriptions"), headers={"Authorization": "Bearer "}).status_code
        == 401
    )
    bearer = anonymous.call("GET", api.url("/transcriptions"), headers={"Authorization": "Bearer eyJ.token"})
    assert bearer.status_code == 200


@pytest.mark.parametrize("version", QUERY_VERSIONS)
def test_query_versions_require_a_supported_api_version(fresh_emulator: EmulatorServer, version: str):
    api = SpeechApi(fresh_emulator.endpoint, version)
    bare = api.call("GET", api.base + "/transcriptions")
    assert "api-version" in assert_error(bare, 400, "InvalidRequest", "InvalidParameterValue")["message"]
    wrong = api.call("GET", api.base + "/transcriptions?api-version=2023-01-01")
    assert "2023-01-01" in assert_error(wrong, 400, "InvalidRequest", "InvalidParameterValue")["message"]
    legacy_create = api.call("POST", api.url("/transcriptions"), json=api.body())
    assert_error(legacy_create, 405, "NotAllowed", "NotAllowed")


def test_v32_has_no_submit_route(fresh_emulator: EmulatorServer):
    api = SpeechApi(fresh_emulator.endpoint, "v3.2")
    assert api.call("POST", api.url("/transcriptions:submit"), json=api.body()).status_code == 404


@pytest.mark.parametrize("version", QUERY_VERSIONS)
@pytest.mark.parametrize("hours", [None, 5, 745])
def test_ttl_hours_is_required_and_bounded(fresh_emulator: EmulatorServer, version: str, hours: int | None):
    api = SpeechApi(fresh_emulator.endpoint, version)
    body = api.body(timeToLiveHours=hours)
    if hours is None:
        del body["properties"]["timeToLiveHours"]
    assert_error(api.create(body), 400, "InvalidRequest", "InvalidTimeToLive")


def test_v32_ttl_is_an_optional_iso_duration_up_to_31_days(fresh_emulator: EmulatorServer):
    api = SpeechApi(fresh_emulator.endpoint, "v3.2")
    assert api.create(api.body()).status_code == 201
    assert_error(api.create(api.body(timeToLive="P32D")), 400, "InvalidRequest", "InvalidTimeToLive")
    assert_error(api.create(api.body(timeToLive="two days")), 400, "InvalidRequest", "InvalidTimeToLive")


@pytest.mark.parametrize("version", QUERY_VERSIONS)
def test_properties_are_required_from_2024(fresh_emulator: EmulatorServer, version: str):
    api = SpeechApi(fresh_emulator.endpoint, version)
    body = api.body()
    del body["properties"]
    assert "properties" in assert_error(api.create(body), 400, "InvalidRequest", "InvalidPayload")["message"]


def test_create_validates_inputs_and_body(api: SpeechApi):
    both = api.body() | {"contentContainerUrl": "https://x.blob.core.windows.net/c?sig=1"}
    assert_error(api.create(both), 400, "InvalidRequest", "OnlyOneOfUrlsOrContainerOrDataset")
    neither = api.body()
    del neither["contentUrls"]
    assert_error(api.create(neither), 400, "InvalidRequest", "OnlyOneOfUrlsOrContainerOrDataset")
    too_many = api.body([f"https://audio.example/{n}.wav" for n in range(1001)])
    assert_error(api.create(too_many), 400, "InvalidRequest", "ExceededNumberOfRecordingsUris")
    assert_error(api.create(api.body() | {"locale": "xx-XX"}), 400, "InvalidRequest", "InvalidLocale")
    assert_error(api.create(api.body() | {"displayName": ""}), 400, "InvalidRequest", "InvalidPayload")
    create_url = api.url("/transcriptions:submit" if api.in_query else "/transcriptions")
    not_json = api.call("POST", create_url, data=b"{", headers={"Content-Type": "application/json"})
    assert_error(not_json, 400, "InvalidRequest", "InvalidRequestBodyFormat")


def test_locales_shape_per_version(api: SpeechApi):
    body = api.get("/transcriptions/locales").json()
    if api.in_query:
        assert set(body) == {"Transcribe", "Submit"}
        assert "en-US" in body["Submit"]
    else:
        assert isinstance(body, list)
        assert "en-US" in body


def test_a_job_created_in_one_version_reads_in_all(fresh_emulator: EmulatorServer):
    entity = SpeechApi(fresh_emulator.endpoint, "v3.2").created(
        SpeechApi(fresh_emulator.endpoint, "v3.2").body(timeToLive="P2D")
    )
    for version in QUERY_VERSIONS:
        seen = SpeechApi(fresh_emulator.endpoint, version).job(job_id(entity))
        assert seen["properties"]["timeToLiveHours"] == 48
        assert seen["self"].endswith("?api-version=" + version)
