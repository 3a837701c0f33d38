import pytest

from shared.transcripts.naming import MAX_STEM, sanitize, transcript_stem


@pytest.mark.parametrize(
    ("source", "result_name", "expected"),
    [
        (
            "https://acct.blob.core.windows.net/audio/call-0042.wav?sv=2024&sig=abc",
            "contenturl_0.json",
            "call-0042",
        ),
        ("https://acct.blob.core.windows.net/audio/nested/dir/call%20one.mp3", "x.json", "call one"),
        ("https://host/container/archive.tar.gz", "x.json", "archive.tar"),
        ("https://host/container/no-extension", "x.json", "no-extension"),
        (None, "contenturl_0.json", "contenturl_0"),
        ("", "contenturl_7.json", "contenturl_7"),
        ("https://host/", "contenturl_3.json", "contenturl_3"),
        ("../../etc/passwd", "x.json", "passwd"),
        ("https://host/c/..%2F..%2Fetc%2Fpasswd.wav", "x.json", "_._etc_passwd"),
        ("C:\\calls\\monday\\call.wav", "x.json", "call"),
        ("https://host/c/a%00b.wav", "x.json", "ab"),
        (
            "https://host/c/%E9%80%9A%E8%A9%B1-%D0%B7%D0%B2%D0%BE%D0%BD%D0%BE%D0%BA.wav",
            "x.json",
            "通話-звонок",
        ),
        ("https://host/c/invoice%E2%80%AEvaw.exe.wav", "x.json", "invoicevaw.exe"),
        ("https://host/c/...", "r.json", "r"),
        ("https://host/c/ .hidden. .wav", "x.json", "hidden"),
        ("https://host/c/CON.wav", "x.json", "_CON"),
        ("https://host/c/what%3F%20*now*%3A%7Cok%3C%3E.wav", "x.json", "what_ _now___ok__"),
        ("https://host/c/tab%09and%0Anewline.wav", "x.json", "tabandnewline"),
        ("https://host/c/%2e%2e", "contenturl_1.json", "contenturl_1"),
        ("https://host/c/\u0000\u0001.wav", "", "transcript"),
    ],
)
def test_stems(source: str | None, result_name: str, expected: str):
    assert transcript_stem(source, result_name, set()) == expected


def test_long_names_are_capped_and_still_unique():
    taken: set[str] = set()
    source = "https://host/c/" + "ä" * 300 + ".wav"
    first = transcript_stem(source, "x.json", taken)
    second = transcript_stem(source, "x.json", taken)
    assert first == "ä" * MAX_STEM
    assert second == "ä" * (MAX_STEM - 2) + "-2"
    assert taken == {first, second}


def test_duplicates_are_numbered_in_order():
    taken = {"call-0042-2"}
    stems = [transcript_stem("https://h/a/call-0042.wav", f"contenturl_{i}.json", taken) for i in range(3)]
    assert stems == ["call-0042", "call-0042-3", "call-0042-4"]
    assert transcript_stem(None, "call-0042.json", taken) == "call-0042-5"


@pytest.mark.parametrize(
    "hostile", ["../../etc/passwd", "a\x00b", "\u202e", "..", "x" * 1000, "a/b\\c", " . "]
)
def test_sanitized_names_are_safe(hostile: str):
    name = sanitize(hostile)
    assert "/" not in name
    assert "\\" not in name
    assert ".." not in name
    assert not name.startswith(".")
    assert not name.endswith((".", " "))
    assert all(ch.isprintable() for ch in name)
    assert len(name) <= MAX_STEM
