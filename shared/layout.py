"""Where everything goes in the destination container: the documented layout, as pure functions.

    <prefix>transcriptions/<id>/transcription.json      the job entity as the service returned it (SAS removed)
    <prefix>transcriptions/<id>/raw/<file name>          byte-exact copy of each result file and report.json
    <prefix>transcriptions/<id>/transcript/<stem>.<ext>  readable transcripts (json, txt, srt, vtt)
    <prefix>transcriptions/<id>/manifest.json            written last: its presence means "complete"
    <prefix>conversations/<id>/...                       the same for conversation transcriptions

Names that come from outside (result file names, conversation ids) are checked or cleaned here, so a hostile
name can never climb out of its job's folder, and every name this module returns is checked once more on the
way out: no empty, `.` or `..` segment, within Azure's limits on length and depth.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from shared.states import JobKind

_FOLDERS = {JobKind.TRANSCRIPTION: "transcriptions", JobKind.CONVERSATION: "conversations"}
# Canonical forms only: whatever is accepted is used as is, so nothing may need normalising first.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_CONVERSATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_UNSAFE = re.compile(r"[\\:*?\"<>|#%]")
# Zero-width (non-)joiners are format characters some scripts need inside words; every other control or
# format character (C1 controls and bidirectional overrides among them) and the line and paragraph
# separators only ever hide or disguise part of a name.
_KEPT_FORMAT = frozenset({"\u200c", "\u200d"})
MAX_SEGMENT = 200
# Azure Blob storage: a blob name is at most 1,024 characters and 254 path segments.
MAX_BLOB_NAME = 1024
MAX_SEGMENTS = 254
_HASH = 12
# DESTINATION_PREFIX leaves room for the job folders and the names under them.
MAX_PREFIX = 512
MAX_PREFIX_SEGMENTS = 240


class UnsafeBlobName(ValueError):
    """A blob name that would leave its folder or break Azure's limits; never written."""


def validate_job_id(kind: JobKind, job_id: str) -> str:
    """Transcription ids are canonical UUIDs (lowercase, 8-4-4-4-12); conversation ids are short URL-safe
    tokens. Anything else, including another spelling of a valid UUID, is refused with the reason."""
    if kind is JobKind.TRANSCRIPTION:
        if not isinstance(job_id, str) or not _UUID.fullmatch(job_id):
            raise ValueError(
                f"transcription id must be a canonical UUID (lowercase hex, 8-4-4-4-12), got {_shown(job_id)}"
            )
        return job_id
    if not isinstance(job_id, str) or not _CONVERSATION_ID.fullmatch(job_id) or ".." in job_id:
        raise ValueError(
            f"conversation id must be 1-128 letters, digits, '.', '_' or '-', got {_shown(job_id)}"
        )
    return job_id


def _shown(value: object) -> str:
    return repr(value[:80]) if isinstance(value, str) else type(value).__name__


def visible(name: str) -> str:
    """The name in NFC without control or format characters (except ZWNJ/ZWJ) or line/paragraph separators."""
    return "".join(
        char
        for char in unicodedata.normalize("NFC", name)
        if char in _KEPT_FORMAT or (unicodedata.category(char)[0] != "C" and char not in "\u2028\u2029")
    )


def safe_segment(name: str) -> str:
    """One path segment safe for a blob name: no separators, control or URL-special characters, no dot names,
    at most MAX_SEGMENT characters (a longer one is cut and ends with a hash of the whole, so two stay apart)."""
    cleaned = _UNSAFE.sub("_", visible(name).replace("/", "_"))
    cleaned = cleaned.strip().rstrip(".")
    cleaned = cleaned.lstrip(".") or "_"
    return cleaned if len(cleaned) <= MAX_SEGMENT else _shortened(cleaned, name)


def safe_relative_path(name: str) -> str:
    """A relative path from outside (a result file named after a nested blob) with every segment made safe."""
    segments = [
        safe_segment(part)
        for part in name.replace("\\", "/").split("/")
        if part.strip() not in ("", ".", "..")
    ]
    return "/".join(segments) or "_"


def checked(name: str) -> str:
    """The blob name itself, once checked: no empty, `.` or `..` segment, within Azure's limits."""
    segments = name.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise UnsafeBlobName(f"blob name has an empty, '.' or '..' segment: {name[:200]!r}")
    if len(name) > MAX_BLOB_NAME or len(segments) > MAX_SEGMENTS:
        raise UnsafeBlobName(
            f"blob name exceeds {MAX_BLOB_NAME} characters or {MAX_SEGMENTS} segments: {name[:200]!r}"
        )
    return name


def job_folder(prefix: str, kind: JobKind, job_id: str) -> str:
    return checked(f"{prefix}{_FOLDERS[kind]}/{validate_job_id(kind, job_id)}") + "/"


def entity_blob(prefix: str, job_id: str) -> str:
    return checked(job_folder(prefix, JobKind.TRANSCRIPTION, job_id) + "transcription.json")


def raw_blob(prefix: str, kind: JobKind, job_id: str, file_name: str) -> str:
    """The raw copy's name for one service file name, cleaned and fitted within Azure's limits.

    Cleaning can map two service names to one blob name; `raw_blobs` gives every name of a job its own."""
    folder = job_folder(prefix, kind, job_id) + "raw/"
    relative = safe_relative_path(file_name)
    if len(folder) + len(relative) > MAX_BLOB_NAME or folder.count("/") + relative.count("/") >= MAX_SEGMENTS:
        relative = _flattened(relative, file_name)
    return checked(folder + relative)


def raw_blobs(prefix: str, kind: JobKind, job_id: str, file_names: Iterable[str]) -> dict[str, str]:
    """Each distinct service file name of a job mapped to its own raw blob, the same whatever the order.

    Names that cleaning leaves unchanged keep their exact name; the others, in sorted order, take their
    cleaned name unless it is taken, else the first free `<name>-2`, `-3`, ... (before the extension). A
    redelivery or a concurrent harvest of the same job lists the same files, so it picks the same names."""
    folder = job_folder(prefix, kind, job_id) + "raw/"
    cleaned = {name: raw_blob(prefix, kind, job_id, name) for name in set(file_names)}
    taken: set[str] = set()
    chosen: dict[str, str] = {}
    for name in sorted(cleaned, key=lambda n: (cleaned[n] != folder + n, n)):
        candidate = cleaned[name]
        number = 1
        while candidate in taken:
            number += 1
            candidate = _numbered(cleaned[name], number)
        taken.add(candidate)
        chosen[name] = candidate
    return chosen


def _split_extension(segment: str) -> tuple[str, str]:
    stem, dot, extension = segment.rpartition(".")
    if not dot or not stem or len(extension) > 10:
        return segment, ""
    return stem, "." + extension


def _numbered(path: str, number: int) -> str:
    folder, _, last = path.rpartition("/")
    stem, extension = _split_extension(last)
    suffix = f"-{number}{extension}"
    return checked(f"{folder}/{stem[: MAX_SEGMENT - len(suffix)]}{suffix}")


def _flattened(relative: str, original: str) -> str:
    """A name too long or too deep for Azure becomes one segment."""
    return _shortened(relative.replace("/", "_"), original)


def _shortened(segment: str, original: str) -> str:
    """At most MAX_SEGMENT characters: the segment's start, a hash of the whole original name (so two names
    cut alike stay apart) and the segment's extension."""
    stem, extension = _split_extension(segment)
    digest = hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH]
    room = MAX_SEGMENT - len(extension) - _HASH - 1
    return f"{stem[:room].rstrip('. ')}-{digest}{extension}"


def transcript_blob(prefix: str, kind: JobKind, job_id: str, stem: str, extension: str) -> str:
    return checked(job_folder(prefix, kind, job_id) + f"transcript/{stem}.{extension}")


def manifest_blob(prefix: str, kind: JobKind, job_id: str) -> str:
    return checked(job_folder(prefix, kind, job_id) + "manifest.json")
