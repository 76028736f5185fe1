"""The SQL the bulk engines render from a member load: BigQuery's scripts (which bqemulator runs
only in part: the JSON type and clustering are asserted here) and DuckDB's expressions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from extract.bulk.engines import Stamp
from extract.bulk.engines import duckdb as duck
from extract.bulk.engines.bigquery import (
    children_script,
    csv_load_config,
    jsonl_load_config,
    keyed_script,
    table_ddl,
)
from extract.bulk.origin import CsvChildren, CsvRecords, Documents
from extract.bulk.runner import require_supported
from extract.errors import ConfigError
from extract.kinds import KINDS
from extract.settings import load_settings
from extract.sources.mhclg import bulk as live_bulk
from extract.sources.mhclg import tables as live
from extract.sources.odc import bulk as v1_bulk
from extract.sources.odc import tables as v1
from extract.sources.registry import SOURCES

HEADER = ("LMK_KEY", "POSTCODE", "CO2_EMISS_CURR_PER_FLOOR_AREA", "LODGEMENT_DATE", "UPRN")
STAMP = Stamp("1764201600.123456", datetime(2025, 11, 27, 0, 0, 0, 5, tzinfo=UTC))
DOMESTIC = KINDS["domestic"]
KEYS = {h: v1_bulk.api_name(h) for h in HEADER}
CERTIFICATES = CsvRecords(
    v1.certificates(DOMESTIC),
    HEADER,
    "LMK_KEY",
    {c: h for c, h in v1_bulk.LIFTED.items() if h in HEADER},
    KEYS,
)
RECOMMENDATIONS = CsvChildren(
    v1.recommendations(DOMESTIC), v1.certificates(DOMESTIC), HEADER, "LMK_KEY", KEYS
)
DOCUMENTS = Documents(live.certificates(DOMESTIC), "certificate_number", "document", live_bulk.LIFTED)


def test_raw_table_is_partitioned_by_month_and_clustered_like_the_api_path():
    ddl = table_ddl("p.d.domestic_raw_json", v1.certificates(DOMESTIC))
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS `p.d.domestic_raw_json` (lmk_key STRING NOT NULL")
    assert (
        "payload JSON" in ddl and "_dlt_load_id STRING NOT NULL" in ddl and "_dlt_id STRING NOT NULL" in ddl
    )
    assert ddl.endswith("PARTITION BY DATE_TRUNC(lodgement_date, MONTH) CLUSTER BY lmk_key, postcode, uprn")
    live_ddl = table_ddl("p.d.mhclg_non_domestic_raw_json", live.certificates(KINDS["non-domestic"]))
    assert "schema_type STRING, related_certificate_number STRING" in live_ddl
    assert live_ddl.endswith("CLUSTER BY certificate_number")


def test_csv_loads_as_text_columns_named_by_the_header():
    config = csv_load_config(HEADER)
    assert config["sourceFormat"] == "CSV" and config["skipLeadingRows"] == 1
    assert config["allowQuotedNewlines"] is True and config["writeDisposition"] == "WRITE_TRUNCATE"
    assert [(f["name"], f["type"]) for f in config["schema"]["fields"]] == [(h, "STRING") for h in HEADER]
    fields = jsonl_load_config("certificate_number", "document")["schema"]["fields"]
    assert fields[1] == {"name": "document", "type": "JSON"}


def test_certificates_script_builds_the_api_payload_and_replaces_rows_in_one_transaction():
    sql = keyed_script("p.d.domestic_raw_json", "p.d._bulk_stage_domestic_raw_json", CERTIFICATES, STAMP)
    lines = sql.splitlines()
    assert lines[0] == "BEGIN TRANSACTION;" and lines[-1] == "COMMIT TRANSACTION;"
    assert "JSON_OBJECT('lmk-key', COALESCE(r.`LMK_KEY`, '')" in sql
    assert "'co2-emiss-curr-per-floor-area', COALESCE(r.`CO2_EMISS_CURR_PER_FLOOR_AREA`, '')" in sql
    assert "SAFE.PARSE_DATE('%Y-%m-%d', LEFT(r.`LODGEMENT_DATE`, 10))" in sql
    assert "TIMESTAMP '2025-11-27 00:00:00.000005+00:00', '1764201600.123456'" in sql
    assert "QUALIFY ROW_NUMBER() OVER (PARTITION BY r.`LMK_KEY`" in sql  # a key once per file
    assert (
        "DELETE FROM `p.d.domestic_raw_json` WHERE _dlt_load_id <> '1764201600.123456' AND lmk_key IN "
        "(SELECT `LMK_KEY` FROM `p.d._bulk_stage_domestic_raw_json`);"
    ) in sql
    assert sql.index("INSERT INTO") < sql.index("DELETE FROM")


def test_recommendations_take_their_certificates_columns():
    sql = children_script(
        "p.d.domestic_recommendations_raw_json", "p.d.domestic_raw_json", "p.d.s", RECOMMENDATIONS, STAMP
    )
    assert "LEFT JOIN `p.d.domestic_raw_json` AS c ON c.lmk_key = r.`LMK_KEY`" in sql
    assert "c.lodgement_date, c.postcode, c.uprn" in sql


def test_live_documents_are_the_payload_with_columns_lifted_from_them():
    sql = keyed_script("p.d.mhclg_domestic_raw_json", "p.d.s", DOCUMENTS, STAMP)
    assert "r.`document`, TIMESTAMP '2025-11-27 00:00:00.000005+00:00', '1764201600.123456'" in sql
    assert "JSON_VALUE(r.`document`, '$.registration_date')" in sql
    assert "JSON_VALUE(r.`document`, '$.address.postcode')" in sql
    assert "JSON_VALUE(r.`document`, '$.related_certificate_number')" in sql


def test_duckdb_reads_nested_document_paths_and_parses_dates_strictly():
    assert duck.json_path('"document"', ("address", "postcode")) == "\"document\"->'address'->>'postcode'"
    date = next(c for c in DOCUMENTS.table.columns if c.name == "lodgement_date")
    assert duck.lifted(date, "x") == "try_strptime(left(x, 10), '%Y-%m-%d')::date"
    assert duck.lifted(date, None) == "null"
    assert duck.csv_payload({"LMK_KEY": "lmk-key"}) == "json_object('lmk-key', coalesce(\"LMK_KEY\", ''))"


def test_bigquery_bulk_needs_a_gcs_bucket(tmp_path: Path):
    environ = {"PROJECT_ID": "p", "DATA_DIR": str(tmp_path), "BUCKET": str(tmp_path / "b")}
    with pytest.raises(ConfigError, match="gs://"):
        require_supported(load_settings(destination="bigquery", environ=environ, sources=SOURCES))
