"""The Flex Consumption shape of the app, and the azd wiring around the templates."""

import json
import re
import subprocess

from shared.settings import load_settings
from tests.infra.bicep import INFRA, all_resources, declaration, modules, parse, path, text
from tests.infra.test_settings import DEPLOY_TIME_EXAMPLES

ROOT = INFRA.parent
FUNCTION = INFRA / "app" / "function.bicep"


def one(resource_type: str):
    [found] = [r for r in all_resources() if r.type == resource_type and not r.existing]
    return found


def value(node, *keys: str) -> str:
    found = path(node, *keys)
    assert found is not None, keys
    return text(found)


def test_the_plan_is_flex_consumption_on_linux() -> None:
    plan = one("Microsoft.Web/serverfarms").body
    assert value(plan, "sku", "name") == "'FC1'"
    assert value(plan, "sku", "tier") == "'FlexConsumption'"
    assert value(plan, "properties", "reserved") == "true"


def test_the_app_runs_python_3_11_with_scale_from_parameters() -> None:
    site = one("Microsoft.Web/sites").body
    assert value(site, "kind") == "'functionapp,linux'"
    config = path(site, "properties", "functionAppConfig")
    assert value(config, "runtime", "name") == "'python'"
    assert value(config, "runtime", "version") == "'3.11'"
    assert value(config, "scaleAndConcurrency", "instanceMemoryMB") == "instanceMemoryMB"
    assert value(config, "scaleAndConcurrency", "maximumInstanceCount") == "maximumInstanceCount"
    app = modules(INFRA / "main.bicep")["app"][1]
    assert value(app, "params", "instanceMemoryMB") == "instanceMemoryMB"
    assert value(app, "params", "maximumInstanceCount") == "maximumInstanceCount"
    main_params = {
        text(n.named_children[0])
        for n in parse(INFRA / "main.bicep").root_node.children
        if n.type == "parameter_declaration"
    }
    assert {"instanceMemoryMB", "maximumInstanceCount"} <= main_params


def test_the_package_and_key_vault_references_use_the_user_assigned_identity() -> None:
    site = one("Microsoft.Web/sites").body
    storage = path(site, "properties", "functionAppConfig", "deployment", "storage")
    assert value(storage, "type") == "'blobContainer'"
    assert value(storage, "authentication", "type") == "'UserAssignedIdentity'"
    assert value(storage, "authentication", "userAssignedIdentityResourceId") == "identityId"
    assert value(site, "identity", "type") == "'UserAssigned'"
    assert value(site, "properties", "keyVaultReferenceIdentity") == "identityId"
    assert value(site, "properties", "httpsOnly") == "true"


def test_the_app_settings_are_main_bicep_s_list() -> None:
    app = modules(INFRA / "main.bicep")["app"][1]
    assert value(app, "params", "appSettings") == "appSettings"
    declaration(INFRA / "main.bicep", "variable_declaration", "appSettings")


def test_the_app_carries_the_azd_service_name_of_azure_yaml() -> None:
    services = re.findall(
        r"^  (\w+):\n    project: ", (ROOT / "azure.yaml").read_text(encoding="utf-8"), re.M
    )
    app = modules(INFRA / "main.bicep")["app"][1]
    assert services
    assert value(app, "params", "serviceName") == f"'{services[0]}'"


def test_azure_yaml_deploys_python_to_functions_and_runs_the_postdeploy_hook() -> None:
    azure = (ROOT / "azure.yaml").read_text(encoding="utf-8")
    assert "language: python" in azure
    assert "host: function" in azure
    hook = re.search(r"postdeploy:\n\s+posix:\n\s+shell: sh\n\s+run: (\S+)", azure)
    assert hook, "postdeploy hook"
    script = (ROOT / hook.group(1)).read_text(encoding="utf-8")
    assert "-m shared.cli webhook register --url" in script
    assert "FUNCTIONS_WORKER_RUNTIME" not in script


def test_parameters_file_matches_main_bicep() -> None:
    declared = {}
    for node in parse(INFRA / "main.bicep").root_node.children:
        if node.type == "parameter_declaration":
            has_default = len(node.named_children) > 2
            declared[text(node.named_children[0])] = has_default
    given = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    assert set(given) <= set(declared), "main.parameters.json names a parameter main.bicep lacks"
    assert [name for name, has_default in declared.items() if not has_default and name not in given] == []
    assert given["webhookSecret"]["value"].startswith("$(secretOrRandomPassword ${AZURE_KEY_VAULT_NAME} ")


def test_outputs_the_postdeploy_hook_reads_exist() -> None:
    outputs = {
        text(n.named_children[0])
        for n in parse(INFRA / "main.bicep").root_node.children
        if n.type == "output_declaration"
    }
    script = (INFRA / "hooks" / "postdeploy.sh").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]+)", script)) - {"PYTHON"}
    assert used <= outputs, used - outputs


def test_the_cli_accepts_the_settings_the_postdeploy_hook_gives_it() -> None:
    script = (INFRA / "hooks" / "postdeploy.sh").read_text(encoding="utf-8")
    block = script.split("register() {", 1)[1].split("\n}\n", 1)[0]
    names = re.findall(r"\b([A-Za-z_]+(?:__\w+)?)=\"", block)
    assert {"WEBHOOK_SECRET", "SPEECH_ENDPOINT", "DESTINATION_CONTAINER_URL"} <= set(names)
    assert not [n for n in names if n.endswith("__credential")], "the deployer is no managed identity"
    load_settings({name: DEPLOY_TIME_EXAMPLES[name] for name in names})


def test_the_harvester_package_leaves_out_what_azure_does_not_run() -> None:
    ignored = set((ROOT / ".funcignore").read_text(encoding="utf-8").split())
    assert {"local", "tests", "bench", "examples", "node_modules", ".venv", "local.settings.json"} <= ignored


def test_the_postdeploy_hook_is_valid_posix_shell() -> None:
    hook = INFRA / "hooks" / "postdeploy.sh"
    checked = subprocess.run(["sh", "-n", str(hook)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    assert hook.stat().st_mode & 0o111, "azd runs the hook as a program: it must be executable"
