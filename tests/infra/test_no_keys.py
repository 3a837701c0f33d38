"""No shared key, account key, SAS or keyed connection string anywhere in the templates; local auth off."""

from pathlib import Path

import pytest

from tests.infra.bicep import INFRA, Resource, all_resources, parse, path, text, walk

FORBIDDEN = (
    "listkeys",
    "accountkey",
    "sharedaccesskey",
    "listaccountsas",
    "listservicesas",
    "sharedaccesssignature",
)
FILES = sorted(INFRA.rglob("*.*"))


def created(resource_type: str) -> list[Resource]:
    found = [r for r in all_resources() if r.type == resource_type and not r.existing]
    assert found, f"no {resource_type} in infra/"
    return found


def value(resource: Resource, *keys: str) -> str | None:
    node = path(resource.body, *keys)
    return None if node is None else text(node)


@pytest.mark.parametrize("file", FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_no_key_is_read_or_written(file: Path) -> None:
    content = file.read_text(encoding="utf-8").lower()
    assert [word for word in FORBIDDEN if word in content] == []


def test_storage_accounts_refuse_shared_keys() -> None:
    for account in created("Microsoft.Storage/storageAccounts"):
        assert value(account, "properties", "allowSharedKeyAccess") == "false", account.file.name
        assert value(account, "properties", "allowBlobPublicAccess") == "false", account.file.name
        assert value(account, "properties", "minimumTlsVersion") == "'TLS1_2'", account.file.name


def test_speech_has_a_custom_subdomain_and_no_keys() -> None:
    for speech in created("Microsoft.CognitiveServices/accounts"):
        assert value(speech, "properties", "disableLocalAuth") == "true"
        assert value(speech, "properties", "customSubDomainName") is not None


def test_monitoring_accepts_entra_tokens_only() -> None:
    for component in created("Microsoft.Insights/components"):
        assert value(component, "properties", "DisableLocalAuth") == "true"
    for workspace in created("Microsoft.OperationalInsights/workspaces"):
        assert value(workspace, "properties", "features", "disableLocalAuth") == "true"


def test_key_vault_uses_rbac_not_access_policies() -> None:
    for vault in created("Microsoft.KeyVault/vaults"):
        assert value(vault, "properties", "enableRbacAuthorization") == "true"
        assert value(vault, "properties", "accessPolicies") is None


def secure_parameters(file: Path) -> set[str]:
    names = set()
    for node in parse(file).root_node.children:
        previous = node.prev_named_sibling
        decorated = previous is not None and previous.type == "decorators"
        if node.type == "parameter_declaration" and decorated and "@secure()" in text(previous):
            names.add(text(node.named_children[0]))
    return names


def test_the_webhook_secret_is_a_secure_parameter() -> None:
    assert "webhookSecret" in secure_parameters(INFRA / "main.bicep")
    assert "webhookSecret" in secure_parameters(INFRA / "app" / "keyvault.bicep")


@pytest.mark.parametrize(
    "file", sorted(INFRA.rglob("*.bicep")), ids=lambda p: p.relative_to(INFRA).as_posix()
)
def test_no_output_reveals_a_secure_parameter(file: Path) -> None:
    secure = secure_parameters(file)
    for node in parse(file).root_node.children:
        if node.type == "output_declaration":
            used = {text(n) for n in walk(node) if n.type == "identifier"}
            assert used & secure == set(), text(node)
