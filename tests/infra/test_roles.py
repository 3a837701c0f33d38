"""Least-privilege role assignments: the right built-in roles, on the right scopes, for the right principal."""

import re

from tests.infra.bicep import INFRA, Resource, all_resources, modules, path, resources, roles, text

ASSIGNMENT = "Microsoft.Authorization/roleAssignments"

# Built-in role definition ids (Azure's, the same in every tenant), written out here a second time so a typo
# in infra/roles.json cannot pass.
BUILT_IN = {
    "storageBlobDataOwner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "storageBlobDataContributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "storageQueueDataContributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "storageTableDataContributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "cognitiveServicesSpeechContributor": "0e75ca1e-0464-4b4d-8b93-68208a576181",
    "monitoringMetricsPublisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "keyVaultSecretsUser": "4633458b-17de-408a-b874-0445c86b69e6",
    "keyVaultSecretsOfficer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
}
TOO_BROAD = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "a97b65f3-24c7-4388-baec-2e87135dc908": "Cognitive Services User (can list keys)",
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor (can list keys)",
}

# What the app's identity must hold: (module file, scope resource type, role).
APP_NEEDS = {
    ("app/function-storage.bicep", "Microsoft.Storage/storageAccounts", "storageBlobDataOwner"),
    ("app/function-storage.bicep", "Microsoft.Storage/storageAccounts", "storageQueueDataContributor"),
    ("app/function-storage.bicep", "Microsoft.Storage/storageAccounts", "storageTableDataContributor"),
    (
        "app/destination-access.bicep",
        "Microsoft.Storage/storageAccounts/blobServices/containers",
        "storageBlobDataContributor",
    ),
    ("app/speech-access.bicep", "Microsoft.CognitiveServices/accounts", "cognitiveServicesSpeechContributor"),
    ("app/monitoring.bicep", "Microsoft.Insights/components", "monitoringMetricsPublisher"),
    ("app/keyvault.bicep", "Microsoft.KeyVault/vaults", "keyVaultSecretsUser"),
}


# What the consumer example's identity must hold: what Functions documents for a blob trigger's connection (Blob
# Data Owner, here on the destination container; Queue Data Contributor, here on its poison queue only), take
# the notify queue, send telemetry (its own storage account is the same function-storage.bicep as the harvester's).
CONSUMER_NEEDS = {
    (
        "app/destination-access.bicep",
        "Microsoft.Storage/storageAccounts/blobServices/containers",
        "storageBlobDataOwner",
    ),
    (
        "app/destination-access.bicep",
        "Microsoft.Storage/storageAccounts/queueServices/queues",
        "storageQueueDataContributor",
    ),
    (
        "app/notify-access.bicep",
        "Microsoft.Storage/storageAccounts/queueServices/queues",
        "storageQueueDataContributor",
    ),
    ("app/monitoring.bicep", "Microsoft.Insights/components", "monitoringMetricsPublisher"),
}


def assignments() -> list[tuple[Resource, str, str, str]]:
    """(assignment, scope resource type, role name, principal expression) for every role assignment."""
    found = []
    for assignment in [r for r in all_resources() if r.type == ASSIGNMENT]:
        by_symbol = {r.symbol: r for r in resources(assignment.file)}
        scope = path(assignment.body, "scope")
        assert scope is not None, f"{assignment.file.name} {assignment.symbol}: no scope (would be the group)"
        role_id = text(path(assignment.body, "properties", "roleDefinitionId"))
        role = re.fullmatch(
            r"subscriptionResourceId\('Microsoft.Authorization/roleDefinitions', roles\.(\w+)\)", role_id
        )
        assert role, f"{assignment.symbol}: role given as {role_id}"
        principal = text(path(assignment.body, "properties", "principalId"))
        scope_symbol = text(scope).split("[", 1)[0]  # queues[i] in a loop
        found.append((assignment, by_symbol[scope_symbol].type, role.group(1), principal))
    return found


def test_role_ids_are_the_built_in_ones_and_none_is_too_broad() -> None:
    assert roles() == BUILT_IN
    everything = " ".join(p.read_text(encoding="utf-8") for p in INFRA.rglob("*.*"))
    assert [name for role_id, name in TOO_BROAD.items() if role_id in everything] == []


def test_the_app_identity_holds_exactly_the_roles_it_needs() -> None:
    held = {
        (a.file.relative_to(INFRA).as_posix(), scope, role)
        for a, scope, role, principal in assignments()
        if principal == "principalId"
    }
    assert held == APP_NEEDS


def test_the_consumer_identity_holds_exactly_the_roles_it_needs() -> None:
    held = {
        (a.file.relative_to(INFRA).as_posix(), scope, role)
        for a, scope, role, principal in assignments()
        if principal == "consumerPrincipalId"
    }
    assert held == CONSUMER_NEEDS


def test_app_assignments_name_a_service_principal_and_have_stable_names() -> None:
    for assignment, _, role, principal in assignments():
        name = text(path(assignment.body, "name"))
        scope = text(path(assignment.body, "scope"))
        assert name == f"guid({scope}.id, {principal}, roles.{role})", assignment.symbol
        principal_type = path(assignment.body, "properties", "principalType")
        if principal != "deployerPrincipalId":
            assert principal_type is not None
            assert text(principal_type) == "'ServicePrincipal'"


def test_the_deployer_gets_only_what_the_postdeploy_hook_and_secret_rotation_need() -> None:
    deployer = {(scope, role) for _, scope, role, p in assignments() if p == "deployerPrincipalId"}
    assert deployer == {
        ("Microsoft.CognitiveServices/accounts", "cognitiveServicesSpeechContributor"),
        ("Microsoft.KeyVault/vaults", "keyVaultSecretsOfficer"),
    }


def test_main_grants_the_roles_to_the_app_identity() -> None:
    wired = modules(INFRA / "main.bicep")
    for symbol in ("hostStorage", "destinationAccess", "speechAccess", "monitoring", "keyVault"):
        principal = path(wired[symbol][1], "params", "principalId")
        assert principal is not None, symbol
        assert text(principal) == "identity.outputs.principalId", symbol
    consumer = "consumerIdentity.outputs.principalId"
    assert text(path(wired["consumerStorage"][1], "params", "principalId")) == consumer
    assert text(path(wired["notifyAccess"][1], "params", "consumerPrincipalId")) == consumer
    for symbol in ("destinationAccess", "monitoring"):
        granted = text(path(wired[symbol][1], "params", "consumerPrincipalId"))
        assert granted == f"consumerEnabled ? {consumer} : ''", symbol
    app = wired["app"][1]
    assert text(path(app, "params", "identityId")) == "identity.outputs.id"
