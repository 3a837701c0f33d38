"""A deliberately thin Speech API caller for the conformance tests: raw requests, no retries, no parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

from local.azurite import ACCOUNT_KEY, ACCOUNT_NAME
from tests.fixtures.emulator import EMULATOR_KEY

VERSIONS = ("v3.2", "2024-11-15", "2025-10-15")
QUERY_VERSIONS = VERSIONS[1:]
TIMEOUT = 10


class SpeechApi:
    def __init__(self, endpoint: str, version: str, key: str = EMULATOR_KEY) -> None:
        self.endpoint = endpoint
        self.version = version
        self.session = requests.Session()
        self.session.headers["Ocp-Apim-Subscription-Key"] = key

    @property
    def in_query(self) -> bool:
        return self.version != "v3.2"

    @property
    def base(self) -> str:
        return self.endpoint + ("/speechtotext" if self.in_query else "/speechtotext/v3.2")

    def url(self, path: str, **params: Any) -> str:
        query = {name: value for name, value in params.items() if value is not None}
        if self.in_query:
            query["api-version"] = self.version
        return self.base + path + ("?" + urlencode(query) if query else "")

    def call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, url, timeout=TIMEOUT, **kwargs)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.call("GET", self.url(path, **params))

    def create(self, body: dict[str, Any]) -> requests.Response:
        path = "/transcriptions:submit" if self.in_query else "/transcriptions"
        return self.call("POST", self.url(path), json=body)

    def created(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.create(body)
        assert response.status_code == 201, response.text
        return response.json()

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.get(f"/transcriptions/{job_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def files(self, job_id: str, **params: Any) -> list[dict[str, Any]]:
        response = self.get(f"/transcriptions/{job_id}/files", **params)
        assert response.status_code == 200, response.text
        return response.json()["values"]

    def body(self, content_urls: list[str] | None = None, **properties: Any) -> dict[str, Any]:
        """A minimal valid create body for this version (2024+ need properties.timeToLiveHours)."""
        props = ({"timeToLiveHours": 48} if self.in_query else {}) | properties
        return {
            "displayName": "conformance",
            "locale": "en-US",
            "contentUrls": content_urls or ["https://audio.example/calls/hello.wav"],
            "properties": props,
        }


def job_id(entity: dict[str, Any]) -> str:
    return entity["self"].split("?")[0].rsplit("/", 1)[-1]


def download(url: str) -> requests.Response:
    return requests.get(url, timeout=TIMEOUT)


def container_sas_url(connection_string: str, name: str, permission: str) -> str:
    """Create container `name` in Azurite and return its container SAS URL with `permission`."""
    service = BlobServiceClient.from_connection_string(connection_string)
    container = service.get_container_client(name)
    container.create_container()
    sas = generate_container_sas(
        ACCOUNT_NAME,
        name,
        account_key=ACCOUNT_KEY,
        permission=ContainerSasPermissions.from_string(permission),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    return f"{container.url}?{sas}"
