"""The committed JSON Schemas (docs/schemas/) are the models' own, and the README's tables name the same fields."""

import json
import re
from pathlib import Path

import pytest

from shared.schemas import FOLDER, PUBLISHED

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("document", PUBLISHED, ids=lambda d: d.name)
def test_committed_schema_matches_its_model(document):
    committed = (FOLDER / document.file_name).read_text(encoding="utf-8")
    assert committed == document.text(), (
        f"run `make schemas`: {document.file_name} no longer matches the model"
    )


def test_no_stray_schema_files():
    assert sorted(p.name for p in FOLDER.glob("*.json")) == sorted(d.file_name for d in PUBLISHED)


def test_every_published_json_is_camel_case():
    def names(schema):
        for definition in [schema, *schema.get("$defs", {}).values()]:
            yield from definition.get("properties", {})

    for document in PUBLISHED:
        for name in names(document.schema()):
            assert re.fullmatch(r"[a-z][A-Za-z0-9]*", name), f"{document.name}: {name}"


def table_fields(heading: str) -> set[str]:
    """The backticked names in the first column of the table under `heading` (`results[]` counts as results)."""
    section = README.split(heading, 1)[1]
    table = section[section.index("\n|") : section.index("\n\n", section.index("\n|"))]
    rows = re.findall(r"^\| ([^|]+?) \|", table, re.M)[1:]  # the first is the header
    return {name.removesuffix("[]") for row in rows for name in re.findall(r"`([^`]+)`", row)}


@pytest.mark.parametrize(
    ("heading", "name"),
    [
        ("### manifest.json (schema version", "manifest"),
        ("### The JSON transcript (schema version", "transcript"),
        ("### Poison messages", "poison-envelope"),
    ],
)
def test_readme_tables_name_exactly_the_schema_fields(heading, name):
    [document] = [d for d in PUBLISHED if d.name == name]
    assert table_fields(heading) == set(document.schema()["properties"])
    version = document.version
    assert (
        f"{heading} {version})" in README or f"schema version {version}" in README.split(heading, 1)[1][:400]
    )


@pytest.mark.parametrize(
    ("marker", "name"), [('{"counts":', "status"), ('{"id": "5cff1d03-…", "kind"', "job-status")]
)
def test_readme_examples_use_only_schema_fields(marker, name):
    [document] = [d for d in PUBLISHED if d.name == name]
    text = README[README.index(marker) :]
    example = json.loads(text[: text.index("\n```")])
    assert set(example) <= set(document.schema()["properties"])
