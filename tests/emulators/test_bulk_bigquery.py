"""The BigQuery side of `--bulk`. On gcp-storage-emulator + bqemulator a per-year file lands the
rows DuckDB gets, is skipped when run again, and merges with the API path. What the emulator cannot
show (the JSON column type, clustering) is asserted on the DDL, load job configurations and SQL."""

from __future__ import annotations

from datetime import date

import pytest

from tests.doubles import mhclg
from tests.emulators.cloud import bigquery_counts, fresh_cloud, on_duckdb, same_payloads
from tests.support import Warehouse, run_subprocess

YEAR = "domestic-2023.zip"
TABLES = ("domestic_raw_json", "domestic_recommendations_raw_json")
API_LOAD = ["--kinds", "domestic", "--start", "2023-04", "--end", "2023-05", "--with-recs"]


@pytest.fixture
def cloud(emulators, double, tmp_path, monkeypatch):
    return fresh_cloud(emulators, double, tmp_path, monkeypatch)


def keys_and_rows(env: dict[str, str], duck: Warehouse | None = None) -> dict[str, list[tuple]]:
    sql = "select count(*), count(distinct lmk_key) from {ds}.%s"
    return {t: (duck.query if duck else lambda s: bigquery_counts(env, s))(sql % t) for t in TABLES}


def test_bulk_file_on_the_emulators_lands_duckdbs_rows_once_and_merges_with_the_api(cloud, double, tmp_path):
    bulk = ["--source", "odc", "--bulk", YEAR]
    done = run_subprocess(bulk, cloud)
    assert done.returncode == 0, done.stderr
    assert run_subprocess(bulk, on_duckdb(cloud, tmp_path)).returncode == 0
    duck = Warehouse(tmp_path / "duck", dataset=cloud["BQ_DATASET"])
    landed = keys_and_rows(cloud)
    assert landed == keys_and_rows(cloud, duck)
    certificates = landed["domestic_raw_json"][0][0]
    assert certificates > 0 and landed["domestic_recommendations_raw_json"][0][0] > 0
    assert same_payloads(cloud, duck, "domestic_raw_json", "lmk_key")
    keyed = "select count(*) from {ds}.domestic_raw_json where json_value(payload, '$.\"lmk-key\"') = lmk_key"
    assert bigquery_counts(cloud, keyed) == [(certificates,)]

    double.clear()
    again = run_subprocess(bulk, cloud)
    assert again.returncode == 0, again.stderr
    assert [r for r in double.log if r.path.startswith("/api/v1/files/")] == []
    assert keys_and_rows(cloud) == landed

    api = run_subprocess(API_LOAD, cloud)
    assert api.returncode == 0, api.stderr
    assert double.searches()
    assert keys_and_rows(cloud) == landed  # the API's certificates replaced the bulk rows, one per key


def test_bulk_file_after_an_api_load_takes_dlts_tables_and_replaces_its_rows(cloud, double):
    api = run_subprocess(API_LOAD, cloud)
    assert api.returncode == 0, api.stderr
    done = run_subprocess(["--source", "odc", "--bulk", YEAR], cloud)
    assert done.returncode == 0, done.stderr
    keys = {r["lmk-key"] for m in double.data.months() if m < "2024" for r in double.data.rows("domestic", m)}
    recs = sum(len(double.data.recommendations("domestic", k)) for k in keys)
    assert keys_and_rows(cloud) == {
        "domestic_raw_json": [(len(keys), len(keys))],
        "domestic_recommendations_raw_json": [
            (recs, len({k for k in keys if double.data.recommendations("domestic", k)}))
        ],
    }


def test_live_full_load_on_the_emulators_lifts_the_columns_duckdb_lifts(cloud, tmp_path):
    data = mhclg.Dataset(seed=5, start="2025-01-01", end="2025-02-20", per_day={"domestic": 3})
    with mhclg.MhclgDouble(data, token="bulk-token", today=date(2025, 3, 10)) as live:
        env = {**cloud, "EPC_API_TOKEN": "bulk-token", "EPC_API_BASE_URL": live.base_url}
        for each in (env, on_duckdb(env, tmp_path)):
            done = run_subprocess(["--source", "mhclg", "--bulk", "domestic"], each)
            assert done.returncode == 0, done.stderr
    duck = Warehouse(tmp_path / "duck", dataset=cloud["BQ_DATASET"])
    lifted = (
        "select certificate_number, lodgement_date, postcode, uprn, schema_type, related_certificate_number "
        "from {ds}.mhclg_domestic_raw_json order by 1"
    )
    assert bigquery_counts(cloud, lifted) == duck.query(lifted)
    assert len(duck.query(lifted)) == len(data.certificates("domestic"))
    assert same_payloads(cloud, duck, "mhclg_domestic_raw_json", "certificate_number")
