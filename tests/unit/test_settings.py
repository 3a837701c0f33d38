import pytest

from shared.settings import Discovery, SettingsError, load_settings

BASE = {
    "SPEECH_ENDPOINT": "https://westus.api.cognitive.microsoft.com/",
    "SPEECH_KEY": "k",
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "DESTINATION_CONNECTION": "UseDevelopmentStorage=true",
    "DESTINATION_CONTAINER": "transcripts",
}


def test_defaults():
    s = load_settings(BASE)
    assert s.speech_endpoint == "https://westus.api.cognitive.microsoft.com"
    assert s.speech_api_version == "2024-11-15"
    assert s.harvest_queue == "harvest-requests"
    assert s.discovery is Discovery.ALL
    assert s.output_formats == {"json", "txt", "srt", "vtt"}
    assert not s.delete_after_harvest
    assert s.destination_prefix == ""


def test_values_are_parsed():
    s = load_settings(
        BASE
        | {
            "SPEECH_API_VERSION": "v3.2",
            "DISCOVERY": "tracked",
            "DISCOVER_SINCE": "2026-01-01T00:00:00",
            "DELETE_AFTER_HARVEST": "TRUE",
            "OUTPUT_FORMATS": "json, vtt",
            "CHANNEL_LABELS": "Agent,Customer",
            "DESTINATION_PREFIX": "speech/out",
        }
    )
    assert s.discovery is Discovery.TRACKED
    assert s.discover_since.tzinfo is not None
    assert s.delete_after_harvest
    assert s.output_formats == {"json", "vtt"}
    assert s.channel_labels == {0: "Agent", 1: "Customer"}
    assert s.destination_prefix == "speech/out/"


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"SPEECH_API_VERSION": "3.1"}, "SPEECH_API_VERSION"),
        ({"SPEECH_ENDPOINT": "westus"}, "SPEECH_ENDPOINT"),
        ({"POLL_SCHEDULE": "every minute"}, "POLL_SCHEDULE"),
        ({"POLL_SCHEDULE": "0 0 0 31 2 * *"}, "POLL_SCHEDULE"),
        ({"DISCOVERY": "some"}, "DISCOVERY"),
        ({"DISCOVER_SINCE": "yesterday"}, "DISCOVER_SINCE"),
        ({"DELETE_AFTER_HARVEST": "maybe"}, "DELETE_AFTER_HARVEST"),
        ({"OUTPUT_FORMATS": "json,pdf"}, "OUTPUT_FORMATS"),
        ({"DESTINATION_PREFIX": "../escape"}, "DESTINATION_PREFIX"),
        ({"HARVEST_QUEUE": "Bad_Queue"}, "HARVEST_QUEUE"),
        ({"CHANNEL_LABELS": "Agent,,Customer"}, "CHANNEL_LABELS"),
        ({"SPEECH_RATE_SCOPE": "global"}, "SPEECH_RATE_SCOPE"),
        ({"SPEECH_RATE_LIMIT": "0"}, "SPEECH_RATE_LIMIT"),
        ({"DESTINATION_CONTAINER_URL": "https://a.blob.core.windows.net/c"}, "DESTINATION"),
    ],
)
def test_invalid_settings_fail_fast_naming_the_setting(override, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(BASE | override)


def test_missing_required_settings_are_named():
    with pytest.raises(SettingsError) as info:
        load_settings({})
    assert "SPEECH_ENDPOINT: is required" in str(info.value)
    assert "AzureWebJobsStorage: connection 'AzureWebJobsStorage' is not configured: set" in str(info.value)


def test_secrets_do_not_show_in_repr():
    s = load_settings(BASE | {"SPEECH_KEY": "super-secret-key"})
    assert "super-secret-key" not in repr(s)
    assert "super-secret-key" not in str(s.model_dump())


def test_notify_targets_are_optional_and_validated():
    assert not load_settings(BASE).notify_enabled
    both = load_settings(
        BASE
        | {
            "NOTIFY_QUEUE": "transcript-events",
            "NOTIFY_EVENTGRID_ENDPOINT": "https://t.eventgrid.azure.net/api/events",
        }
    )
    assert both.notify_enabled
    with pytest.raises(SettingsError, match="NOTIFY_QUEUE"):
        load_settings(BASE | {"NOTIFY_QUEUE": "Bad_Queue"})
    with pytest.raises(SettingsError, match="NOTIFY_EVENTGRID_ENDPOINT"):
        load_settings(BASE | {"NOTIFY_EVENTGRID_ENDPOINT": "topic.example"})
    with pytest.raises(SettingsError, match="NOTIFY_CONNECTION: set NOTIFY_QUEUE too"):
        load_settings(BASE | {"NOTIFY_CONNECTION": "UseDevelopmentStorage=true"})


NOTIFY = {"NOTIFY_QUEUE": "transcript-events"}
CLIENT_ID = "11111111-2222-3333-4444-555555555555"


def test_the_notify_connection_takes_the_identity_forms_of_AzureWebJobsStorage():
    queue_only = load_settings(
        BASE
        | NOTIFY
        | {
            "NOTIFY_CONNECTION__queueServiceUri": "https://events.queue.core.windows.net/",
            "NOTIFY_CONNECTION__credential": "managedidentity",
            "NOTIFY_CONNECTION__clientId": CLIENT_ID,
        }
    ).notify_connection
    assert queue_only is not None
    assert queue_only.uses_identity
    assert queue_only.managed_identity
    assert queue_only.client_id == CLIENT_ID
    assert queue_only.service_uris == {"queue": "https://events.queue.core.windows.net"}
    assert queue_only.secrets() == []
    by_account = load_settings(BASE | NOTIFY | {"notify_connection__ACCOUNTNAME": "events"}).notify_connection
    assert by_account is not None
    assert by_account.service_uris["queue"] == "https://events.queue.core.windows.net"
    assert not by_account.managed_identity  # no __credential: DefaultAzureCredential, as the host does
    as_string = load_settings(BASE | NOTIFY | {"NOTIFY_CONNECTION": "UseDevelopmentStorage=true"})
    assert as_string.notify_connection is not None
    assert as_string.notify_connection.secrets() == ["UseDevelopmentStorage=true"]
    assert "UseDevelopmentStorage" not in repr(as_string)
    empty = load_settings(BASE | NOTIFY | {"NOTIFY_CONNECTION": "", "NOTIFY_CONNECTION__clientId": ""})
    assert empty.notify_connection is None  # the sample's empty settings: the queue is in AzureWebJobsStorage


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"NOTIFY_CONNECTION__blobServiceUri": "https://events.blob.core.windows.net"},
            "connection 'NOTIFY_CONNECTION' is identity-based but incomplete: set "
            "NOTIFY_CONNECTION__queueServiceUri",
        ),
        (
            {"NOTIFY_CONNECTION": "UseDevelopmentStorage=true", "NOTIFY_CONNECTION__accountName": "events"},
            "connection 'NOTIFY_CONNECTION' is given twice",
        ),
        (
            {"NOTIFY_CONNECTION__accountName": "events", "NOTIFY_CONNECTION__credential": "secret"},
            "NOTIFY_CONNECTION__credential: expected 'managedidentity'",
        ),
        (
            {"NOTIFY_CONNECTION__queueServiceUri": "http://events.queue.core.windows.net"},
            "NOTIFY_CONNECTION__queueServiceUri: expected an https URL",
        ),
    ],
)
def test_a_bad_notify_connection_is_named(override, message):
    with pytest.raises(SettingsError, match="NOTIFY_CONNECTION") as info:
        load_settings(BASE | NOTIFY | override)
    assert message in str(info.value)


def test_an_identity_notify_connection_without_its_queue_is_refused():
    with pytest.raises(SettingsError, match="NOTIFY_CONNECTION: set NOTIFY_QUEUE too"):
        load_settings(BASE | {"NOTIFY_CONNECTION__accountName": "events"})
