"""Storage connections read as the Functions host reads them: a connection string or the identity forms."""

import json

import pytest

from shared.connections import ConnectionSettingsError, StorageConnection, read_connection
from shared.content import is_azure_blob_url
from shared.settings import SettingsError, load_settings
from tests.fixtures.host import REPO_ROOT

NAME = "AzureWebJobsStorage"
APP = {
    "SPEECH_ENDPOINT": "https://my-speech.cognitiveservices.azure.com",
    "DESTINATION_CONTAINER_URL": "https://dest.blob.core.windows.net/transcripts",
}
FLEX = {
    "AzureWebJobsStorage__credential": "managedidentity",
    "AzureWebJobsStorage__clientId": "11111111-2222-3333-4444-555555555555",
    "AzureWebJobsStorage__blobServiceUri": "https://host.blob.core.windows.net",
    "AzureWebJobsStorage__queueServiceUri": "https://host.queue.core.windows.net/",
    "AzureWebJobsStorage__tableServiceUri": "https://host.table.core.windows.net",
}


def test_a_connection_string_in_the_setting_itself_or_with_the_AzureWebJobs_prefix():
    assert read_connection(NAME, {NAME: "UseDevelopmentStorage=true"}).secrets() == [
        "UseDevelopmentStorage=true"
    ]
    named = read_connection("Other", {"AzureWebJobsOther": "A=1", "Other": "B=2"})
    assert named.secrets() == ["A=1"]
    assert not named.uses_identity
    assert named.credential() is None


def test_the_flex_template_settings_give_managed_identity_with_the_user_assigned_client_id():
    connection = read_connection(NAME, FLEX)
    assert connection.uses_identity
    assert connection.managed_identity
    assert connection.client_id == "11111111-2222-3333-4444-555555555555"
    assert connection.service_uris == {
        "blob": "https://host.blob.core.windows.net",
        "queue": "https://host.queue.core.windows.net",
        "table": "https://host.table.core.windows.net",
    }
    assert connection.secrets() == []


def test_an_account_name_gives_every_service_and_setting_names_ignore_case():
    connection = read_connection(NAME, {"azurewebjobsstorage__ACCOUNTNAME": "host"})
    assert connection.service_uris["table"] == "https://host.table.core.windows.net"
    assert not connection.managed_identity  # no __credential: DefaultAzureCredential, as the host does
    explicit = read_connection(
        NAME, {f"{NAME}__accountName": "host", f"{NAME}__queueServiceUri": "https://127.0.0.1:1/acct"}
    )
    assert explicit.service_uris["queue"] == "https://127.0.0.1:1/acct"


def test_clients_use_the_identity_and_the_given_endpoints():
    connection = read_connection(NAME, FLEX)
    queue = connection.queue("harvest-requests")
    assert queue.url == "https://host.queue.core.windows.net/harvest-requests"
    assert queue.credential is connection.credential()
    assert connection.table_service().url.startswith("https://host.table.core.windows.net")
    assert connection.blob_service().credential is connection.credential()
    # One credential per identity per process, so its tokens are fetched once.
    assert read_connection(NAME, FLEX).credential() is connection.credential()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "connection 'AzureWebJobsStorage' is not configured: set 'AzureWebJobsStorage' to a storage"),
        (
            {
                f"{NAME}__credential": "managedidentity",
                f"{NAME}__blobServiceUri": "https://h.blob.core.windows.net",
            },
            "identity-based but incomplete: set AzureWebJobsStorage__queueServiceUri, "
            "AzureWebJobsStorage__tableServiceUri (or AzureWebJobsStorage__accountName)",
        ),
        (
            {f"{NAME}__clientId": "abc"},
            "incomplete: set AzureWebJobsStorage__blobServiceUri, AzureWebJobsStorage__queueServiceUri, "
            "AzureWebJobsStorage__tableServiceUri",
        ),
        (
            {**FLEX, f"{NAME}__credential": "secret"},
            "AzureWebJobsStorage__credential: expected 'managedidentity'",
        ),
        (
            {**FLEX, f"{NAME}__queueServiceUri": "http://host.queue.core.windows.net"},
            "AzureWebJobsStorage__queueServiceUri: expected an https URL",
        ),
        ({**FLEX, NAME: "UseDevelopmentStorage=true"}, "is given twice"),
        ({**FLEX, f"{NAME}__clientSecret": "s3cret"}, "client secrets and certificates are not supported"),
    ],
)
def test_a_missing_or_half_given_connection_is_refused_naming_what_to_set(settings, message):
    with pytest.raises(ConnectionSettingsError) as info:
        read_connection(NAME, settings)
    assert message in str(info.value)
    assert "s3cret" not in str(info.value)


def test_a_service_the_caller_does_not_need_may_be_left_out():
    only_queue = {f"{NAME}__queueServiceUri": "https://h.queue.core.windows.net"}
    assert read_connection(NAME, only_queue, needs=("queue",)).service_uris == {
        "queue": "https://h.queue.core.windows.net"
    }
    with pytest.raises(ConnectionSettingsError, match="__blobServiceUri"):
        read_connection(NAME, only_queue, needs=("blob",))


def test_the_app_starts_on_identity_settings_alone_and_refuses_half_given_ones():
    settings = load_settings(APP | FLEX)
    assert settings.storage == read_connection(NAME, FLEX)
    # The app's own identity (Speech, destination, result files) is the storage connection's by default...
    assert settings.identity_client_id == "11111111-2222-3333-4444-555555555555"
    # ...and AZURE_CLIENT_ID, azure-identity's own setting, chooses another.
    assert load_settings(APP | FLEX | {"AZURE_CLIENT_ID": "other"}).identity_client_id == "other"
    half = {k: v for k, v in FLEX.items() if not k.endswith("tableServiceUri")}
    with pytest.raises(SettingsError) as info:
        load_settings(APP | half)
    assert str(info.value) == (
        "invalid settings: AzureWebJobsStorage: connection 'AzureWebJobsStorage' is identity-based but "
        "incomplete: set AzureWebJobsStorage__tableServiceUri (or AzureWebJobsStorage__accountName)"
    )


def test_a_connection_string_never_shows_in_a_repr():
    connection = StorageConnection.from_string("AccountName=a;AccountKey=c2VjcmV0")
    assert "c2VjcmV0" not in repr(connection)
    assert "c2VjcmV0" not in str(connection)


@pytest.mark.parametrize(
    ("url", "offered"),
    [
        ("https://acct.blob.core.windows.net/c/b.json", True),
        ("https://acct.privatelink.blob.core.windows.net/c/b.json", True),
        ("https://acct.blob.core.usgovcloudapi.net/c/b.json", True),
        ("http://acct.blob.core.windows.net/c/b.json", False),
        ("https://acct.blob.core.windows.net.evil.example/c/b.json", False),
        ("https://example.com/acct.blob.core.windows.net/b.json", False),
    ],
)
def test_the_app_identity_is_offered_only_to_azure_blob_storage_over_https(url, offered):
    assert is_azure_blob_url(url) is offered


def test_the_sample_settings_load_with_their_empty_identity_settings():
    values = json.loads((REPO_ROOT / "local.settings.sample.json").read_text(encoding="utf-8"))["Values"]
    settings = load_settings(values | {"SPEECH_KEY": "the key a developer fills in"})
    assert not settings.storage.uses_identity
    assert settings.identity_client_id is None
    assert {f"{NAME}__accountName", f"{NAME}__clientId", "AZURE_CLIENT_ID"} <= set(values)


def test_entra_authentication_to_speech_needs_the_custom_subdomain():
    regional = APP | FLEX | {"SPEECH_ENDPOINT": "https://westeurope.api.cognitive.microsoft.com"}
    with pytest.raises(SettingsError) as info:
        load_settings(regional)
    assert "SPEECH_ENDPOINT: without SPEECH_KEY the app signs in with its managed identity" in str(info.value)
    assert "https://<name>.cognitiveservices.azure.com" in str(info.value)
    assert load_settings(regional | {"SPEECH_KEY": "k"}).speech_key is not None
    assert load_settings(APP | FLEX).speech_key is None  # the custom subdomain: a token is fine
