"""A small requests-based client of the admin API, handed out as `EmulatorServer.admin`."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from local.speech_emulator.admin_wire import (
    CompleteRequest,
    ConversationRequest,
    ConversationStatus,
    DeliveriesOut,
    DeliveryOut,
    FaultCreated,
    FaultKind,
    FaultRequest,
    SeedRequest,
    SeedResponse,
    SeedStatus,
    StatsOut,
)


class AdminClient:
    def __init__(self, endpoint: str, *, timeout: float = 30.0) -> None:
        self._base = endpoint.rstrip("/") + "/_emulator"
        self._timeout = timeout
        self._session = requests.Session()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        response = self._session.request(method, self._base + path, json=body, timeout=self._timeout)
        response.raise_for_status()
        return response

    def stats(self) -> StatsOut:
        return StatsOut.model_validate_json(self._call("GET", "/stats").content)

    def server_time(self) -> datetime:
        """The emulator's clock as its Date header says (what a client watermarking by the service sees)."""
        return parsedate_to_datetime(self._call("GET", "/stats").headers["date"])

    def reset_stats(self) -> None:
        self._call("POST", "/stats/reset")

    def reset(self) -> None:
        """Forget all jobs, web hooks, deliveries, conversations, faults, stats and throttle history."""
        self._call("POST", "/reset")

    def seed(
        self,
        count: int,
        *,
        status: SeedStatus = "Succeeded",
        inputs: int = 1,
        locale: str = "en-US",
        display_name: str | None = None,
        created: datetime | None = None,
        last_action: datetime | None = None,
        materialise: bool = False,
    ) -> list[str]:
        request = SeedRequest(
            count=count,
            status=status,
            inputs=inputs,
            locale=locale,
            display_name=display_name,
            created_date_time=created,
            last_action_date_time=last_action,
            materialise=materialise,
        )
        response = self._call("POST", "/seed", request.model_dump(mode="json", exclude_none=True))
        return SeedResponse.model_validate_json(response.content).ids

    def complete(self, job_id: str, status: str = "Succeeded", *, stamped: datetime | None = None) -> None:
        """Finish a job now; `stamped` backdates its lastActionDateTime (a change the list shows late)."""
        request = CompleteRequest.model_validate({"status": status, "lastActionDateTime": stamped})
        body = request.model_dump(mode="json", exclude_none=True)
        self._call("POST", f"/transcriptions/{job_id}/complete", body)

    def add_fault(
        self,
        route: str,
        kind: FaultKind,
        *,
        rate: float | None = None,
        count: int | None = None,
        delay_seconds: float | None = None,
        retry_after: int | None = None,
    ) -> str:
        request = FaultRequest(
            route=route,
            kind=kind,
            rate=rate,
            count=count,
            delay_seconds=delay_seconds,
            retry_after=retry_after,
        )
        response = self._call("POST", "/faults", request.model_dump(mode="json", exclude_none=True))
        return FaultCreated.model_validate_json(response.content).id

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def deliveries(self) -> list[DeliveryOut]:
        """Every web hook callback attempt so far (challenges included), oldest first."""
        return DeliveriesOut.model_validate_json(self._call("GET", "/webhooks/deliveries").content).values

    def create_conversation(
        self, conversation_id: str, status: ConversationStatus | None = None, utterances: int | None = None
    ) -> None:
        """Make a conversation known to `offlinetask`, as if its audio had been uploaded."""
        request = ConversationRequest(id=conversation_id, status=status, utterances=utterances)
        self._call("POST", "/conversations", request.model_dump(mode="json", exclude_none=True))

    def close(self) -> None:
        self._session.close()
