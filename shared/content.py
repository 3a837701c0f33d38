"""Reading result files from their contentUrl, streamed, with errors that say what to do next.

A contentUrl is usually a SAS URL into Microsoft-managed storage: we read it with plain HTTP and no Speech key
(the key must never travel to storage). When a job used destinationContainerUrl, the service returns plain
blob URLs without SAS; those are read with our own storage credential (the destination's, when it is the same
account, else the app's managed identity, which needs Storage Blob Data Reader on that container).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import requests
from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential, TokenCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.storage.blob import BlobClient

from shared.redact import redact_url
from shared.speech.retry import (
    RetryRules,
    is_retryable_exception,
    is_retryable_status,
    next_wait,
    retry_after_seconds,
)

CHUNK_SIZE = 1024 * 1024
TIMEOUT = (5.0, 60.0)
_JITTER = random.SystemRandom()
# What a BlobClient accepts as a credential (a connection's account key arrives as a named key credential).
StorageCredential = str | dict[str, str] | AzureNamedKeyCredential | AzureSasCredential | TokenCredential


class ContentError(RuntimeError):
    """Reading a result file failed; the message carries the URL with its SAS redacted."""


class ContentExpiredError(ContentError):
    """403 on a SAS URL: the SAS has expired (or was revoked). List the files again for fresh URLs."""


class ContentAccessError(ContentError):
    """401/403 with our own storage credential: the identity lacks a role or the key is wrong. Fresh URLs
    cannot help; a human must grant access."""


class ContentMissingError(ContentError):
    """404: the file is gone (job deleted, or its time to live ran out)."""


class ContentTransientError(ContentError):
    """A network failure, a 5xx, or a body cut short. Worth trying again."""


def has_sas(url: str) -> bool:
    return "sig" in parse_qs(urlsplit(url).query)


class ContentReader:
    """Opens contentUrls. `storage_credentials` maps a blob account URL to the credential we hold for it."""

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        retry: RetryRules | None = None,
        sleep: Callable[[float], None] = time.sleep,
        storage_credentials: dict[str, StorageCredential] | None = None,
        default_credential: StorageCredential | None = None,
    ) -> None:
        self._session = session or requests.Session()
        self._retry = retry or RetryRules()
        self._sleep = sleep
        self._credentials = {k.rstrip("/"): v for k, v in (storage_credentials or {}).items()}
        self._default_credential = default_credential

    @contextmanager
    def open(self, url: str) -> Iterator[Iterator[bytes]]:
        """Yield an iterator over the file's bytes; errors become ContentError subclasses."""
        if has_sas(url) or not url.startswith(("http://", "https://")):
            with self._open_http(url) as chunks:
                yield chunks
        else:
            yield self._open_blob(url)

    @contextmanager
    def _open_http(self, url: str) -> Iterator[Iterator[bytes]]:
        shown = redact_url(url)
        with self._get(url, shown) as response:
            if response.status_code == 403:
                raise ContentExpiredError(f"GET {shown}: 403 (SAS expired or not valid)")
            if response.status_code == 404:
                raise ContentMissingError(f"GET {shown}: 404")
            if response.status_code >= 400:
                raise ContentTransientError(f"GET {shown}: HTTP {response.status_code}")
            yield _guarded(response.iter_content(CHUNK_SIZE), shown)

    def _get(self, url: str, shown: str) -> requests.Response:
        """The GET, under the same retry rules as Speech calls (shared.speech.retry): network failures, 408,
        429 and 5xx are tried again with jittered backoff or the server's Retry-After, within a wait budget.
        Only opening the response is retried; a body cut short later is the harvest's to redo."""
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            try:
                response = self._session.get(url, stream=True, timeout=TIMEOUT)
            except requests.RequestException as error:
                delay = (
                    self._wait(attempt, waited, None)
                    if is_retryable_exception(error, idempotent=True)
                    else None
                )
                if delay is None:
                    raise ContentTransientError(f"GET {shown}: {type(error).__name__}") from None
            else:
                retry_after = retry_after_seconds(response.headers, datetime.now(UTC))
                retryable = is_retryable_status(
                    response.status_code, idempotent=True, has_retry_after=retry_after is not None
                )
                delay = self._wait(attempt, waited, retry_after) if retryable else None
                if delay is None:
                    return response
                response.close()
            self._sleep(delay)
            waited += delay

    def _wait(self, attempt: int, waited: float, retry_after: float | None) -> float | None:
        return next_wait(
            self._retry, attempt=attempt, waited=waited, retry_after=retry_after, rand=_JITTER.random()
        )

    def _open_blob(self, url: str) -> Iterator[bytes]:
        shown = redact_url(url)
        parts = urlsplit(url)
        account = f"{parts.scheme}://{parts.netloc}"
        path = parts.path.lstrip("/")
        # Azurite puts the account name first in the path: match both layouts.
        candidates = [account, f"{account}/{path.split('/', 1)[0]}"]
        credential = next((self._credentials[c] for c in candidates if c in self._credentials), None)
        if credential is None and is_azure_blob_url(url):
            credential = self._default_credential
        client = BlobClient.from_blob_url(url, credential=credential)
        try:
            return client.download_blob().chunks()
        except ResourceNotFoundError:
            raise ContentMissingError(f"GET {shown}: 404") from None
        except ClientAuthenticationError:
            raise ContentAccessError(f"GET {shown}: not authorised with our storage credential") from None
        except HttpResponseError as error:
            if error.status_code in (401, 403):
                raise ContentAccessError(
                    f"GET {shown}: HTTP {error.status_code} with our storage credential"
                ) from None
            raise ContentTransientError(f"GET {shown}: HTTP {error.status_code}") from None


AZURE_BLOB_SUFFIXES = (
    ".blob.core.windows.net",
    ".blob.core.usgovcloudapi.net",
    ".blob.core.chinacloudapi.cn",
)


def is_azure_blob_url(url: str) -> bool:
    """Whether the app's identity may be offered: Azure Blob storage over HTTPS, never another host (a token
    for storage must not travel to whatever host a URL names)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return parts.scheme == "https" and host.lower().endswith(AZURE_BLOB_SUFFIXES)


def _guarded(chunks: Iterator[bytes], shown: str) -> Iterator[bytes]:
    """Turn a body cut short or a dropped connection mid-stream into ContentTransientError."""
    try:
        yield from chunks
    except requests.RequestException as error:
        raise ContentTransientError(f"GET {shown}: body interrupted ({type(error).__name__})") from None
