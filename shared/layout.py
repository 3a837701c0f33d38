"""Where everything goes in the destination container: the documented layout, as pure functions.

    <prefix>transcriptions/<id>/transcription.json      the job entity as the service returned it (SAS removed)
    <prefix>transcriptions/<id>/raw/<file name>          byte-exact copy of each result file and report.json
    <prefix>transcriptions/<id>/transcript/<stem>.<ext>  readable transcripts (json, txt, srt, vtt)
    <prefix>transcriptions/<id>/manifest.json            written last: its presence means "complete"
    <prefix>conversations/<id>/...                       the same for conversation transcriptions

Names that come from outside (result file names, conversation ids) are checked or cleaned here, so a hostile
name can never climb out of its job's folder.
"""

from __future__ import annotations

import re
import unicodedata
import uuid

from shared.states import JobKind

_FOLDERS = {JobKind.TRANSCRIPTION: "transcriptions", JobKind.CONVERSATION: "conversations"}
_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\:*?\"<>|#%]")
MAX_SEGMENT = 200


def validate_job_id(kind: JobKind, job_id: str) -> str:
    """Transcription ids are UUIDs; conversation ids are short URL-safe tokens. Anything else is refused."""
    if kind is JobKind.TRANSCRIPTION:
        try:
            parsed = uuid.UUID(job_id)
        except (ValueError, AttributeError, TypeError):
            raise ValueError(f"transcription id must be a UUID, got {job_id[:80]!r}") from None
        return str(parsed)
    if not _CONVERSATION_ID.match(job_id) or ".." in job_id:
        raise ValueError(
            f"conversation id must be 1-128 letters, digits, '.', '_' or '-', got {job_id[:80]!r}"
        )
    return job_id


def safe_segment(name: str) -> str:
    """One path segment safe for a blob name: no separators, control or URL-special characters, no dot names."""
    cleaned = unicodedata.normalize("NFC", name)
    cleaned = _UNSAFE.sub("_", cleaned.replace("/", "_"))
    cleaned = cleaned.strip().rstrip(".")
    cleaned = cleaned.lstrip(".") or "_"
    return cleaned[:MAX_SEGMENT]


def safe_relative_path(name: str) -> str:
    """A relative path from outside (a result file named after a nested blob) with every segment made safe."""
    segments = [
        safe_segment(part) for part in name.replace("\\", "/").split("/") if part not in ("", ".", "..")
    ]
    return "/".join(segments) or "_"


def job_folder(prefix: str, kind: JobKind, job_id: str) -> str:
    return f"{prefix}{_FOLDERS[kind]}/{job_id}/"


def entity_blob(prefix: str, job_id: str) -> str:
    return job_folder(prefix, JobKind.TRANSCRIPTION, job_id) + "transcription.json"


def raw_blob(prefix: str, kind: JobKind, job_id: str, file_name: str) -> str:
    return job_folder(prefix, kind, job_id) + "raw/" + safe_relative_path(file_name)


def transcript_blob(prefix: str, kind: JobKind, job_id: str, stem: str, extension: str) -> str:
    return job_folder(prefix, kind, job_id) + f"transcript/{stem}.{extension}"


def manifest_blob(prefix: str, kind: JobKind, job_id: str) -> str:
    return job_folder(prefix, kind, job_id) + "manifest.json"
