"""host.json, local.settings.json and app-setting rules (pure, plus files in tmp_path)."""

import json
from datetime import timedelta

import pytest

from local.host.settings import (
    HostJson,
    LocalSettings,
    SettingsError,
    is_disabled,
    load_host_json,
    load_local_settings,
    parse_timespan,
    resolve_port,
    settings_to_apply,
)


def test_timespans():
    assert parse_timespan("00:00:30") == timedelta(seconds=30)
    assert parse_timespan("00:00:00.250") == timedelta(milliseconds=250)
    assert parse_timespan("1.02:00:00") == timedelta(days=1, hours=2)
    with pytest.raises(ValueError, match="TimeSpan"):
        parse_timespan("30s")


def test_host_json_defaults_and_values(tmp_path):
    defaults = HostJson()
    assert defaults.timeout == timedelta(minutes=5)
    queues = defaults.extensions.queues
    assert (queues.batch_size, queues.threshold, queues.max_dequeue_count) == (16, 8, 5)
    assert queues.max_polling_interval == timedelta(seconds=2)
    assert queues.message_encoding == "base64"
    assert defaults.extensions.http.route_prefix == "api"

    (tmp_path / "host.json").write_text(
        json.dumps(
            {
                "version": "2.0",
                "functionTimeout": "-1",
                "extensions": {
                    "queues": {"batchSize": 4, "newBatchThreshold": 0, "messageEncoding": "None"},
                    "http": {"routePrefix": ""},
                },
            }
        )
    )
    loaded = load_host_json(tmp_path)
    assert loaded.timeout is None
    assert loaded.extensions.queues.threshold == 0
    assert loaded.extensions.queues.message_encoding == "none"
    assert loaded.extensions.http.route_prefix == ""


@pytest.mark.parametrize(
    "options", [{"batchSize": 33}, {"maxPollingInterval": "00:00:00.050"}, {"messageEncoding": "utf8"}]
)
def test_invalid_queue_options_are_errors(tmp_path, options):
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"queues": options}}))
    with pytest.raises(SettingsError, match=r"host\.json"):
        load_host_json(tmp_path)


def test_real_environment_wins_over_local_settings():
    values = {"A": "from-file", "B": "from-file"}
    assert settings_to_apply(values, {"A": "from-env"}) == {"B": "from-file"}


def test_local_settings_file_rules(tmp_path):
    assert load_local_settings(tmp_path, None) == LocalSettings()  # optional by default
    with pytest.raises(SettingsError, match="not found"):
        load_local_settings(tmp_path, tmp_path / "missing.json")
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"IsEncrypted": False, "Values": {"N": 1}}))
    with pytest.raises(SettingsError):  # values are strings only
        load_local_settings(tmp_path, None)
    path.write_text(json.dumps({"Values": {"N": "1"}, "Host": {"LocalHttpPort": 7099}}))
    local = load_local_settings(tmp_path, None)
    assert local.Values == {"N": "1"}
    assert resolve_port(None, local) == 7099
    assert resolve_port(0, local) == 0
    assert resolve_port(None, LocalSettings()) == 7071


def test_disabled_setting_in_both_spellings():
    assert is_disabled("poll", {"AzureWebJobs.poll.Disabled": "true"})
    assert is_disabled("poll", {"AzureWebJobs_poll_Disabled": "1"})
    assert not is_disabled("poll", {"AzureWebJobs.poll.Disabled": "false"})
    assert not is_disabled("poll", {"AzureWebJobs.other.Disabled": "true"})
