"""Every Bicep file parses cleanly, and the files reference each other consistently (offline: no bicep build)."""

import re
from pathlib import Path

import pytest
from tree_sitter import Node

from tests.infra.bicep import (
    INFRA,
    bicep_files,
    modules,
    parse,
    problems,
    properties,
    string_value,
    text,
    walk,
)

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


def declared(path: Path, kind: str) -> dict[str, bool]:
    """Top-level declarations of a kind ('parameter_declaration', 'output_declaration') -> has a default."""
    return {
        text(n.named_children[0]): len(n.named_children) > 2
        for n in parse(path).root_node.children
        if n.type == kind
    }


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_modules_get_the_parameters_they_declare(path: Path) -> None:
    """What `bicep build` would refuse: an unknown parameter, a required one left out."""
    for symbol, (source, body) in modules(path).items():
        target = path.parent / source
        params = declared(target, "parameter_declaration")
        given_node = properties(body).get("params")
        given = set(properties(given_node)) if given_node is not None else set()
        assert given - set(params) == set(), f"{symbol}: unknown parameters"
        assert {p for p, has_default in params.items() if not has_default} - given == set(), (
            f"{symbol}: missing"
        )


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_module_outputs_used_exist(path: Path) -> None:
    wired = modules(path)
    source = path.read_text(encoding="utf-8")
    for symbol, output in re.findall(r"\b(\w+)(?:\[\w+\])?\.outputs\.(\w+)", source):
        assert symbol in wired, f"{symbol} is not a module"
        outputs = declared(path.parent / wired[symbol][0], "output_declaration")
        assert output in outputs, f"{symbol}.outputs.{output}"


DECLARATIONS = (
    "parameter_declaration",
    "variable_declaration",
    "resource_declaration",
    "module_declaration",
    "output_declaration",
)


def symbols(root: Node) -> set[str]:
    """Names a template declares: top-level declarations and loop variables."""
    names = {
        text(next(c for c in n.children if c.type == "identifier"))
        for n in root.children
        if n.type in DECLARATIONS
    }
    for node in walk(root):
        if node.type in ("loop_variable", "loop_enumerator"):
            names.add(text(node))
        elif node.type == "for_statement":
            after_for = node.children[
                node.children.index(next(c for c in node.children if c.type == "for")) + 1
            ]
            if after_for.type == "identifier":
                names.add(text(after_for))
    return names


def is_reference(node: Node) -> bool:
    """An identifier that names a symbol: not an object key, a function name or a declaration's own name."""
    parent = node.parent
    if parent is None:
        return False
    if parent.type in ("object_property", *DECLARATIONS) and parent.named_children[0].id == node.id:
        return False
    function = parent.child_by_field_name("function") if parent.type == "call_expression" else None
    return not (function is not None and function.id == node.id)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_every_name_used_is_declared(path: Path) -> None:
    root = parse(path).root_node
    known = symbols(root)
    unknown = {text(n) for n in walk(root) if n.type == "identifier" and is_reference(n)} - known
    assert unknown == set()
