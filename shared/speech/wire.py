"""The base of every Speech wire model: tolerant parsing that never loses what the service sent.

The service adds fields between versions and writes explicit nulls, so models accept unknown fields and
nulls everywhere. The harvester must store transcription.json exactly as received, so each model validated
from a JSON object keeps that object as `.wire`; re-serialising the model would reorder keys and could not
reproduce fields this code does not know about.
"""

from typing import Annotated, Any, Self, TypeVar
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ModelWrapValidatorHandler, PrivateAttr, model_validator
from pydantic.alias_generators import to_camel

E = TypeVar("E")

# A known enum value when it is one, the raw string otherwise: the service documents several enums as
# open ("modelAsString") and a value added next year must not make a whole page of results unreadable.
OpenEnum = Annotated[E | str, Field(union_mode="left_to_right")]


class WireModel(BaseModel):
    """Fields are snake_case in Python and camelCase on the wire; unknown fields are kept."""

    model_config = ConfigDict(
        extra="allow", alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True
    )

    _wire: dict[str, Any] | None = PrivateAttr(default=None)

    def __init__(self, /, **data: Any) -> None:
        # Built from keyword arguments in code, so nothing was received: `.wire` falls back to serialisation.
        # (Validating a received object also passes through here, inside the wrap validator below, which
        # then records the object.)
        super().__init__(**data)
        self._wire = None

    @model_validator(mode="wrap")
    @classmethod
    def _keep_received_object(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        model = handler(data)
        if isinstance(data, dict):
            model._wire = data
        return model

    def __eq__(self, other: object) -> bool:
        """Equal data is equal, however the model was made: `.wire` (the received object) does not count."""
        if not isinstance(other, WireModel):
            return NotImplemented
        return (
            type(self) is type(other)
            and self.__dict__ == other.__dict__
            and self.__pydantic_extra__ == other.__pydantic_extra__
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable (as pydantic models are)

    @property
    def wire(self) -> dict[str, Any]:
        """The JSON object exactly as received; for a model built in code, its request body (`to_body`)."""
        return self._wire if self._wire is not None else self.to_body()

    def to_body(self) -> dict[str, Any]:
        """The request body for this model: wire names, nothing that was left unset or None."""
        return self.model_dump(mode="json", exclude_none=True)


def id_from_self(self_url: str | None) -> str:
    """An entity's id: the last path segment of its `self` URL (2024+ URLs carry `?api-version=`)."""
    if not self_url:
        raise ValueError("entity has no 'self' URL, so it has no id")
    return unquote(urlsplit(self_url).path.rstrip("/").rsplit("/", 1)[-1])


class EntityReference(WireModel):
    """A link to another entity (model, dataset, project), e.g. {"self": ".../models/base/<id>"}."""

    self_url: str | None = Field(default=None, alias="self")


class EntityError(WireModel):
    """Why an entity failed (`properties.error` of a transcription or web hook); `code` is free text."""

    code: str | None = None
    message: str | None = None
