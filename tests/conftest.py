"""Shared fixtures: the v1 double on 127.0.0.1, an isolated environment, and ways to run the CLI."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests import loopback
from tests.doubles.odc_v1 import Dataset, OdcV1Double

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


_LEFT_LOOPBACK: list[str] = []  # every attempt to reach past 127.0.0.1 from this process


@pytest.fixture(scope="session", autouse=True)
def _loopback_only() -> Iterator[None]:
    """Nothing may leave the machine: the extractor, dlt and the Google clients run in this
    process, so lookups and connections beyond loopback are refused and fail the test."""
    lift = loopback.guard(_LEFT_LOOPBACK)
    yield
    lift()


@pytest.fixture(autouse=True)
def _stays_on_loopback() -> Iterator[None]:
    before = len(_LEFT_LOOPBACK)
    yield
    assert _LEFT_LOOPBACK[before:] == [], "something tried to leave the machine"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in FOREIGN_ENV:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith(("SOURCES__", "DESTINATION__")):
            monkeypatch.delenv(name, raising=False)
    for name, value in LOOPBACK_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def dataset() -> Dataset:
    """Two years of data, 2023-06 empty; small enough for many runs per test."""
    return Dataset(seed=11, start="2023-01", end="2024-12")


@pytest.fixture
def double(dataset: Dataset) -> Iterator[OdcV1Double]:
    with OdcV1Double(dataset) as api:
        yield api


@pytest.fixture
def env(double: OdcV1Double, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment pointing the extractor at the double and a fresh data folder."""
    values = {
        "EPC_EMAIL": double.email,
        "EPC_API_KEY": double.api_key,
        "EPC_API_BASE_URL": double.base_url,
        "DATA_DIR": str(tmp_path / "data"),
        "RETRY_BACKOFF": "0.01",
        "RETRY_MAX": "3",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def extract(capsys: pytest.CaptureFixture[str], env: dict[str, str]):
    """Runs `python -m extract ARGS` in this process (fast); returns code, stdout, stderr."""
    from extract.__main__ import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


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

    def payloads(self, table: str) -> list[dict]:
        return [json.loads(p) for (p,) in self.query(f"select payload from {{ds}}.{table}")]


@pytest.fixture
def warehouse(env: dict[str, str]) -> Warehouse:
    return Warehouse(Path(env["DATA_DIR"]))


def ndjson_rows(path: Path) -> list[dict]:
    with gzip.open(path, "rt") as handle:
        return [json.loads(line) for line in handle]
