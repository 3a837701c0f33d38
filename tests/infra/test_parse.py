"""Every Bicep file parses cleanly, and the files reference each other consistently (offline: no bicep build)."""

from pathlib import Path

import pytest

from tests.infra.bicep import INFRA, bicep_files, modules, parse, problems, string_value, text, walk

FILES = bicep_files()


def test_the_deployment_has_its_templates() -> None:
    names = {p.relative_to(INFRA).as_posix() for p in FILES}
    assert {"main.bicep", "app/function.bicep", "monitor/alerts.bicep", "monitor/workbook.bicep"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_parses_without_error_or_missing_nodes(path: Path) -> None:
    assert problems(parse(path)) == []


def test_the_parser_reports_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "broken.bicep"
    broken.write_text("resource a 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: 'x'\n")
    assert problems(parse(broken))


def test_main_is_subscription_scoped() -> None:
    scopes = [
        n for n in parse(INFRA / "main.bicep").root_node.children if n.type == "target_scope_assignment"
    ]
    assert [string_value(n.named_children[-1]) for n in scopes] == ["subscription"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_modules_and_loaded_files_exist(path: Path) -> None:
    for source, _ in modules(path).values():
        assert (path.parent / source).is_file(), f"{path.name}: module {source} not found"
    for node in walk(parse(path).root_node):
        if node.type == "call_expression" and text(node).startswith(("loadJsonContent(", "loadTextContent(")):
            argument = next(n for n in walk(node) if n.type == "string")
            assert (path.parent / string_value(argument)).is_file(), f"{path.name}: {text(node)}"
