"""API versions and URL building: the only place that knows how each version spells an address.

v3.2 puts the version in the path; 2024-11-15 and later put it in a mandatory `api-version` query parameter.
Everything here is pure so every URL the client can send is covered by unit tests.
"""

import math
from collections.abc import Mapping
from enum import StrEnum
from urllib.parse import quote, urlencode, urlsplit, urlunsplit


class ApiVersion(StrEnum):
    V3_2 = "v3.2"
    V2024_11_15 = "2024-11-15"
    V2025_10_15 = "2025-10-15"

    @property
    def in_path(self) -> bool:
        """True for v3.2, whose version is a path segment rather than the `api-version` query parameter."""
        return self is ApiVersion.V3_2


QueryValue = str | int | None

_API_ROOT = "speechtotext"


def normalize_endpoint(endpoint: str) -> str:
    """`https://host[/prefix]` without a trailing slash or an API root the caller may have pasted in.

    People copy endpoints from the portal (`https://westus.api.cognitive.microsoft.com/`) or from a request
    they saw (`.../speechtotext/v3.2`); both mean the same resource.
    """
    base = endpoint.strip().rstrip("/")
    for version in ApiVersion:
        if base.endswith(f"/{_API_ROOT}/{version.value}"):
            base = base[: -len(f"/{version.value}")]
    return base.removesuffix(f"/{_API_ROOT}")


def segment(value: str) -> str:
    """One path segment from caller-supplied text (an id): quoted so it can never change the path."""
    return quote(value, safe="")


def api_url(
    endpoint: str, version: ApiVersion, path: str, query: Mapping[str, QueryValue] | None = None
) -> str:
    """The absolute URL of `path` (e.g. "transcriptions/{id}/files") for `version`; None params are left out.

    Spaces in values are encoded as %20 (not "+"), as the service's own `filter` examples do.
    """
    root = f"{normalize_endpoint(endpoint)}/{_API_ROOT}"
    if version.in_path:
        root = f"{root}/{version.value}"
    params = {name: str(value) for name, value in (query or {}).items() if value is not None}
    if not version.in_path:
        params["api-version"] = version.value
    encoded = urlencode(params, quote_via=quote)
    return f"{root}/{path}?{encoded}" if encoded else f"{root}/{path}"


def submit_path(version: ApiVersion) -> str:
    """Create is `POST /transcriptions` on v3.2 and `POST /transcriptions:submit` from 2024-11-15 on."""
    return "transcriptions" if version.in_path else "transcriptions:submit"


def sas_query(version: ApiVersion, sas_validity_seconds: int | None) -> dict[str, QueryValue]:
    """The result-URL SAS lifetime parameter: seconds on v3.2, whole minutes (rounded up) from 2024-11-15."""
    if sas_validity_seconds is None:
        return {}
    if version.in_path:
        return {"sasValidityInSeconds": sas_validity_seconds}
    return {"sasLifetimeMinutes": math.ceil(sas_validity_seconds / 60)}


def origin(url: str) -> tuple[str, str]:
    """(scheme, host[:port]) lower-cased: what decides whether a URL may receive our credentials."""
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def rebase_next_link(next_link: str, endpoint: str) -> str:
    """The service's `@nextLink`, followed as-is unless it points at another host.

    The link already carries `api-version`, `skip`, `top` and `filter`, so it is never rebuilt. But it is an
    absolute URL chosen by whoever answered, and the client attaches the subscription key to every request:
    a link naming another origin is moved onto the configured endpoint's origin instead of being trusted.
    """
    if origin(next_link) == origin(endpoint):
        return next_link
    base = urlsplit(normalize_endpoint(endpoint))
    link = urlsplit(next_link)
    return urlunsplit((base.scheme, base.netloc, link.path, link.query, ""))
