"""Read Bicep templates through tree-sitter-bicep's parse tree, so tests can assert what the templates declare.

Nothing here can run `bicep build` (the compiler downloads itself), but a parse tree is enough to find
resources, their properties, variables and the strings they hold. Values are read as source text: a test asks
"which role id does this assignment name" or "which keys does this object literal set", not what ARM computes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import tree_sitter_bicep
from tree_sitter import Language, Node, Parser, Tree

INFRA = Path(__file__).resolve().parents[2] / "infra"
_PARSER = Parser(Language(tree_sitter_bicep.language()))


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


@cache
def parse(path: Path) -> Tree:
    return _PARSER.parse(path.read_bytes())


def text(node: Node) -> str:
    return (node.text or b"").decode("utf-8")


def walk(node: Node) -> list[Node]:
    """Every node under `node`, depth first, itself included."""
    found = [node]
    for child in node.children:
        found.extend(walk(child))
    return found


def problems(tree: Tree) -> list[str]:
    """ERROR and MISSING nodes, as 'line:column type' (empty when the file parses cleanly)."""
    return [
        f"{n.start_point[0] + 1}:{n.start_point[1] + 1} {'MISSING' if n.is_missing else 'ERROR'} {text(n)[:60]!r}"
        for n in walk(tree.root_node)
        if n.is_error or n.is_missing
    ]


def string_value(node: Node) -> str:
    """The literal content of a string node ('...' or '''...'''), interpolations kept as ${...} source."""
    raw = text(node)
    if raw.startswith("'''"):
        return raw[3:-3]
    return raw[1:-1]


def unwrap(node: Node) -> Node:
    """The object of a resource or module body, through `if (...) {...}` and `[for ...: {...}]`."""
    if node.type == "if_statement":
        return next(c for c in node.children if c.type == "object")
    if node.type == "for_statement":
        body = node.child_by_field_name("body")
        return unwrap(body) if body is not None else node
    return node


def properties(obj: Node) -> dict[str, Node]:
    """An object literal's properties by key (identifier or quoted key), mapped to their value nodes."""
    found: dict[str, Node] = {}
    for prop in obj.children:
        if prop.type != "object_property":
            continue
        key, value = prop.named_children[0], prop.named_children[-1]
        found[string_value(key) if key.type == "string" else text(key)] = value
    return found


def path(obj: Node, *keys: str) -> Node | None:
    """Follow nested object keys, e.g. path(body, 'properties', 'allowSharedKeyAccess')."""
    node: Node | None = obj
    for key in keys:
        if node is None or node.type != "object":
            return None
        node = properties(node).get(key)
    return node


@dataclass(frozen=True)
class Resource:
    symbol: str
    type: str  # e.g. Microsoft.Storage/storageAccounts
    api_version: str
    existing: bool
    body: Node  # the object literal
    file: Path


def resources(file: Path) -> list[Resource]:
    found = []
    for node in parse(file).root_node.children:
        if node.type != "resource_declaration":
            continue
        symbol = next(c for c in node.children if c.type == "identifier")
        type_node = next(c for c in node.children if c.type == "string")
        resource_type, _, api_version = string_value(type_node).partition("@")
        existing = any(c.type == "existing" for c in node.children)
        found.append(
            Resource(text(symbol), resource_type, api_version, existing, unwrap(node.children[-1]), file)
        )
    return found


def all_resources() -> list[Resource]:
    return [r for f in bicep_files() for r in resources(f)]


def declaration(file: Path, kind: str, name: str) -> Node:
    """The value of `var name = ...` (kind 'variable_declaration') or similar top-level declaration."""
    for node in parse(file).root_node.children:
        if node.type == kind and text(node.named_children[0]) == name:
            return node.named_children[-1]
    raise LookupError(f"{file.name}: no {kind} {name}")


def object_entries(node: Node) -> dict[str, Node]:
    """Properties of every object literal at the top of an expression (through union() and ternaries): the
    keys an object-valued variable can have, each with its value node. Nested objects are not entered."""
    if node.type == "object":
        return properties(node)
    entries: dict[str, Node] = {}
    for child in node.named_children:
        entries |= object_entries(child)
    return entries


def modules(file: Path) -> dict[str, tuple[str, Node]]:
    """Module declarations: symbol -> (path, body object)."""
    found = {}
    for node in parse(file).root_node.children:
        if node.type == "module_declaration":
            symbol = next(c for c in node.children if c.type == "identifier")
            source = next(c for c in node.children if c.type == "string")
            found[text(symbol)] = (string_value(source), unwrap(node.children[-1]))
    return found


def roles() -> dict[str, str]:
    """infra/roles.json: role name used in the templates -> built-in role definition id."""
    return json.loads((INFRA / "roles.json").read_text(encoding="utf-8"))
