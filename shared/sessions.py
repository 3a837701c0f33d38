"""HTTP sessions for the harvest's many small requests: connection pools sized to its concurrency, and the
environment read once per host instead of on every request.

A requests session that trusts the environment (as the Azure SDK's does) resolves the proxy settings for every
request by walking all of os.environ twice and looks for a CA bundle in it: for the harvest of a small result
file, which is six requests, that was about a sixth of the harvest's CPU. A worker's environment does not
change while it runs, so the answer for a scheme and host is kept. The pool keeps as many connections to one
host as requests can be in flight at once, so that none is opened and discarded under load.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import DEFAULT_POOLSIZE, HTTPAdapter
from urllib3.util.retry import Retry

# Harvests one instance runs at once: host.json's queue batchSize (4) plus newBatchThreshold (2).
CONCURRENT_HARVESTS = 6


class PooledSession(requests.Session):
    """A session with `pool_size` connections per host whose environment settings are resolved once per
    scheme and host (as requests itself would resolve them); retries are left to the caller (the Azure SDK's
    policies, the content reader's rules), never done twice."""

    def __init__(self, pool_size: int = DEFAULT_POOLSIZE) -> None:
        super().__init__()
        adapter = HTTPAdapter(
            pool_maxsize=max(pool_size, DEFAULT_POOLSIZE),
            max_retries=Retry(total=False, redirect=False, raise_on_status=False),
        )
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self._settled: dict[tuple[str, str, Any, Any], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        if proxies or not self.trust_env:  # proxies given per request: the ordinary path
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, verify, cert)
        with self._lock:
            settled = self._settled.get(key)
        if settled is None:
            settled = super().merge_environment_settings(url, {}, None, verify, cert)
            with self._lock:
                self._settled[key] = settled
        return {
            "proxies": dict(settled["proxies"]),
            "stream": self.stream if stream is None else stream,
            "verify": settled["verify"],
            "cert": settled["cert"],
        }


def harvest_session(file_concurrency: int) -> PooledSession:
    """A session for an endpoint the harvests read from or write to: a connection for every file in flight."""
    return PooledSession(file_concurrency * CONCURRENT_HARVESTS)
