"""Helpers of the emulator layer: a fresh bucket and dataset per test on gcp-storage-emulator and
bqemulator, queries on them, and the same run on DuckDB for comparison."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.doubles.odc_v1 import OdcV1Double
from tests.support import LOOPBACK_ENV


def fresh_cloud(
    emulators: dict[str, str], double: OdcV1Double, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """A fresh bucket and dataset on the emulators, and the environment that points at them."""
    from google.cloud import storage

    name = f"t{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ, **LOOPBACK_ENV, **emulators,
        "EPC_EMAIL": double.email, "EPC_API_KEY": double.api_key, "EPC_API_BASE_URL": double.base_url,
        "DATA_DIR": str(tmp_path / "work"), "BUCKET": name, "BQ_DATASET": name, "DESTINATION": "bigquery",
        "RETRY_BACKOFF": "0.01",
    }  # fmt: skip
    for variable, value in emulators.items():  # for the Google clients this test process uses
        monkeypatch.setenv(variable, value)
    storage.Client(project=emulators["PROJECT_ID"]).create_bucket(name)
    return env


def bigquery_counts(env: dict[str, str], sql: str) -> list[tuple]:
    """Rows of `sql` on the emulator, `{ds}` standing for the test's dataset."""
    from google.cloud import bigquery

    client = bigquery.Client(project=env["PROJECT_ID"])
    return [tuple(row.values()) for row in client.query(sql.format(ds=env["BQ_DATASET"])).result()]


def on_duckdb(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The same run on the embedded default instead: DuckDB and a local bucket, for comparison."""
    return {**env, "DESTINATION": "duckdb", "DATA_DIR": str(tmp_path / "duck"), "BUCKET": str(tmp_path / "b")}


def same_payloads(env: dict[str, str], duck: Any, table: str, key: str) -> bool:
    """Whether every row's payload in `table` is the same JSON on the emulator and in DuckDB."""
    sql = f"select {key}, {{}} from {{{{ds}}}}.{table}"
    in_bigquery = bigquery_counts(env, sql.format("to_json_string(payload)"))
    in_duckdb = duck.query(sql.format("payload"))
    return {k: json.loads(p) for k, p in in_bigquery} == {k: json.loads(p) for k, p in in_duckdb}
