"""API versions and the URLs each one hands out.

v3.2 carries its version in the path; 2024-11-15 and 2025-10-15 share the unversioned path and need
`?api-version=`, which every URL they return (self, links, @nextLink) carries again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlencode


class ApiVersion(StrEnum):
    V3_2 = "v3.2"
    V2024_11_15 = "2024-11-15"
    V2025_10_15 = "2025-10-15"

    @property
    def in_query(self) -> bool:
        return self is not ApiVersion.V3_2

    @property
    def has_project(self) -> bool:
        """Projects exist in v3.2, were removed in 2024-11-15 and came back in 2025-10-15."""
        return self is not ApiVersion.V2024_11_15


QUERY_VERSIONS: tuple[ApiVersion, ...] = (ApiVersion.V2024_11_15, ApiVersion.V2025_10_15)


class Family(StrEnum):
    """How a mounted route family learns its version: from the path (v3.2) or from ?api-version=."""

    PATH = "/speechtotext/v3.2"
    QUERY = "/speechtotext"


def encode_query(params: list[tuple[str, str]]) -> str:
    """Query string as the service writes it: spaces as %20, colons of timestamps left readable."""
    return urlencode(params, safe=":", quote_via=quote)


@dataclass(frozen=True)
class Urls:
    """Absolute URLs for one request's endpoint and version."""

    endpoint: str
    version: ApiVersion

    @property
    def base(self) -> str:
        return self.endpoint + (Family.QUERY if self.version.in_query else Family.PATH)

    def with_version(self, url: str, params: list[tuple[str, str]] | None = None) -> str:
        query = list(params or [])
        if self.version.in_query:
            query.append(("api-version", self.version.value))
        return f"{url}?{encode_query(query)}" if query else url

    def collection(self, path: str) -> str:
        """A list operation's URL without query, for @nextLink to build on."""
        return self.base + path

    def transcription(self, job_id: str) -> str:
        return self.with_version(f"{self.base}/transcriptions/{job_id}")

    def files(self, job_id: str) -> str:
        return self.with_version(f"{self.base}/transcriptions/{job_id}/files")

    def file(self, job_id: str, file_id: str) -> str:
        return self.with_version(f"{self.base}/transcriptions/{job_id}/files/{file_id}")
