"""skip/top/filter of the list operations and the @nextLink that continues a listing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from local.speech_emulator.errors import invalid_request
from local.speech_emulator.filters import FilterError, Kind, Predicate, Record, parse_filter
from local.speech_emulator.versions import Urls

T = TypeVar("T")


@dataclass(frozen=True)
class Listing:
    skip: int
    top: int
    filter_text: str | None
    predicate: Predicate | None

    def select(self, items: Sequence[T], record_of: Callable[[T], Record]) -> tuple[list[T], bool]:
        """The requested page of the matching items, and whether more follow it."""
        predicate = self.predicate
        matching = (
            items if predicate is None else [item for item in items if predicate.matches(record_of(item))]
        )
        end = self.skip + self.top
        return list(matching[self.skip : end]), len(matching) > end

    def next_link(self, urls: Urls, collection_url: str, extra: list[tuple[str, str]]) -> str:
        """Absolute URL of the next page, keeping the filter, the extra parameters and the api-version."""
        params = [("skip", str(self.skip + self.top)), ("top", str(self.top))]
        if self.filter_text is not None:
            params.append(("filter", self.filter_text))
        return urls.with_version(collection_url, params + extra)


def _count(params: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise invalid_request(
            f"The query parameter '{name}' must be an integer >= {minimum}.", "UnsupportedPagination"
        )
    return value


def parse_listing(params: Mapping[str, str], fields: Mapping[str, Kind], default_top: int) -> Listing:
    filter_text = params.get("filter")
    predicate = None
    if filter_text is not None:
        try:
            predicate = parse_filter(filter_text, fields)
        except FilterError as error:
            raise invalid_request(f"Invalid filter: {error}", "UnsupportedFilter") from None
    return Listing(
        skip=_count(params, "skip", 0, 0),
        top=_count(params, "top", default_top, 1),
        filter_text=filter_text,
        predicate=predicate,
    )
