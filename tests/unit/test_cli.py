"""The operations CLI's pure parts: arguments, where settings come from, which hook to update, what is printed."""

import io
import json

import pytest

from shared.cli import environment, find_hook, hook_summary, main, parser
from shared.speech import WebHook

HOOK = {
    "self": "https://h/speechtotext/webhooks/11111111-2222-3333-4444-555555555555?api-version=2024-11-15",
    "displayName": "speech-harvester",
    "webUrl": "https://app.example/api/webhooks/speech",
    "events": {"transcriptionCompletion": True, "transcriptionDeletion": True, "ping": False},
    "properties": {"apiVersion": "2024-11-15", "secret": "TOP-SECRET"},
    "status": "Succeeded",
}


def hook(**changes) -> WebHook:
    return WebHook.model_validate({**HOOK, **changes})


def test_register_needs_a_url_and_defaults_the_name():
    args = parser().parse_args(["webhook", "register", "--url", "https://x/api/webhooks/speech"])
    assert (args.group, args.command, args.url, args.name) == (
        "webhook",
        "register",
        "https://x/api/webhooks/speech",
        "speech-harvester",
    )
    with pytest.raises(SystemExit):
        parser().parse_args(["webhook", "register"])


def test_delete_takes_an_id_and_replay_a_positive_maximum():
    assert parser().parse_args(["webhook", "delete", "--id", "abc"]).hook_id == "abc"
    assert parser().parse_args(["poison", "replay"]).limit == 1000
    assert parser().parse_args(["--settings", "s.json", "poison", "replay", "--max", "5"]).limit == 5
    with pytest.raises(SystemExit):
        parser().parse_args(["poison", "replay", "--max", "0"])


def test_environment_wins_over_the_settings_file_unless_empty(tmp_path):
    file = tmp_path / "local.settings.json"
    file.write_text(json.dumps({"IsEncrypted": False, "Values": {"A": "file", "B": "file", "C": None}}))
    assert environment(file, {"A": "env", "B": "", "D": "env"}) == {
        "A": "env",
        "B": "file",
        "C": "",
        "D": "env",
    }
    assert environment(None, {"A": "env"}) == {"A": "env"}


def test_a_settings_file_without_values_is_an_error(tmp_path):
    file = tmp_path / "bad.json"
    file.write_text("[]")
    err = io.StringIO()
    assert main(["--settings", str(file), "webhook", "list"], environ={}, err=err) == 2
    assert "Values" in err.getvalue()


def test_missing_settings_are_named_and_exit_2():
    err = io.StringIO()
    assert main(["webhook", "list"], environ={}, err=err) == 2
    assert "SPEECH_ENDPOINT" in err.getvalue()


def test_the_hook_calling_our_url_wins_over_one_with_our_name():
    by_name = hook(webUrl="https://old.example/hook")
    by_url = hook(displayName="someone else's name")
    assert (
        find_hook([by_name, by_url], "https://app.example/api/webhooks/speech", "speech-harvester") is by_url
    )
    assert find_hook([by_name], "https://new.example/hook", "speech-harvester") is by_name
    assert find_hook([by_name], "https://new.example/hook", "other") is None


def test_summary_never_contains_the_secret():
    summary = hook_summary(hook())
    assert "TOP-SECRET" not in json.dumps(summary)
    assert summary == {
        "id": "11111111-2222-3333-4444-555555555555",
        "displayName": "speech-harvester",
        "webUrl": "https://app.example/api/webhooks/speech",
        "status": "Succeeded",
        "apiVersion": "2024-11-15",
        "events": ["transcriptionCompletion", "transcriptionDeletion"],
    }
