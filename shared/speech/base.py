"""What every client of a Speech endpoint shares: one Pipeline (auth, rate limit, retries, typed errors),
its call count and the service's clock, and closing it. SpeechClient and ConversationClient build on it."""

import time
from collections.abc import Callable
from datetime import datetime
from typing import Self, TypedDict

import requests
from azure.core.credentials import TokenCredential

from shared.speech.ratelimit import RateLimiter
from shared.speech.retry import RetryPolicy
from shared.speech.transport import Pipeline, Timeout


class ClientOptions(TypedDict, total=False):
    """The transport options a client passes to its Pipeline (see PipelineClient for the defaults)."""

    key: str | None
    credential: TokenCredential | None
    retry: RetryPolicy | None
    timeout: Timeout
    session: requests.Session | None
    rate_limit: int
    rate_window: float
    limiter: RateLimiter | None
    sleep: Callable[[float], None]


class PipelineClient:
    def __init__(
        self,
        endpoint: str,
        *,
        key: str | None = None,
        credential: TokenCredential | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = (5.0, 60.0),
        session: requests.Session | None = None,
        rate_limit: int = 100,
        rate_window: float = 10.0,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint
        self._pipeline = Pipeline(
            endpoint,
            key=key,
            credential=credential,
            retry=retry,
            timeout=timeout,
            session=session,
            rate_limit=rate_limit,
            rate_window=rate_window,
            limiter=limiter,
            sleep=sleep,
        )

    @property
    def calls(self) -> int:
        """HTTP requests actually sent by this client, retries included (for cost accounting)."""
        return self._pipeline.calls

    @property
    def server_time(self) -> datetime | None:
        """The service's clock (the `Date` of its latest answer), so watermarks never depend on our clock."""
        return self._pipeline.server_time

    def close(self) -> None:
        """Close the requests session if this client created it."""
        self._pipeline.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
