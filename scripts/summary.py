"""Prints the rows of every curated model in the warehouse (the marts, the data-quality models and
the documents for retrieval, as dbt's manifest lists them: no hand-kept list), by source, and the
last run's record.

    python scripts/summary.py

Reads the DuckDB file and schema the extractor and dbt use (DUCKDB_PATH or DATA_DIR/epc.duckdb,
DBT_SCHEMA or BQ_DATASET or dame_epc) and the manifest of the last dbt run (DBT_TARGET_PATH or
target/manifest.json).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import duckdb

CURATED = ("marts", "quality", "retrieval")  # the model folders users query


def curated_models(manifest: dict) -> list[str]:
    """The names of the models in the curated folders, sorted."""
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and len(node["fqn"]) > 2 and node["fqn"][1] in CURATED
    )


def line(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> str:
    """`name: N rows`, by source where the model has `source_system`."""
    columns = {c for (c,) in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()}  # fmt: skip
    if "source_system" not in columns:
        return f"{name}: {con.execute(f'select count(*) from {schema}.{name}').fetchone()[0]} rows"
    counts = f"select source_system, count(*) from {schema}.{name} group by 1"
    by_source = dict(con.execute(counts).fetchall())
    live, v1 = by_source.get("mhclg", 0), by_source.get("odc", 0)
    return f"{name}: {sum(by_source.values())} rows (live service {live}, v1 {v1})"


def main() -> int:
    data_dir = os.environ.get("DATA_DIR", "data")
    path = os.environ.get("DUCKDB_PATH") or os.path.join(data_dir, "epc.duckdb")
    schema = os.environ.get("DBT_SCHEMA") or os.environ.get("BQ_DATASET") or "dame_epc"
    manifest = Path(os.environ.get("DBT_TARGET_PATH") or "target") / "manifest.json"
    if not manifest.is_file():
        print(f"error: no dbt manifest at {manifest}: run dbt first", file=sys.stderr)
        return 1
    names = curated_models(json.loads(manifest.read_text()))
    with duckdb.connect(path, read_only=True) as con:
        tables = "select table_name from information_schema.tables where table_schema = ?"
        present = {n for (n,) in con.execute(tables, [schema]).fetchall()}
        print(f"curated models in {path} (schema {schema}), as dbt's manifest lists them:")
        for name in names:
            print(f"  {line(con, schema, name) if name in present else name + ': not built'}")
        if "pipeline_runs" in present:
            run = con.execute(
                f"select run_id, status, certificates_new, requests_sent, dbt_status, freshness_status "
                f"from {schema}.pipeline_runs order by started_at desc limit 1"
            ).fetchone()
            print("last run (pipeline_runs): run_id {} {}, {} new certificates, {} requests, dbt {}, "
                  "freshness {}".format(*run))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
