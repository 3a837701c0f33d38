"""The consumer example in Azure (issue 12): its Event Grid subscription filter against the harvester's real blob
layout, its function name and settings against examples/consumer, and keys kept out of the templates."""

import json
import re
from pathlib import Path

from shared.layout import manifest_blob, raw_blob, transcript_blob
from shared.states import JobKind
from tests.infra.bicep import (
    INFRA,
    all_resources,
    declaration,
    object_entries,
    path,
    resources,
    string_value,
    text,
)

ROOT = INFRA.parent
CONSUMER = ROOT / "examples" / "consumer"
JOB = "5cff1d03-0d2e-4b4a-8d3c-4f1f7d2c9a10"


def subscription():
    [found] = [r for r in all_resources() if r.type == "Microsoft.EventGrid/systemTopics/eventSubscriptions"]
    return found


def subject_filter(container: str, prefix: str) -> tuple[str, str, list[str]]:
    """(subjectBeginsWith, subjectEndsWith, event types) with the template's parameters filled in."""
    rule = path(subscription().body, "properties", "filter")
    begins = string_value(path(rule, "subjectBeginsWith"))
    begins = begins.replace("${containerName}", container).replace("${prefix}", prefix)
    ends = string_value(path(rule, "subjectEndsWith"))
    types = [string_value(n) for n in path(rule, "includedEventTypes").named_children]
    return begins, ends, types


def matches(blob: str, container: str, prefix: str, blob_container: str = "") -> bool:
    """Whether a BlobCreated event for `blob` passes the filter deployed for `container` and `prefix`."""
    begins, ends, _ = subject_filter(container, prefix)
    subject = f"/blobServices/default/containers/{blob_container or container}/blobs/{blob}"
    return subject.startswith(begins) and subject.endswith(ends)


def test_the_consumers_queue_role_on_the_destination_is_on_its_blob_triggers_poison_queue() -> None:
    """A manifest whose blob trigger failed five times is kept on webjobs-blobtrigger-poison in the trigger
    connection's account (the destination): the one queue there the consumer may write (tests/infra/test_roles)."""
    [queue] = [
        r
        for r in resources(INFRA / "app" / "destination-access.bicep")
        if r.type == "Microsoft.Storage/storageAccounts/queueServices/queues"
    ]
    assert string_value(path(queue.body, "name")) == "webjobs-blobtrigger-poison"


def test_only_blob_created_events_are_delivered() -> None:
    assert subject_filter("transcripts", "")[2] == ["Microsoft.Storage.BlobCreated"]


def test_the_filter_takes_every_transcription_manifest_and_nothing_else() -> None:
    for prefix in ("", "speech/", "a/b/"):
        assert matches(manifest_blob(prefix, JobKind.TRANSCRIPTION, JOB), "transcripts", prefix)
        assert not matches(
            raw_blob(prefix, JobKind.TRANSCRIPTION, JOB, "contenturl_0.json"), "transcripts", prefix
        )
        assert not matches(
            transcript_blob(prefix, JobKind.TRANSCRIPTION, JOB, "audio", "txt"), "transcripts", prefix
        )
        assert not matches(manifest_blob(prefix, JobKind.CONVERSATION, "c-1"), "transcripts", prefix)
    assert not matches(manifest_blob("", JobKind.TRANSCRIPTION, JOB), "transcripts", "speech/")
    assert not matches(
        manifest_blob("", JobKind.TRANSCRIPTION, JOB), "transcripts", "", blob_container="other"
    )


def test_events_go_to_the_consumer_blob_trigger_with_a_key_that_is_never_stored() -> None:
    url = text(path(subscription().body, "properties", "destination", "properties", "endpointUrl"))
    assert (
        "/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${blobsExtensionKey}" in url
    )
    template = (INFRA / "app" / "consumer-subscription.bicep").read_text(encoding="utf-8")
    assert "@secure()\n@description('The consumer app\\'s blobs_extension system key" in template
    name = declaration(INFRA / "app" / "consumer-subscription.bicep", "parameter_declaration", "functionName")
    trigger = re.search(
        r"source=func\.BlobSource\.EVENT_GRID,\n\)\ndef (\w+)\(",
        (CONSUMER / "function_app.py").read_text("utf-8"),
    )
    assert trigger is not None
    assert string_value(name) == trigger.group(1)


def test_the_consumer_gets_every_setting_its_sample_lists() -> None:
    sample = json.loads((CONSUMER / "local.settings.sample.json").read_text(encoding="utf-8"))["Values"]
    deployed = set(
        object_entries(declaration(INFRA / "app" / "consumer.bicep", "variable_declaration", "appSettings"))
    )
    missing = [
        name
        for name in sample
        if name != "FUNCTIONS_WORKER_RUNTIME"
        and name not in deployed
        and not any(d.startswith(name + "__") for d in deployed)
    ]
    assert missing == []


def test_azure_yaml_deploys_the_consumer_from_its_folder() -> None:
    azure = (ROOT / "azure.yaml").read_text(encoding="utf-8")
    services = dict(re.findall(r"^  (\w+):\n    project: (\S+)", azure, re.M))
    assert services == {"harvester": ".", "consumer": "examples/consumer"}
    for folder in services.values():
        assert Path(ROOT / folder / "function_app.py").is_file()
