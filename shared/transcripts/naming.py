"""Names for derived transcripts: `call-0042` for `.../call-0042.wav?sv=...`, safe as a blob name and as a
file name once downloaded, and unique within a job.

Result files are named `contenturl_<n>.json` by the service; the input's name is what people look for, so it
wins whenever the result says where it came from. Input names are chosen by whoever uploaded the audio, so
they are treated as hostile: no path separators or traversal, no control or bidirectional-override
characters, no leading dots, no trailing dots or spaces (Windows drops them), no Windows device names,
bounded length. Letters of any script are kept.
"""

import re
import unicodedata
from urllib.parse import unquote, urlsplit

MAX_STEM = 100
FALLBACK = "transcript"

# Forbidden in Windows file names, and "/" and "\" would make a path.
_UNSAFE = re.compile(r'[/\\<>:"|?*]')
_DOTS = re.compile(r"\.{2,}")
_SPACES = re.compile(r"\s+")
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{name}{n}" for name in ("COM", "LPT") for n in range(1, 10)}
)
# Zero-width (non-)joiners are format characters that some scripts need inside words; other format
# characters (bidirectional overrides among them) only ever disguise a name.
_KEPT_FORMAT = frozenset({"\u200c", "\u200d"})


def transcript_stem(source: str | None, result_name: str, taken: set[str]) -> str:
    """A unique, safe stem for one result file's transcripts; adds it to `taken`."""
    stem = sanitize(_file_name(source)) if source else ""
    stem = stem or sanitize(_file_name(result_name)) or FALLBACK
    candidate = stem
    number = 1
    while candidate in taken:
        number += 1
        suffix = f"-{number}"
        candidate = _trim(stem[: MAX_STEM - len(suffix)]) + suffix
    taken.add(candidate)
    return candidate


def _file_name(location: str) -> str:
    """The last path segment without its extension, percent-decoded (`a%20b.wav` -> `a b`)."""
    path = urlsplit(location).path if "://" in location else location.split("?", 1)[0]
    name = unquote(re.split(r"[/\\]", path.rstrip("/\\"))[-1])
    base, dot, _ = name.rpartition(".")
    return base if dot and base.strip(". ") else name


def sanitize(name: str) -> str:
    """The name with anything unsafe removed or replaced; may be empty."""
    name = unicodedata.normalize("NFC", name)
    kept = []
    for char in name:
        category = unicodedata.category(char)
        if category[0] == "C" and char not in _KEPT_FORMAT:
            continue  # control, format, surrogate, private use, unassigned
        kept.append(" " if category[0] == "Z" else char)
    cleaned = _SPACES.sub(" ", _UNSAFE.sub("_", "".join(kept)))
    cleaned = _trim(_DOTS.sub(".", cleaned).lstrip(". "))
    if cleaned.split(".", 1)[0].strip().upper() in _WINDOWS_DEVICES:
        cleaned = "_" + cleaned
    return _trim(cleaned[:MAX_STEM])


def _trim(name: str) -> str:
    return name.rstrip(". ")
