"""What every client of a Speech endpoint shares: one SpeechPipeline (auth, rate limit, retries, typed
errors), its running call count, and closing it. SpeechClient and ConversationClient build on it. What one
invocation's calls cost, and the service's clock, are per invocation: see shared.speech.metering."""

import time
from collections.abc import Callable
from typing import Self, TypedDict

import requests
from azure.core.credentials import TokenCredential

from shared.speech.ratelimit import RateLimiter
from shared.speech.retry import RetryRules
from shared.speech.transport import SpeechPipeline, Timeout, Transport


class ClientOptions(TypedDict, total=False):
    """The transport options a client passes to its pipeline (see SpeechEndpointClient for the defaults)."""

    key: str | None
    credential: TokenCredential | None
    retry: RetryRules | None
    timeout: Timeout
    session: requests.Session | None
    transport: Transport | None
    rate_limit: int
    rate_window: float
    limiter: RateLimiter | None
    sleep: Callable[[float], None]


class SpeechEndpointClient:
    """`transport=` is the public seam under the project's retry rules, rate limit and auth: anything with
    `send(HttpRequest) -> HttpResponse` (shared.speech.transport) replaces the network layer."""

    def __init__(
        self,
        endpoint: str,
        *,
        key: str | None = None,
        credential: TokenCredential | None = None,
        retry: RetryRules | None = None,
        timeout: Timeout = (5.0, 60.0),
        session: requests.Session | None = None,
        transport: Transport | None = None,
        rate_limit: int = 100,
        rate_window: float = 10.0,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint
        self._pipeline = SpeechPipeline(
            endpoint,
            key=key,
            credential=credential,
            retry=retry,
            timeout=timeout,
            session=session,
            transport=transport,
            rate_limit=rate_limit,
            rate_window=rate_window,
            limiter=limiter,
            sleep=sleep,
        )

    @property
    def calls(self) -> int:
        """HTTP requests actually sent by this client, retries included (for cost accounting)."""
        return self._pipeline.calls

    def close(self) -> None:
        """Close the requests session if this client created it."""
        self._pipeline.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
