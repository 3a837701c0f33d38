import pytest

from shared.redact import redact_text, redact_url, scrub_json, strip_sas, strip_sas_in_text

SAS_URL = (
    "https://acct.blob.core.windows.net/c/a%20b.wav?sv=2022-11-02&st=2025-05-24T13%3A32Z&se=2025-05-25T01%3A37Z"
    "&sr=b&sp=rl&skoid=11111111-aaaa&sktid=22222222-bbbb&skt=2025-05-24&ske=2025-05-25&sks=b&skv=2022-11-02"
    "&sdd=1&sig=AbC%2Bdef%2F123%3D"
)


def test_redact_url_masks_signature_and_drops_delegation_fields():
    assert redact_url(SAS_URL) == (
        "https://acct.blob.core.windows.net/c/a%20b.wav?sv=2022-11-02&st=2025-05-24T13%3A32Z"
        "&se=2025-05-25T01%3A37Z&sr=b&sp=rl&sig=REDACTED"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pw@host/p?SIG=x&a=1", "https://host/p?SIG=REDACTED&a=1"),
        ("https://host/p", "https://host/p"),
        ("https://host/p?api-version=2024-11-15", "https://host/p?api-version=2024-11-15"),
        ("https://host/p?signature=keep&sig", "https://host/p?signature=keep&sig=REDACTED"),
        ("https://host:8443/p?sig=x#frag", "https://host:8443/p?sig=REDACTED#frag"),
    ],
)
def test_redact_url_cases(url, expected):
    assert redact_url(url) == expected


def test_strip_sas_keeps_only_api_version():
    assert strip_sas(SAS_URL) == "https://acct.blob.core.windows.net/c/a%20b.wav"
    assert (
        strip_sas("https://u:p@h/speechtotext/transcriptions/1?api-version=2024-11-15&sig=s#x")
        == "https://h/speechtotext/transcriptions/1?api-version=2024-11-15"
    )


def test_redact_text_masks_secrets_signatures_and_bearer_tokens():
    key = "0123456789abcdef0123456789abcdef"
    text = (
        f"key {key} failed; url {SAS_URL} quoted %3Fsv%3D1%26sig%3DAbC%252B%26se%3D1 "
        "header Authorization: Bearer eyJ0eXAi.eyJhdWQi.c2lnbmF0dXJl; design=ok"
    )
    redacted = redact_text(text, [key, None, ""])
    assert key not in redacted
    assert "AbC" not in redacted
    assert "eyJ" not in redacted
    assert "sig=REDACTED" in redacted
    assert "sig%3DREDACTED%26se%3D1" in redacted
    assert "Bearer REDACTED" in redacted
    assert "design=ok" in redacted  # "sig" inside a word is not a signature


def test_redact_text_masks_longer_secret_first():
    assert redact_text("abcdef", ["abc", "abcdef"]) == "REDACTED"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HTTPS://h/a.wav?sv=1&sig=s", "HTTPS://h/a.wav"),
        ("see https://h/a.wav?sig=s and Http://h/b?SIG=t.", "see https://h/a.wav and Http://h/b"),
        ("https://h/t/1?api-version=2024-11-15", "https://h/t/1?api-version=2024-11-15"),
        ("a bare sv=1&sig=secret query", "a bare sv=1&sig=REDACTED query"),
        ("no url here", "no url here"),
    ],
)
def test_strip_sas_in_text(text, expected):
    assert strip_sas_in_text(text) == expected


def test_scrub_json_reaches_names_values_and_lists():
    value = {"HTTPS://h/k?sig=1": ["x https://h/v?sig=2 y", 3, None, {"u": "https://h/w?sig=3"}]}
    assert scrub_json(value) == {"HTTPS://h/k": ["x https://h/v y", 3, None, {"u": "https://h/w"}]}
