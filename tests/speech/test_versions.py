import pytest

from shared.speech.versions import (
    ApiVersion,
    api_url,
    normalize_endpoint,
    rebase_next_link,
    sas_query,
    segment,
    submit_path,
)

EP = "https://westus.api.cognitive.microsoft.com"


@pytest.mark.parametrize(
    "endpoint",
    [
        EP,
        EP + "/",
        EP + "/speechtotext",
        EP + "/speechtotext/",
        EP + "/speechtotext/v3.2",
        "  " + EP + "/speechtotext/v3.2/ ",
    ],
)
def test_normalize_endpoint(endpoint):
    assert normalize_endpoint(endpoint) == EP


def test_normalize_endpoint_keeps_a_path_prefix():
    assert normalize_endpoint("http://127.0.0.1:8080/proxy/") == "http://127.0.0.1:8080/proxy"


@pytest.mark.parametrize(
    ("version", "path", "query", "expected"),
    [
        (ApiVersion.V3_2, "transcriptions", None, f"{EP}/speechtotext/v3.2/transcriptions"),
        (
            ApiVersion.V2024_11_15,
            "transcriptions",
            None,
            f"{EP}/speechtotext/transcriptions?api-version=2024-11-15",
        ),
        (
            ApiVersion.V2025_10_15,
            "transcriptions/abc/files",
            {"sasLifetimeMinutes": 5, "filter": None},
            f"{EP}/speechtotext/transcriptions/abc/files?sasLifetimeMinutes=5&api-version=2025-10-15",
        ),
        (
            ApiVersion.V3_2,
            "transcriptions",
            {"filter": "status eq 'Succeeded' and createdDateTime ge 2025-01-01T00:00:00Z", "top": 100},
            f"{EP}/speechtotext/v3.2/transcriptions"
            "?filter=status%20eq%20%27Succeeded%27%20and%20createdDateTime%20ge%202025-01-01T00%3A00%3A00Z&top=100",
        ),
        (
            ApiVersion.V2024_11_15,
            "transcriptions:submit",
            {},
            f"{EP}/speechtotext/transcriptions:submit?api-version=2024-11-15",
        ),
    ],
)
def test_api_url(version, path, query, expected):
    assert api_url(EP + "/", version, path, query) == expected


def test_api_version_accepts_its_string_values():
    assert ApiVersion("2024-11-15") is ApiVersion.V2024_11_15
    with pytest.raises(ValueError, match=r"v3\.1"):
        ApiVersion("v3.1")


def test_segment_cannot_escape_the_path():
    assert segment("../x/y?z") == "..%2Fx%2Fy%3Fz"


def test_submit_path_per_version():
    assert submit_path(ApiVersion.V3_2) == "transcriptions"
    assert submit_path(ApiVersion.V2024_11_15) == "transcriptions:submit"
    assert submit_path(ApiVersion.V2025_10_15) == "transcriptions:submit"


@pytest.mark.parametrize(
    ("version", "seconds", "expected"),
    [
        (ApiVersion.V3_2, 3600, {"sasValidityInSeconds": 3600}),
        (ApiVersion.V2024_11_15, 3600, {"sasLifetimeMinutes": 60}),
        (ApiVersion.V2024_11_15, 61, {"sasLifetimeMinutes": 2}),
        (ApiVersion.V2025_10_15, 1, {"sasLifetimeMinutes": 1}),
        (ApiVersion.V2025_10_15, None, {}),
    ],
)
def test_sas_query(version, seconds, expected):
    assert sas_query(version, seconds) == expected


def test_next_link_on_the_same_origin_is_followed_as_is():
    link = f"{EP.upper()}/speechtotext/transcriptions?skip=2&top=2&filter=x%20eq%201&api-version=2024-11-15"
    assert rebase_next_link(link, EP) == link


def test_next_link_on_another_origin_is_moved_onto_the_endpoint():
    link = "https://elsewhere.example:444/speechtotext/transcriptions?skip=2&api-version=2024-11-15#f"
    assert rebase_next_link(link, "http://127.0.0.1:9/speechtotext/") == (
        "http://127.0.0.1:9/speechtotext/transcriptions?skip=2&api-version=2024-11-15"
    )
