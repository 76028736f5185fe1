"""The BigQuery side of `--bulk`. On gcp-storage-emulator + bqemulator a per-year file lands the
rows DuckDB gets, is skipped when run again, and merges with the API path. What the emulator cannot
show (the JSON column type, clustering) is asserted on the DDL, load job configurations and SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from extract.bulk.bigquery_load import (
    csv_load_config,
    jsonl_load_config,
    live_documents_script,
    require_supported,
    table_ddl,
    v1_certificates_script,
    v1_recommendations_script,
)
from extract.errors import ConfigError
from extract.settings import load_settings
from tests.conftest import Warehouse, run_subprocess
from tests.doubles import mhclg
from tests.emulators import (  # noqa: F401 - emulators_fixture is a fixture
    bigquery_counts,
    emulators_fixture,
    fresh_cloud,
    on_duckdb,
    same_payloads,
)

HEADER = ["LMK_KEY", "POSTCODE", "CO2_EMISS_CURR_PER_FLOOR_AREA", "LODGEMENT_DATE", "UPRN"]
LOAD_ID, AT = "1764201600.123456", datetime(2025, 11, 27, 0, 0, 0, 5, tzinfo=UTC)
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


def test_raw_table_is_partitioned_by_month_and_clustered_like_the_api_path():
    ddl = table_ddl("p.d.domestic_raw_json", "lmk_key", (), ("lmk_key", "postcode", "uprn"))
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS `p.d.domestic_raw_json` (lmk_key STRING NOT NULL")
    assert "payload JSON" in ddl and "_dlt_load_id STRING NOT NULL" in ddl
    assert ddl.endswith("PARTITION BY DATE_TRUNC(lodgement_date, MONTH) CLUSTER BY lmk_key, postcode, uprn")


def test_csv_loads_as_text_columns_named_by_the_header():
    config = csv_load_config(HEADER)
    assert config["sourceFormat"] == "CSV" and config["skipLeadingRows"] == 1
    assert config["allowQuotedNewlines"] is True and config["writeDisposition"] == "WRITE_TRUNCATE"
    assert [(f["name"], f["type"]) for f in config["schema"]["fields"]] == [(h, "STRING") for h in HEADER]
    assert jsonl_load_config()["schema"]["fields"][1] == {"name": "document", "type": "JSON"}


def test_certificates_script_builds_the_api_payload_and_replaces_rows_in_one_transaction():
    sql = v1_certificates_script(
        "p.d.domestic_raw_json", "p.d._bulk_stage_domestic_raw_json", HEADER, LOAD_ID, AT
    )
    lines = sql.splitlines()
    assert lines[0] == "BEGIN TRANSACTION;" and lines[-1] == "COMMIT TRANSACTION;"
    assert "JSON_OBJECT('lmk-key', COALESCE(r.`LMK_KEY`, '')" in sql
    assert "'co2-emiss-curr-per-floor-area', COALESCE(r.`CO2_EMISS_CURR_PER_FLOOR_AREA`, '')" in sql
    assert "SAFE.PARSE_DATE('%Y-%m-%d', r.LODGEMENT_DATE)" in sql
    assert "TIMESTAMP '2025-11-27 00:00:00.000005+00:00', '1764201600.123456'" in sql
    assert "QUALIFY ROW_NUMBER() OVER (PARTITION BY r.`LMK_KEY`" in sql  # a key once per file
    assert (
        "DELETE FROM `p.d.domestic_raw_json` WHERE _dlt_load_id <> '1764201600.123456' AND lmk_key IN "
        "(SELECT `LMK_KEY` FROM `p.d._bulk_stage_domestic_raw_json`);"
    ) in sql
    assert sql.index("INSERT INTO") < sql.index("DELETE FROM")


def test_recommendations_take_their_certificates_columns():
    sql = v1_recommendations_script(
        "p.d.domestic_recommendations_raw_json", "p.d.domestic_raw_json", "p.d.s", HEADER, LOAD_ID, AT
    )
    assert "LEFT JOIN `p.d.domestic_raw_json` AS c ON c.lmk_key = r.`LMK_KEY`" in sql
    assert "c.lodgement_date, c.postcode, c.uprn" in sql


def test_live_documents_are_the_payload_with_columns_lifted_from_them():
    sql = live_documents_script("p.d.mhclg_domestic_raw_json", "p.d.s", LOAD_ID, AT)
    assert "r.document, TIMESTAMP '2025-11-27 00:00:00.000005+00:00', '1764201600.123456'" in sql
    assert "JSON_VALUE(r.document, '$.registration_date')" in sql
    assert "JSON_VALUE(r.document, '$.related_certificate_number')" in sql


def test_bigquery_bulk_needs_a_gcs_bucket(tmp_path: Path):
    environ = {"PROJECT_ID": "p", "DATA_DIR": str(tmp_path), "BUCKET": str(tmp_path / "b")}
    with pytest.raises(ConfigError, match="gs://"):
        require_supported(load_settings(destination="bigquery", environ=environ))
