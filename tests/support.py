"""Helpers the test layers share: the loopback environment, running the CLI, and reading a run's
DuckDB file and bucket files."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK_ENV = {
    "NO_GCE_CHECK": "true",
    "GCE_METADATA_HOST": "127.0.0.1:9",
    "GCE_METADATA_IP": "127.0.0.1:9",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
}
# variables a developer's shell may carry that would leak into the runs under test
FOREIGN_ENV = (
    "EPC_EMAIL", "EPC_API_KEY", "EPC_API_BASE_URL", "PAGE_SIZE", "MAX_CONCURRENCY", "BUCKET",
    "BQ_DATASET", "DUCKDB_PATH", "DATA_DIR", "DESTINATION", "START_YEAR", "END_YEAR",
    "RETRY_MAX", "RETRY_BACKOFF", "REQUEST_TIMEOUT_SECONDS", "EPC_API_TOKEN", "SOURCE", "RATE_LIMIT",
)  # fmt: skip


# the first columns of every v1 raw table, whichever path (API or bulk file) created it
V1_LANDING_COLUMNS = [
    ("lmk_key", "VARCHAR", "NO"),
    ("lodgement_date", "DATE", "YES"),
    ("postcode", "VARCHAR", "YES"),
    ("uprn", "VARCHAR", "YES"),
    ("payload", "JSON", "YES"),
]


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_subprocess(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    """`python -m extract ARGS` as its own process, from the repository root."""
    full_env = {**os.environ, **LOOPBACK_ENV, **env}
    return subprocess.run(
        [sys.executable, "-m", "extract", *args], cwd=ROOT, env=full_env, capture_output=True,
        text=True, **kwargs,
    )  # fmt: skip


class Warehouse:
    """Read-only queries on the run's DuckDB file (opened per query: dlt needs the lock)."""

    def __init__(self, data_dir: Path, dataset: str = "dame_epc") -> None:
        self.path, self.dataset = data_dir / "epc.duckdb", dataset

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(sql.format(ds=self.dataset)).fetchall()

    def count(self, table: str, month: str | None = None) -> int:
        where = f"where strftime(lodgement_date, '%Y-%m') = '{month}'" if month else ""
        return self.query(f"select count(*) from {{ds}}.{table} {where}")[0][0]

    def columns(self, table: str) -> list[tuple[str, str, str]]:
        """(name, type, nullable) of each column of `table`, in order."""
        return self.query(
            "select column_name, data_type, is_nullable from information_schema.columns "
            f"where table_schema = '{{ds}}' and table_name = '{table}' order by ordinal_position"
        )

    def payloads(self, table: str) -> list[dict]:
        return [json.loads(p) for (p,) in self.query(f"select payload from {{ds}}.{table}")]


def dbt_env(work: Path) -> dict[str, str]:
    """The environment of a dbt project run in `work`: the warehouse in `work/data`, a copy of
    profiles.example.yml, dbt's target and logs there too (the extractor's settings alike)."""
    profiles = work / "profiles"
    profiles.mkdir(exist_ok=True)
    shutil.copy(ROOT / "profiles.example.yml", profiles / "profiles.yml")
    return {
        **os.environ,
        **LOOPBACK_ENV,
        "DATA_DIR": str(work / "data"),
        "DBT_PROFILES_DIR": str(profiles),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "RETRY_BACKOFF": "0.01",
    }


def double_env(api: Any, data_dir: Path, token: str | None = None, **extra: str) -> dict[str, str]:
    """The extractor's environment against the live double `api`, landing in `data_dir`."""
    return {
        "EPC_API_TOKEN": token or api.token,
        "EPC_API_BASE_URL": api.base_url,
        "DATA_DIR": str(data_dir),
        "RETRY_BACKOFF": "0.01",
        "RETRY_MAX": "2",
        **extra,
    }


def table_rows(warehouse: Warehouse, table: str) -> list[tuple]:
    """Every column but the load's own stamps, as text, sorted: what two runs must agree on."""
    columns = [
        name
        for (name,) in warehouse.query(
            "select column_name from information_schema.columns where table_schema = '{ds}' "
            f"and table_name = '{table}' order by ordinal_position"
        )
        if name not in ("extracted_at", "_dlt_load_id")
    ]
    if not columns:
        return []
    listed = ", ".join(f"{c}::varchar" for c in columns)
    return warehouse.query(f"select {listed} from {{ds}}.{table} order by all")


# runs a module as `python -m` with the wall clock moved to a given instant (time-machine), so a
# process under test sees the day a test chose, as libfaketime would show it from outside
_PINNED = (
    "import runpy, sys, time_machine; time_machine.travel(sys.argv.pop(1), tick=True).start(); "
    "runpy.run_module(sys.argv.pop(1), run_name='__main__', alter_sys=True)"
)


def pinned_command(day: date, module: str, args: list[str], at: str = "09:00:00") -> list[str]:
    """`python -m module ARGS` as on `day` at `at` UTC (the same date in London)."""
    return [sys.executable, "-c", _PINNED, f"{day.isoformat()}T{at}+00:00", module, *args]


def pinned_load_id(day: date, at: str = "09:00:00") -> str:
    """The lowest load id a run started by `pinned_command(day, …, at=at)` can write: its clock's
    start as dlt's load ids spell it (epoch seconds)."""
    return f"{datetime.fromisoformat(f'{day.isoformat()}T{at}+00:00').timestamp():.6f}"


def ndjson_rows(path: Path) -> list[dict]:
    with gzip.open(path, "rt") as handle:
        return [json.loads(line) for line in handle]


def differences_from_full_refresh(incremental: Path, fresh: Path, schema: str = "dame_epc") -> dict[str, int]:
    """Per table a daily build maintains incrementally (the `int_*` and `enr_*` tables of
    `incremental`): the rows that differ from the same table in `fresh` (a full refresh of the
    same data), both ways. `previous_property_key` (bookkeeping of the last load) and `updated_at`
    (when a document was written) are left out."""
    differences: dict[str, int] = {}
    with duckdb.connect(str(incremental), read_only=True) as con:
        con.execute(f"attach '{fresh}' as fresh (read_only)")
        tables = con.execute(
            "select table_name from information_schema.tables where table_catalog = current_database() "
            "and table_schema = ? and table_type = 'BASE TABLE' "
            "and (table_name like 'int\\_%' escape '\\' or table_name like 'enr\\_%' escape '\\')",
            [schema],
        ).fetchall()
        for (table,) in tables:
            names = con.execute(
                "select column_name from information_schema.columns where table_catalog = current_database() "
                "and table_schema = ? and table_name = ? "
                "and column_name not in ('previous_property_key', 'updated_at') "
                "order by ordinal_position",
                [schema, table],
            ).fetchall()
            # each row as a 64-bit hash of its columns: EXCEPT ALL then sorts 8 bytes a row, not a
            # hundred columns (a benchmark's ten million rows would not fit in memory)
            columns = ", ".join(f'"{name}"' for (name,) in names)
            ours, theirs = (
                f"select hash({columns}) from {schema}.{table}",
                f"select hash({columns}) from fresh.{schema}.{table}",
            )
            differences[table] = con.execute(
                f"select count(*) from (({ours} except all {theirs}) union all ({theirs} except all {ours}))"
            ).fetchone()[0]
    return differences


def implausible_only(build_stdout: str) -> bool:
    """Whether every warning of a `dbt build` is an implausible-data test (`not_after`: the
    doubles serve the official samples, one of which was inspected a year after its lodgement)."""
    warned = re.findall(r"Warning in test (\S+)", build_stdout)
    return all(name.startswith("not_after_") for name in warned)
