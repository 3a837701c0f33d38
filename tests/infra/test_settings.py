"""The deployed app settings (infra/main.bicep `appSettings`) against the app's settings model.

The list of settings comes from shared/settings.py, so a setting added to the app fails here until the
deployment sets it or this file says why the default is right in Azure: drift is caught, not discovered in
production. The settings must also be ones the app accepts, in identity-based forms only, and none that the
Flex Consumption plan rejects.
"""

import json
from pathlib import Path

import pytest
from tree_sitter import Node

from shared.settings import Settings, load_settings
from tests.infra.bicep import INFRA, declaration, object_entries, string_value

MAIN = INFRA / "main.bicep"
HOST_JSON = Path(__file__).resolve().parents[2] / "host.json"

# Settings the deployment leaves at the app's default, and why that is right in Azure.
LEFT_AT_DEFAULT = {
    "SPEECH_KEY": "no keys: the app's identity gets an Entra token for Speech",
    "DESTINATION_CONNECTION": "the destination is DESTINATION_CONTAINER_URL without a SAS (managed identity)",
    "DESTINATION_CONTAINER": "goes with DESTINATION_CONNECTION, which is not used",
    "CONVERSATION_ENDPOINT": "derived from SPEECH_REGION",
    "DISCOVER_SINCE": "the first start reaches back over everything the resource still has",
    "DELETE_AFTER_HARVEST": "deleting jobs in Speech is the user's decision",
    "CHANNEL_LABELS": "depends on the user's recordings",
    "POLL_OVERLAP_SECONDS": "tuning; the default suits the service",
    "RECONCILE_INTERVAL_MINUTES": "tuning; the default suits the service",
    "FULL_RECONCILE_HOURS": "tuning; a day keeps the complete sweep under 0.1 calls a tick at 10,000 jobs",
    "REQUEUE_AFTER_MINUTES": "tuning; the default suits the service",
    "HARVEST_TIME_BUDGET_SECONDS": "fits the Flex Consumption default function timeout",
    "SAS_VALIDITY_MINUTES": "tuning; the default suits the service",
    "CONVERSATION_POLLS_PER_TICK": "tuning; the default suits the service",
    "NOTIFY_CONNECTION": "the notify queue lives in AzureWebJobsStorage (the host account)",
    "NOTIFY_EVENTGRID_ENDPOINT": "consumers subscribe to the notify queue or the destination's system topic",
    "SPEECH_RATE_LIMIT": "the service's default quota (100 requests per 10 s); raise it when Microsoft raises yours",
    "SPEECH_RATE_SCOPE": "app: one budget for all Flex instances, shared through AzureWebJobsStorage",
    "HARVEST_FILE_CONCURRENCY": "files are streamed in small pieces, so 8 at once fits every Flex instance size",
    "HARVEST_MAX_ATTEMPTS": "must equal host.json maxDequeueCount, which the default does (checked below)",
}

# Settings read by the Functions host, the Python worker or the Azure SDKs rather than the settings model.
PLATFORM = {
    "AZURE_CLIENT_ID",  # DefaultAzureCredential picks the user-assigned identity
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY",
}

# Rejected on Flex Consumption (its runtime and version live in functionAppConfig), or key-based leftovers.
FLEX_REJECTED = {
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_TIME_ZONE",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "ENABLE_ORYX_BUILD",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_NODE_DEFAULT_VERSION",
    "WEBSITE_USE_PLACEHOLDER_DOTNETISOLATED",
}

# Stand-ins for values ARM computes at deploy time, to check that the app accepts what the deployment sets.
DEPLOY_TIME_EXAMPLES = {
    "AzureWebJobsStorage__clientId": "00000000-0000-0000-0000-000000000001",
    "AzureWebJobsStorage__blobServiceUri": "https://sthost.blob.core.windows.net/",
    "AzureWebJobsStorage__queueServiceUri": "https://sthost.queue.core.windows.net/",
    "AzureWebJobsStorage__tableServiceUri": "https://sthost.table.core.windows.net/",
    "AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000001",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=00000000-0000-0000-0000-000000000002",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "ClientId=00000000-0000-0000-0000-000000000001;Authorization=AAD",
    "SPEECH_ENDPOINT": "https://spch-abc.cognitiveservices.azure.com/",
    "SPEECH_REGION": "westeurope",
    "SPEECH_API_VERSION": "2024-11-15",
    "DESTINATION_CONTAINER_URL": "https://stdest.blob.core.windows.net/transcripts",
    "DESTINATION_PREFIX": "",
    "POLL_SCHEDULE": "0 * * * * *",
    "HARVEST_QUEUE": "harvest-requests",
    "LEDGER_TABLE": "harvestledger",
    "DISCOVERY": "all",
    "OUTPUT_FORMATS": "json,txt,srt,vtt",
    "PENDING_WARNING_MINUTES": "120",
    "TTL_WARNING_HOURS": "6",
    "WEBHOOK_SECRET": "generated-at-deploy-time",
    "NOTIFY_QUEUE": "transcript-events",
}


def deployed() -> dict[str, Node]:
    return object_entries(declaration(MAIN, "variable_declaration", "appSettings"))


def literal(node: Node) -> str | None:
    """A plain string literal's value; None for anything ARM computes (interpolations, references)."""
    if node.type == "string" and not any(c.type == "interpolation" for c in node.children):
        return string_value(node)
    return None


def is_set(alias: str, names: set[str]) -> bool:
    """Set directly, or (for a connection) in its identity-based form `<alias>__...`."""
    return alias in names or any(name.startswith(alias + "__") for name in names)


def aliases() -> dict[str, bool]:
    """Every app setting of the model -> whether the app requires it."""
    return {field.alias or name: field.is_required() for name, field in Settings.model_fields.items()}


def test_every_required_setting_is_set() -> None:
    names = set(deployed())
    missing = [alias for alias, required in aliases().items() if required and not is_set(alias, names)]
    assert missing == []


def test_every_setting_of_the_model_is_set_or_left_at_its_default_for_a_reason() -> None:
    names = set(deployed())
    undecided = [a for a in aliases() if not is_set(a, names) and a not in LEFT_AT_DEFAULT]
    assert undecided == [], (
        f"new app settings {undecided}: set them in infra/main.bicep appSettings, or add them to "
        "LEFT_AT_DEFAULT in tests/infra/test_settings.py with the reason the default is right in Azure"
    )


def test_no_setting_is_both_deployed_and_said_to_be_left_at_default() -> None:
    assert set(LEFT_AT_DEFAULT) & set(deployed()) == set()
    assert set(LEFT_AT_DEFAULT) <= set(aliases()), "LEFT_AT_DEFAULT names a setting the app no longer has"


def test_every_deployed_setting_is_one_something_reads() -> None:
    known = set(aliases()) | PLATFORM
    unknown = [n for n in deployed() if n not in known and not any(n.startswith(a + "__") for a in known)]
    assert unknown == []


def test_the_app_accepts_the_deployed_settings() -> None:
    environ = {}
    for name, value in deployed().items():
        fixed = literal(value)
        assert fixed is not None or name in DEPLOY_TIME_EXAMPLES, f"add an example value for {name}"
        environ[name] = fixed if fixed is not None else DEPLOY_TIME_EXAMPLES[name]
    settings = load_settings(environ)
    assert settings.storage.uses_identity
    assert settings.storage.managed_identity
    assert set(settings.storage.service_uris) == {"blob", "queue", "table"}


def test_storage_is_reached_with_the_user_assigned_identity() -> None:
    settings = deployed()
    assert literal(settings["AzureWebJobsStorage__credential"]) == "managedidentity"
    for part in ("clientId", "blobServiceUri", "queueServiceUri", "tableServiceUri"):
        assert f"AzureWebJobsStorage__{part}" in settings
    assert "AzureWebJobsStorage" not in settings, "a plain AzureWebJobsStorage is a connection string"
    assert "identity.outputs.clientId" in settings["AZURE_CLIENT_ID"].text.decode()
    assert "identity.outputs.clientId" in settings["AzureWebJobsStorage__clientId"].text.decode()


def test_telemetry_goes_to_application_insights_with_entra_auth() -> None:
    settings = deployed()
    assert literal(settings["PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"]) == "true"
    auth = settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"].text.decode()
    assert "ClientId=${identity.outputs.clientId}" in auth
    assert "Authorization=AAD" in auth


def test_the_webhook_secret_is_a_key_vault_reference() -> None:
    secret = deployed()["WEBHOOK_SECRET"].text.decode()
    assert secret.startswith("'@Microsoft.KeyVault(SecretUri=${keyVault.outputs.")


def test_the_destination_url_carries_no_sas() -> None:
    url = deployed()["DESTINATION_CONTAINER_URL"].text.decode()
    assert "?" not in url
    assert "sig=" not in url


@pytest.mark.parametrize("path", sorted(INFRA.rglob("*.*")), ids=lambda p: p.relative_to(INFRA).as_posix())
def test_no_flex_rejected_setting_appears(path: Path) -> None:
    content = path.read_text(encoding="utf-8")
    assert [name for name in FLEX_REJECTED if name in content] == []


def test_harvest_attempts_default_matches_host_json() -> None:
    host = json.loads(HOST_JSON.read_text(encoding="utf-8"))
    attempts = Settings.model_fields["max_dequeue_count"].default
    assert host["extensions"]["queues"]["maxDequeueCount"] == attempts
