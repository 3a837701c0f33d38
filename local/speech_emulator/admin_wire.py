"""Wire formats of the emulator's own admin API under /_emulator (shared by the server and AdminClient)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal["429", "500", "503", "slow", "drop", "truncate", "stuck", "expired-sas"]
SeedStatus = Literal["NotStarted", "Running", "Succeeded", "Failed"]
ConversationStatus = Literal["Uploading", "Processing", "Completed", "Failed", "Deleted"]


class AdminModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


class StatsOut(AdminModel):
    total: int
    routes: dict[str, int]
    statuses: dict[str, int]


class SeedRequest(AdminModel):
    count: int = Field(ge=1, le=100_000)
    status: SeedStatus = "Succeeded"
    inputs: int = Field(default=1, ge=0, le=1000)
    locale: str = "en-US"
    display_name: str | None = Field(default=None, alias="displayName")
    created_date_time: datetime | None = Field(default=None, alias="createdDateTime")
    last_action_date_time: datetime | None = Field(default=None, alias="lastActionDateTime")
    # Write the finished jobs' result blobs now, as the service has them when a job finishes, rather than
    # when first listed: a bench then measures the harvest, not the emulator producing results.
    materialise: bool = False


class SeedResponse(AdminModel):
    ids: list[str]


class CompleteRequest(AdminModel):
    """`lastActionDateTime` stamps the change earlier than now, as when the service's list shows a change only
    after a client already listed past its stamp."""

    status: Literal["Succeeded", "Failed"] = "Succeeded"
    last_action_date_time: datetime | None = Field(default=None, alias="lastActionDateTime")


class CompleteResponse(AdminModel):
    id: str
    status: str


class FaultRequest(AdminModel):
    """One fault rule. `count` applies it to the next N matching requests, `rate` to each with that probability;
    with both, each of the N is drawn at the rate; with neither, every matching request until cleared."""

    route: str
    kind: FaultKind
    rate: float | None = Field(default=None, ge=0.0, le=1.0)
    count: int | None = Field(default=None, ge=1)
    delay_seconds: float | None = Field(default=None, ge=0.0, alias="delaySeconds")
    retry_after: int | None = Field(default=None, ge=0, alias="retryAfter")


class FaultCreated(AdminModel):
    id: str


class DeliveryOut(AdminModel):
    """One POST to a web hook receiver (challenges included). `url` has no query, so no validation token or
    function key shows; `statusCode` is absent when no response came back, and `error` names why."""

    hook_id: str = Field(alias="hookId")
    event: str
    url: str
    attempt: int
    status_code: int | None = Field(default=None, alias="statusCode")
    error: str | None = None
    time: datetime


class DeliveriesOut(AdminModel):
    values: list[DeliveryOut]


class ConversationRequest(AdminModel):
    """A conversation as if its audio had been uploaded; `status` pins it, else it moves on the phase clock."""

    id: str = Field(min_length=1)
    status: ConversationStatus | None = None
    utterances: int | None = Field(default=None, ge=0, le=10_000)


class ConversationCreated(AdminModel):
    id: str
