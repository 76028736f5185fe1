"""The BigQuery side of `--bulk`: bqemulator fails on multi-statement scripts (the loader runs
one transaction per member), so these tests assert the DDL, load job configurations and SQL the
loader sends; DuckDB runs the same payload logic for real in test_bulk_v1.py."""

from __future__ import annotations

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

HEADER = ["LMK_KEY", "POSTCODE", "CO2_EMISS_CURR_PER_FLOOR_AREA", "LODGEMENT_DATE", "UPRN"]


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
    sql = v1_certificates_script("p.d.domestic_raw_json", "p.d._bulk_stage_domestic_raw_json", HEADER)
    lines = sql.splitlines()
    assert lines[0] == "BEGIN TRANSACTION;" and lines[-1] == "COMMIT TRANSACTION;"
    assert "JSON_OBJECT('lmk-key', COALESCE(r.`LMK_KEY`, '')" in sql
    assert "'co2-emiss-curr-per-floor-area', COALESCE(r.`CO2_EMISS_CURR_PER_FLOOR_AREA`, '')" in sql
    assert "SAFE.PARSE_DATE('%Y-%m-%d', r.LODGEMENT_DATE)" in sql
    assert "QUALIFY ROW_NUMBER() OVER (PARTITION BY r.`LMK_KEY`" in sql  # a key once per file
    assert (
        "DELETE FROM `p.d.domestic_raw_json` WHERE _dlt_load_id <> @load_id AND lmk_key IN "
        "(SELECT `LMK_KEY` FROM `p.d._bulk_stage_domestic_raw_json`);"
    ) in sql
    assert sql.index("INSERT INTO") < sql.index("DELETE FROM")


def test_recommendations_take_their_certificates_columns():
    sql = v1_recommendations_script(
        "p.d.domestic_recommendations_raw_json", "p.d.domestic_raw_json", "p.d.s", HEADER
    )
    assert "LEFT JOIN `p.d.domestic_raw_json` AS c ON c.lmk_key = r.`LMK_KEY`" in sql
    assert "c.lodgement_date, c.postcode, c.uprn" in sql


def test_live_documents_are_the_payload_with_columns_lifted_from_them():
    sql = live_documents_script("p.d.mhclg_domestic_raw_json", "p.d.s")
    assert "r.document, @extracted_at, @load_id" in sql
    assert "JSON_VALUE(r.document, '$.registration_date')" in sql
    assert "JSON_VALUE(r.document, '$.related_certificate_number')" in sql


def test_bigquery_bulk_needs_a_gcs_bucket(tmp_path):
    environ = {"PROJECT_ID": "p", "DATA_DIR": str(tmp_path), "BUCKET": str(tmp_path / "b")}
    with pytest.raises(ConfigError, match="gs://"):
        require_supported(load_settings(destination="bigquery", environ=environ))
