"""Input audio and the knobs hidden in its URL.

Tests and benchmarks steer the emulator through the audio URLs they submit, so no side channel is needed:
the last path segment and the query decide whether an input fails, how many channels it has, how large its
result file is and which of the shapes real result files take it has (see Knobs). SAS parameters are left out of the seed so the same blob gives the same transcript whatever
token it was shared with.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

DEFAULT_PHRASES = 3
_SAS_PARAMETERS = frozenset(
    {"sv", "ss", "srt", "sp", "se", "st", "spr", "sig", "sr", "si", "sip", "skoid", "sktid", "skt", "ske",
     "sks", "skv", "saoid", "suoid", "scid", "sdd", "ses", "rscc", "rscd", "rsce", "rscl", "rsct"}
)  # fmt: skip


@dataclass(frozen=True)
class Knobs:
    """`fail` and `stereo` in the name; query `phrases=N`, `bytes=N`, and the shapes real files take:
    `pretty=1` (indented JSON), `empty=N` / `nomatch=N` / `long=N` (every Nth phrase has an empty best
    candidate / is not recognised / runs on for 40-60 words), `order=channel` (one channel's phrases after
    the other's), `times=ms` (phrases and words timed in milliseconds only, no ticks or ISO durations; 2024-11-15
    and later)."""

    fails: bool
    stereo: bool
    phrases: int
    bytes: int | None
    seed: str
    pretty: bool = False
    empty_every: int = 0
    nomatch_every: int = 0
    long_every: int = 0
    by_channel: bool = False
    ms_only: bool = False


@dataclass(frozen=True)
class InputAudio:
    source: str  # what the report and the result file call it
    file_name: str  # the File entity's name: contenturl_<i>.json or <blob name>.json
    knobs: Knobs


def _non_negative_int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def knobs_for(url: str) -> Knobs:
    parts = urlsplit(url)
    name = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
    query = [(key, value) for key, value in parse_qsl(parts.query) if key.lower() not in _SAS_PARAMETERS]
    params = dict(query)
    phrases = _non_negative_int(params.get("phrases"))
    lowered = name.lower()
    return Knobs(
        fails="fail" in lowered,
        stereo="stereo" in lowered,
        phrases=DEFAULT_PHRASES if phrases is None else phrases,
        bytes=_non_negative_int(params.get("bytes")),
        seed=name + "?" + "&".join(f"{key}={value}" for key, value in sorted(query)),
        pretty=params.get("pretty") == "1",
        empty_every=_non_negative_int(params.get("empty")) or 0,
        nomatch_every=_non_negative_int(params.get("nomatch")) or 0,
        long_every=_non_negative_int(params.get("long")) or 0,
        by_channel=params.get("order") == "channel",
        ms_only=params.get("times") == "ms",
    )


def from_content_urls(urls: list[str]) -> tuple[InputAudio, ...]:
    return tuple(
        InputAudio(source=url, file_name=f"contenturl_{index}.json", knobs=knobs_for(url))
        for index, url in enumerate(urls)
    )


def from_container(container_url: str, blob_names: list[str]) -> tuple[InputAudio, ...]:
    """Container inputs are reported by their plain blob URL (never the caller's SAS)."""
    base = urlsplit(container_url)._replace(query="", fragment="").geturl().rstrip("/")
    inputs = []
    for name in blob_names:
        source = f"{base}/{quote(name)}"
        inputs.append(InputAudio(source=source, file_name=f"{name}.json", knobs=knobs_for(source)))
    return tuple(inputs)
