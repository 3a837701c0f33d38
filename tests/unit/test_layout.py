import pytest

from shared import layout
from shared.states import JobKind

JOB = "5cff1d03-118f-4c4c-b3ba-e1f1cd88c14d"


def test_documented_layout():
    assert layout.entity_blob("p/", JOB) == f"p/transcriptions/{JOB}/transcription.json"
    assert (
        layout.raw_blob("", JobKind.TRANSCRIPTION, JOB, "report.json")
        == f"transcriptions/{JOB}/raw/report.json"
    )
    assert (
        layout.transcript_blob("", JobKind.CONVERSATION, "c1", "c1", "vtt")
        == "conversations/c1/transcript/c1.vtt"
    )
    assert layout.manifest_blob("", JobKind.TRANSCRIPTION, JOB) == f"transcriptions/{JOB}/manifest.json"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "etc/passwd"),
        ("a/./b/../c.json", "a/b/c.json"),
        ("..hidden", "hidden"),
        ("x\x00y.json", "x_y.json"),
        ("back\\slash.json", "back/slash.json"),
        ("", "_"),
        ("ünïcødé.wav.json", "ünïcødé.wav.json"),
        ("q?#%.json", "q___.json"),
    ],
)
def test_hostile_file_names_stay_inside_the_job_folder(name, expected):
    path = layout.raw_blob("", JobKind.TRANSCRIPTION, JOB, name)
    assert path == f"transcriptions/{JOB}/raw/{expected}"
    assert ".." not in path.split("/")


def test_long_segments_are_capped():
    assert len(layout.safe_segment("a" * 1000)) == layout.MAX_SEGMENT


@pytest.mark.parametrize("bad", ["not-a-uuid", "../x", "", "5cff1d03"])
def test_transcription_ids_must_be_uuids(bad):
    with pytest.raises(ValueError, match="UUID"):
        layout.validate_job_id(JobKind.TRANSCRIPTION, bad)


@pytest.mark.parametrize("bad", ["../x", "a/b", "", "a" * 200, "..", "a..b"])
def test_conversation_ids_are_url_safe_tokens(bad):
    with pytest.raises(ValueError, match="conversation id"):
        layout.validate_job_id(JobKind.CONVERSATION, bad)


def test_uuid_is_normalised():
    assert layout.validate_job_id(JobKind.TRANSCRIPTION, JOB.upper()) == JOB
