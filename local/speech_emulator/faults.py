"""Fault injection: rules registered through the admin API, drawn once per matching Speech request.

Each rule names a route key (or "*" for every route) and a kind. Kinds that replace the response (429, 500,
503) and `drop` happen before the request is handled, so they have no side effects; `slow` delays it;
`truncate` cuts the real response short; `stuck` keeps a job created by the request from ever finishing;
`expired-sas` makes file listings hand out contentUrls whose SAS has already expired.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from local.speech_emulator.admin_wire import FaultRequest
from local.speech_emulator.errors import ApiError, internal_error, service_unavailable, too_many_requests

ANY_ROUTE = "*"


@dataclass
class FaultRule:
    id: str
    request: FaultRequest
    remaining: int | None

    def applies_to(self, route: str) -> bool:
        return self.request.route in (ANY_ROUTE, route)


@dataclass(frozen=True)
class FaultEffects:
    """What the drawn rules do to one request."""

    delay_seconds: float = 0.0
    error: ApiError | None = None
    drop: bool = False
    truncate: bool = False
    stuck: bool = False
    expired_sas: bool = False


NO_FAULTS = FaultEffects()


class FaultBook:
    def __init__(self, default_retry_after: int, seed: int = 0) -> None:
        self._default_retry_after = default_retry_after
        self._seed = seed
        self._rng = random.Random(seed)
        self._rules: list[FaultRule] = []

    def add(self, request: FaultRequest) -> str:
        rule = FaultRule(id=str(uuid.uuid4()), request=request, remaining=request.count)
        self._rules.append(rule)
        return rule.id

    def clear(self) -> None:
        """Forget all rules and restart the random draws, so a rate-based run is reproducible."""
        self._rules.clear()
        self._rng = random.Random(self._seed)

    def _fires(self, rule: FaultRule) -> bool:
        if rule.request.rate is not None and self._rng.random() >= rule.request.rate:
            return False
        if rule.remaining is not None:
            rule.remaining -= 1
        return True

    def _error(self, request: FaultRequest) -> ApiError:
        retry_after = self._default_retry_after if request.retry_after is None else request.retry_after
        if request.kind == "429":
            return too_many_requests(retry_after)
        if request.kind == "503":
            return service_unavailable(retry_after)
        return internal_error()

    def draw(self, route: str) -> FaultEffects:
        if not self._rules:
            return NO_FAULTS
        fired = [rule.request for rule in self._rules if rule.applies_to(route) and self._fires(rule)]
        self._rules = [rule for rule in self._rules if rule.remaining is None or rule.remaining > 0]
        kinds = {request.kind for request in fired}
        errors = [self._error(request) for request in fired if request.kind in {"429", "500", "503"}]
        return FaultEffects(
            delay_seconds=sum(request.delay_seconds or 0.0 for request in fired if request.kind == "slow"),
            error=errors[0] if errors else None,
            drop="drop" in kinds,
            truncate="truncate" in kinds,
            stuck="stuck" in kinds,
            expired_sas="expired-sas" in kinds,
        )
