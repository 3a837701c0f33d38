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
        ("x\x00y.json", "xy.json"),
        ("c1\x85\x9fcontrol.json", "c1control.json"),
        ("line\u2028para\u2029.json", "linepara.json"),
        ("invoice\u202egnp.exe.json", "invoicegnp.exe.json"),
        ("isolate\u2066x\u2069.json", "isolatex.json"),
        ("zwj\u200dkept.json", "zwj\u200dkept.json"),
        ("a/ ../b.json", "a/b.json"),
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


@pytest.mark.parametrize(
    "bad",
    [
        "not-a-uuid",
        "../x",
        "",
        "5cff1d03",
        JOB.upper(),
        "{" + JOB + "}",
        "urn:uuid:" + JOB,
        " " + JOB,
        JOB + "\n",
        JOB.replace("-", ""),
    ],
)
def test_transcription_ids_must_be_canonical_uuids(bad):
    with pytest.raises(ValueError, match="canonical UUID"):
        layout.validate_job_id(JobKind.TRANSCRIPTION, bad)


@pytest.mark.parametrize("bad", ["../x", "a/b", "", "a" * 200, "..", "a..b", "conv-42\n", " conv-42"])
def test_conversation_ids_are_url_safe_tokens(bad):
    with pytest.raises(ValueError, match="conversation id"):
        layout.validate_job_id(JobKind.CONVERSATION, bad)


def test_canonical_ids_are_kept_as_they_are():
    assert layout.validate_job_id(JobKind.TRANSCRIPTION, JOB) == JOB
    assert layout.validate_job_id(JobKind.CONVERSATION, "Conv.42_x-y") == "Conv.42_x-y"


@pytest.mark.parametrize(
    "names",
    [
        ["in/a.json", "in\\a.json"],
        ["x?.json", "x:.json", "x_.json"],
        ["y.json", "y.json.", " y.json", "y.json "],
        ["e\u0301.json", "\u00e9.json"],
        ["b.json", "b\x00.json", "b-2.json"],
    ],
)
def test_names_that_clean_alike_get_distinct_blobs_whatever_the_order(names):
    forward = layout.raw_blobs("", JobKind.TRANSCRIPTION, JOB, names)
    backward = layout.raw_blobs("", JobKind.TRANSCRIPTION, JOB, list(reversed(names)))
    assert forward == backward
    assert sorted(forward) == sorted(names)
    assert len(set(forward.values())) == len(names)
    for name, blob in forward.items():
        if layout.safe_relative_path(name) == name:
            assert blob == f"transcriptions/{JOB}/raw/{name}"  # an unchanged name keeps its own blob


def test_numbered_names_keep_the_extension():
    chosen = layout.raw_blobs("", JobKind.TRANSCRIPTION, JOB, ["x?.json", "x:.json"])
    assert sorted(chosen.values()) == [
        f"transcriptions/{JOB}/raw/x_-2.json",
        f"transcriptions/{JOB}/raw/x_.json",
    ]


@pytest.mark.parametrize(
    "name",
    ["/".join(["d"] * 400) + "/r.json", "/".join(["seg" * 60] * 30) + ".json", "é" * 3000 + ".json"],
)
def test_names_fit_azure_limits_prefix_included(name):
    prefix = "/".join(["p"] * 200) + "/"
    for candidate in (name, name.replace(".json", "x.json")):
        path = layout.raw_blob(prefix, JobKind.TRANSCRIPTION, JOB, candidate)
        assert len(path) <= 1024
        assert len(path.split("/")) <= 254
        assert path.startswith(f"{prefix}transcriptions/{JOB}/raw/")
        assert path.endswith(".json")
    assert layout.raw_blob(prefix, JobKind.TRANSCRIPTION, JOB, name) != layout.raw_blob(
        prefix, JobKind.TRANSCRIPTION, JOB, name.replace(".json", "x.json")
    )


@pytest.mark.parametrize("name", ["a/../b", "a/./b", "a//b", "../x", "a/..", "/a", "a/"])
def test_checked_refuses_dot_and_empty_segments(name):
    with pytest.raises(layout.UnsafeBlobName):
        layout.checked(name)


def test_checked_refuses_names_over_the_limits():
    with pytest.raises(layout.UnsafeBlobName):
        layout.checked("a" * 1025)
    with pytest.raises(layout.UnsafeBlobName):
        layout.checked("/".join(["a"] * 255))
    assert layout.checked("/".join(["a"] * 254)) == "/".join(["a"] * 254)


def test_every_blob_name_refuses_a_non_canonical_id():
    with pytest.raises(ValueError, match="canonical UUID"):
        layout.entity_blob("", "..")
    with pytest.raises(ValueError, match="canonical UUID"):
        layout.manifest_blob("", JobKind.TRANSCRIPTION, JOB + "/..")
