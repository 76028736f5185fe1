"""Raw rows on their way to the warehouse and the bucket: what each source lifts out of a record,
the shapes dlt loads (Arrow for DuckDB, dicts for BigQuery's JSON column), and the NDJSON lines
the bucket keeps."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa

from extract.kinds import DISPLAY, DOMESTIC, NON_DOMESTIC
from extract.landing import TableFiles
from extract.raw_tables import RawTable
from extract.sources.mhclg import tables as live
from extract.sources.mhclg.resources import (
    code_batch,
    delta_batch,
    document_batch,
    kind_of,
    summary_of,
    table_of,
)
from extract.sources.odc import tables as v1
from extract.sources.odc.resources import Parent, certificate_batch, recommendation_batch

AT = datetime(2025, 2, 1, 8, 30, tzinfo=UTC)
V1_ROW = {"lmk-key": "k1", "lodgement-date": "2024-02-30", "postcode": "FL23 4JA", "uprn": "", "x": "é"}


def test_v1_rows_keep_their_record_and_lift_key_date_postcode_and_uprn() -> None:
    batch = certificate_batch(
        v1.certificates(DOMESTIC), [V1_ROW, {**V1_ROW, "lmk-key": "k2", "lodgement-date": "2024-02-29"}], AT
    )
    table = batch.to_arrow()
    assert table.column("lmk_key").to_pylist() == ["k1", "k2"]
    assert table.column("lodgement_date").to_pylist() == [None, date(2024, 2, 29)]  # no 30 February
    assert table.column("uprn").to_pylist() == [None, None]
    assert json.loads(table.column("payload")[0].as_py()) == V1_ROW
    assert table.schema.field("lmk_key").nullable is False
    assert batch.to_dicts()[0]["payload"] == V1_ROW and batch.to_dicts()[0]["extracted_at"] == AT


def test_recommendations_carry_their_certificates_landing_columns() -> None:
    parent = Parent("k1", "2024-02-01", "FL23 4JA", "42")
    rows = recommendation_batch(
        v1.recommendations(DOMESTIC), parent, [{"improvement-item": "1"}, {"improvement-item": "2"}], AT
    ).to_dicts()
    assert [(r["lmk_key"], r["lodgement_date"], r["uprn"]) for r in rows] == [
        ("k1", date(2024, 2, 1), "42")
    ] * 2


def test_live_documents_are_the_payload_and_the_search_summary_gives_the_columns() -> None:
    summary = {"certificateNumber": "0001", "registrationDate": "2025-01-05T10:00:00", "postcode": "M1 1AA",
               "uprn": 100023336956, "schemaType": "RdSAP-Schema-21.0.0", "relatedRrn": None}  # fmt: skip
    document = {"assessment_type": "RdSAP", "uprn": 100023336956, "address": {"postcode": "M1 1AA"}}
    row = document_batch(live.certificates(DOMESTIC), [summary], [document], AT).to_dicts()[0]
    assert row["certificate_number"] == "0001" and row["lodgement_date"] == date(2025, 1, 5)
    assert row["uprn"] == "100023336956" and row["schema_type"] == "RdSAP-Schema-21.0.0"
    assert row["payload"] == document and row["search_row"] == summary


def test_a_certificate_found_again_keeps_its_search_row_and_reports_have_none() -> None:
    summary = {"certificateNumber": "0002", "registrationDate": "2025-01-05", "council": "Adur"}
    document = {"assessment_type": "CEPC", "related_certificate_number": "0003"}
    kept = document_batch(live.certificates(NON_DOMESTIC), [summary], [document], AT, [b'{"council":"Adur"}'])
    assert kept.to_dicts()[0]["search_row"] == {"council": "Adur"}
    assert kept.to_dicts()[0]["related_certificate_number"] == "0003"  # from the document
    lost = document_batch(live.certificates(NON_DOMESTIC), [summary], [document], AT, [None])
    assert lost.to_dicts()[0]["search_row"] is None and b'"search_row":null' in lost.ndjson()
    report = document_batch(live.reports(NON_DOMESTIC), [summary], [{"assessment_type": "CEPC-RR"}], AT)
    assert "search_row" not in report.to_dicts()[0]
    assert table_of({"assessment_type": "CEPC-RR"}) == live.reports(NON_DOMESTIC)
    assert table_of({"assessment_type": "DEC-RR"}) == live.reports(DISPLAY)
    assert table_of({"assessment_type": "DEC"}) == live.certificates(DISPLAY)


def test_code_tables_land_one_row_per_code_key_schema_and_assessment_type() -> None:
    tables = {"built_form": [{"key": "1", "values": [
        {"value": "Detached", "schemaVersion": "RdSAP-Schema-21.0.0", "assessmentType": "RdSAP"},
        {"value": "Detached", "schemaVersion": "SAP-Schema-19.0.0", "assessmentType": "SAP"},
    ]}]}  # fmt: skip
    rows = code_batch(tables, AT).to_dicts()
    assert [(r["code"], r["key"], r["schema_version"], r["assessment_type"], r["value"]) for r in rows] == [
        ("built_form", "1", "RdSAP-Schema-21.0.0", "RdSAP", "Detached"),
        ("built_form", "1", "SAP-Schema-19.0.0", "SAP", "Detached"),
    ]
    assert set(rows[0]) == {c.name for c in live.CODES.columns}


def test_a_document_fetched_on_its_own_gives_the_summary_search_would() -> None:
    document = {"assessment_type": "CEPC", "registration_date": "2025-01-06",
                "address": {"postcode": "B1 1AA"}, "uprn": "7", "schema_type": "CEPC-8.0.0",
                "related_certificate_number": "0002"}  # fmt: skip
    assert summary_of("0001", document) == {
        "certificateNumber": "0001", "registrationDate": "2025-01-06", "postcode": "B1 1AA", "uprn": "7",
        "schemaType": "CEPC-8.0.0", "relatedRrn": "0002",
    }  # fmt: skip
    assert "relatedRrn" not in summary_of("0003", {"assessment_type": "SAP"})


def test_the_kind_of_a_document_comes_from_its_assessment_type_then_its_schema() -> None:
    assert kind_of({"assessment_type": "RdSAP"}) == DOMESTIC
    assert kind_of({"assessment_type": "CEPC-RR"}) == NON_DOMESTIC
    assert kind_of({"assessment_type": "DEC"}) == DISPLAY
    assert kind_of({"schema_type": "CEPC-8.0.0", "report_type": "1"}) == DISPLAY
    assert kind_of({"schema_type": "CEPC-8.0.0", "report_type": "3"}) == NON_DOMESTIC
    assert kind_of({"schema_type": "SAP-Schema-19.0.0"}) == DOMESTIC


def test_change_feed_events_are_keyed_by_certificate_type_and_time() -> None:
    events = [{"certificateNumber": "0001", "eventType": "removed", "timestamp": "2025-01-03T08:00:00.000Z"}]
    row = delta_batch(events, AT).to_dicts()[0]
    assert (row["certificate_number"], row["event_type"], row["lodgement_date"]) == (
        "0001",
        "removed",
        date(2025, 1, 3),
    )


def test_table_files_hold_one_gzip_ndjson_file_per_table_with_rows(tmp_path: Path) -> None:
    files = TableFiles(tmp_path)
    files.write("domestic_raw_json", certificate_batch(v1.certificates(DOMESTIC), [V1_ROW], AT))
    files.writers["empty_raw_json"] = files.writers["domestic_raw_json"].__class__(tmp_path)
    finished = files.close()
    assert list(finished) == ["domestic_raw_json"]
    with gzip.open(finished["domestic_raw_json"], "rt") as handle:
        line = json.loads(handle.read())
    assert line["payload"] == V1_ROW and line["extracted_at"] == AT.isoformat() and line["lmk_key"] == "k1"
    files.discard()
    assert not any(tmp_path.iterdir())


def test_every_raw_table_has_the_landing_shape_and_its_clustering() -> None:
    tables: dict[str, RawTable] = {t.name: t for t in (*v1.TABLES, *live.TABLES)}
    assert tables["domestic_raw_json"].clustering == ("lmk_key", "postcode", "uprn")
    assert tables["mhclg_domestic_raw_json"].clustering == ("certificate_number", "postcode", "uprn")
    assert tables["domestic_recommendations_raw_json"].clustering == ("lmk_key",)
    assert not tables["mhclg_codes_raw_json"].partitioned and tables["domestic_raw_json"].partitioned
    for table in tables.values():
        hints = table.dlt_columns()
        assert hints[table.key] == {"data_type": "text", "nullable": False}
        assert hints["payload"]["data_type"] == "json" and hints["extracted_at"]["data_type"] == "timestamp"
        if table.partitioned:
            assert hints["lodgement_date"]["data_type"] == "date"
    arrow = certificate_batch(v1.certificates(DOMESTIC), [V1_ROW], AT).to_arrow()
    assert [f.name for f in arrow.schema] == [c.name for c in tables["domestic_raw_json"].columns]
    assert arrow.schema.field("extracted_at").type == pa.timestamp("us", "UTC")
