"""The house rules, read off the code: imports run downward only (CLI and runners → sources and
engines → shared modules), a source is one folder named in the registry, and the raw-table
contract the extractor writes is the one dbt's sources declare."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from extract.raw_tables import LOAD_ID
from extract.sources.registry import SOURCES
from tests.support import ROOT

PACKAGE = ROOT / "extract"
TOP = {
    "extract.__main__",
    "extract.cli",
    "extract.job",
    "extract.runner",
    "extract.bulk.runner",
    "extract.search",
    "extract.sources.registry",
}
SOURCE_FOLDERS = sorted(p.name for p in (PACKAGE / "sources").iterdir() if (p / "__init__.py").exists())
ENGINES = sorted(p.stem for p in (PACKAGE / "bulk" / "engines").glob("*.py") if p.stem != "__init__")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The `extract.*` modules a file imports, anywhere in it (lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("extract")}


def layer(module: str) -> tuple[str, str | None]:
    """(`top` | `source` | `engine` | `shared`, the source or engine it belongs to)."""
    if module in TOP:
        return "top", None
    parts = module.split(".")
    if parts[:2] == ["extract", "sources"] and len(parts) > 2 and parts[2] in SOURCE_FOLDERS:
        return "source", parts[2]
    if parts[:3] == ["extract", "bulk", "engines"] and len(parts) > 3 and parts[3] in ENGINES:
        return "engine", parts[3]
    return "shared", None


GRAPH = {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_run_downward_only(module: str) -> None:
    kind, owner = layer(module)
    for imported in GRAPH[module]:
        other_kind, other_owner = layer(imported)
        if kind == "top" or other_kind == "shared":
            continue
        assert (other_kind, other_owner) == (kind, owner), f"{module} imports {imported}"


def test_the_graph_is_read_and_the_layers_are_all_there() -> None:
    """Guards the test above against reading nothing: every layer has modules, sources and
    engines import shared modules, and the top layer reaches each source and engine."""
    layers = {layer(m)[0] for m in GRAPH}
    assert layers == {"top", "source", "engine", "shared"}
    assert sorted(SOURCES) == SOURCE_FOLDERS and ENGINES == ["bigquery", "duckdb"]
    reached = {layer(i) for m in TOP for i in GRAPH[m]}
    assert {("source", s) for s in SOURCES} <= reached
    assert {("engine", e) for e in ENGINES} <= reached


def test_a_source_is_one_folder_named_in_the_registry() -> None:
    for name, source in SOURCES.items():
        assert source.name == name
        assert source.__module__.startswith(f"extract.sources.{name}.")
        names = [t.name for t in source.tables]
        assert len(names) == len(set(names)) and names, name


def dbt_sources() -> dict[str, dict[str, list[tuple[str, str]]]]:
    """Each dbt source's tables and their declared columns (name, contract type)."""
    declared = {}
    for path in (ROOT / "dbt_project" / "models" / "staging").glob("*/_*__sources.yml"):
        for source in yaml.safe_load(path.read_text())["sources"]:
            declared[source["name"]] = {
                table["name"]: [(c["name"], c.get("data_type")) for c in table["columns"]]
                for table in source["tables"]
            }
    return declared


def test_dbt_sources_declare_the_raw_table_contract() -> None:
    declared = dbt_sources()
    assert set(declared) == set(SOURCES), "one dbt source per extractor source, named alike"
    for name, source in SOURCES.items():
        contract = {t.name: [(c.name, c.data_type) for c in (*t.columns, LOAD_ID)] for t in source.tables}
        assert declared[name] == contract, name


def test_the_readme_has_queries_to_copy_for_duckdb_and_bigquery() -> None:
    """CI runs the DuckDB ones on the demo's warehouse (scripts/readme_queries.py)."""
    from scripts.readme_queries import duckdb_blocks

    readme = (ROOT / "README.md").read_text()
    assert len(duckdb_blocks(readme)) >= 5
    assert readme.split("## Query the data", 1)[1].split("\n## ", 1)[0].count("-- BigQuery") >= 2
