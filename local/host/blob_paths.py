"""Blob trigger paths (`container/prefix/{name}.json`) as the host reads them: which blobs a trigger takes,
the values of its `{parameters}`, and the literal start and end an Event Grid subscription filters on."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$")


class BlobPathError(ValueError):
    """A blob trigger path the host would refuse."""


@dataclass(frozen=True)
class BlobPath:
    """`container/pattern`: parameters match one or more characters (slashes included), the rest literally."""

    container: str
    pattern: str
    regex: re.Pattern[str]

    @property
    def literal_prefix(self) -> str:
        """The pattern up to its first parameter: Event Grid's subjectBeginsWith after `.../blobs/`."""
        return _PARAMETER.split(self.pattern, maxsplit=1)[0]

    @property
    def literal_suffix(self) -> str:
        """The pattern after its last parameter: Event Grid's subjectEndsWith (empty: no filter)."""
        parts = _PARAMETER.split(self.pattern)
        return parts[-1] if len(parts) > 1 else ""

    def match(self, blob_name: str) -> dict[str, str] | None:
        found = self.regex.fullmatch(blob_name)
        return found.groupdict() if found is not None else None


def parse_blob_path(path: str) -> BlobPath:
    container, slash, pattern = path.partition("/")
    if not _CONTAINER.match(container):
        raise BlobPathError(f"blob path {path!r}: {container!r} is not a valid container name")
    if not slash or not pattern:
        raise BlobPathError(f"blob path {path!r}: expected 'container/blob pattern' (e.g. 'c/{{name}}')")
    names = _PARAMETER.findall(pattern)
    if len(names) != len(set(names)):
        raise BlobPathError(f"blob path {path!r}: a parameter name is used twice")
    pieces: list[str] = []
    for index, part in enumerate(_PARAMETER.split(pattern)):
        if index % 2 == 0:
            if "{" in part or "}" in part:
                raise BlobPathError(f"blob path {path!r}: unbalanced braces in {part!r}")
            pieces.append(re.escape(part))
        else:
            pieces.append(f"(?P<{part}>.+?)")
    return BlobPath(container=container, pattern=pattern, regex=re.compile("".join(pieces), re.DOTALL))
