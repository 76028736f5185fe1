"""The dbt models over both sources at once: the v1 double and the live-service double extracted
into one DuckDB file, `dbt build` for real, values checked against the doubles' own data."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.doubles import mhclg, odc_v1
from tests.integration.test_dbt_models import dbt
from tests.support import LOOPBACK_ENV, ROOT, Warehouse, dbt_env, implausible_only

FIRST, LAST = date(2025, 1, 1), date(2025, 2, 28)
BANDS = ("A", "B", "C", "D", "E", "F", "G")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    """Two months of both kinds from each source into one warehouse, then `dbt build` once."""
    work = tmp_path_factory.mktemp("dbt-mhclg")
    v1 = odc_v1.Dataset(
        seed=5, start="2025-01", end="2025-02", rows_per_month={"domestic": 20, "non-domestic": 6}
    )
    live = mhclg.Dataset(
        seed=9, start=FIRST, end=LAST, per_day={"domestic": 2, "non-domestic": 1, "display": 1}
    )
    with odc_v1.OdcV1Double(v1) as old, mhclg.MhclgDouble(live, token="dbt-token") as new:
        env = dbt_env(work)
        sources = {
            "odc": ({"EPC_EMAIL": old.email, "EPC_API_KEY": old.api_key, "EPC_API_BASE_URL": old.base_url},
                    ["--kinds", "domestic,non-domestic", "--with-recs"]),
            "mhclg": ({"EPC_API_TOKEN": "dbt-token", "EPC_API_BASE_URL": new.base_url},
                      ["--kinds", "domestic,non-domestic,display"]),
        }  # fmt: skip
        for source, (credentials, kinds) in sources.items():
            done = subprocess.run(
                [sys.executable, "-m", "extract", "--source", source, "--start", "2025-01",
                 "--end", "2025-02", *kinds],
                cwd=ROOT, env={**env, **credentials}, capture_output=True, text=True,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
        first = dbt(["build"], env)
        yield v1, live, env, Warehouse(work / "data"), first


def documents(live: mhclg.Dataset, kind: str) -> dict[str, dict]:
    return {c.certificate_number: c.document for c in live.certificates(kind, FIRST, LAST)}


def test_build_passes_with_both_sources(built):
    *_, first = built
    summary = first.stdout.strip().splitlines()[-1]
    assert "ERROR=0" in summary and "SKIP=0" in summary and implausible_only(first.stdout), first.stdout
    assert int(summary.split("PASS=")[1].split()[0]) > 150


@pytest.mark.parametrize("kind", ["domestic", "non_domestic"])
def test_certificates_of_both_sources_meet_in_the_marts(built, kind):
    v1, live, _, warehouse, _ = built
    counts = dict(
        warehouse.query(f"select source_system, count(*) from {{ds}}.enr_{kind}_certificates_v group by 1")
    )
    months = ["2025-01", "2025-02"]
    assert counts["odc"] == sum(v1.count(kind.replace("_", "-"), m) for m in months)
    assert counts["mhclg"] == live.count(kind.replace("_", "-"), FIRST, LAST) > 0
    keys = warehouse.query(
        f"select count(*), count(distinct certificate_id), count(lmk_key), count(certificate_number) "
        f"from {{ds}}.enr_{kind}_latest_by_lmk"
    )[0]
    assert keys == (sum(counts.values()), sum(counts.values()), counts["odc"], counts["mhclg"])


def test_live_documents_are_typed_like_v1_rows(built):
    _, live, _, warehouse, _ = built
    docs = documents(live, "domestic")
    rows = warehouse.query(
        "select certificate_id, schema_type, current_energy_rating, current_energy_efficiency, "
        "potential_energy_efficiency, total_floor_area, uprn, postcode, lodgement_date, "
        "co2_emissions_current "
        "from {ds}.enr_domestic_certificates_v where source_system = 'mhclg'"
    )
    assert {r[0] for r in rows} == set(docs)
    for number, schema, band, rating, potential, area, uprn, postcode, lodged, co2 in rows:
        doc = docs[number]
        assert schema == live.certificate(number).schema_type
        assert band == doc["current_energy_efficiency_band"] and band in BANDS
        assert (rating, potential) == (doc["energy_rating_current"], doc["energy_rating_potential"])
        if isinstance(doc.get("total_floor_area"), int | float):
            assert area == pytest.approx(doc["total_floor_area"])
        assert uprn == (str(doc["uprn"]) if doc.get("uprn") is not None else None)
        assert postcode == doc["postcode"] and lodged.isoformat() == doc["registration_date"]
        assert co2 == pytest.approx(doc["co2_emissions_current"])


def test_domestic_recommendations_come_out_of_the_documents(built):
    _, live, _, warehouse, _ = built
    expected = sum(
        len(doc.get("suggested_improvements") or []) for doc in documents(live, "domestic").values()
    )
    assert expected > 0
    landed = warehouse.query(
        "select count(*), count(distinct certificate_id) from {ds}.enr_domestic_recommendations_v "
        "where source_system = 'mhclg'"
    )[0]
    assert landed[0] == expected
    combined = warehouse.query(
        "select sum(recommendation_count) from {ds}.enr_combined_certs_with_recs_v "
        "where certificate_kind = 'domestic' and source_system = 'mhclg'"
    )[0][0]
    assert combined == expected


def latest_by_uprn(warehouse: Warehouse) -> set[tuple]:
    return set(
        warehouse.query(
            "select property_key, certificate_id, certificates_for_property "
            "from {ds}.enr_domestic_latest_by_uprn"
        )
    )


def test_deltas_remove_certificates_and_move_them_between_properties(built):
    """A later change feed, landed as the extractor lands it: one certificate removed, another
    re-loaded under a new UPRN. The incremental build must equal a full rebuild, and both must
    show the removal and the move."""
    _, _, env, warehouse, _ = built
    before = {r[1]: r[0] for r in latest_by_uprn(warehouse)}
    live_latest = [c for c, p in before.items() if "-" in c and p.startswith("uprn:")]
    removed, moved = live_latest[0], live_latest[1]
    load_id = f"{time.time():.6f}"
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute(
            "insert into dame_epc.mhclg_deltas_raw_json by name select ? as certificate_number, "
            "date '2025-03-02' as lodgement_date, ?::json as payload, now() as extracted_at, "
            "'removed' as event_type, "
            "'2025-03-02T10:00:00.000Z' as event_timestamp, ? as _dlt_load_id",
            [removed, json.dumps({"certificateNumber": removed, "eventType": "removed"}), load_id],
        )
        con.execute(
            "insert into dame_epc.mhclg_domestic_raw_json by name select * replace ("
            "'999000111' as uprn, json_merge_patch(payload, '{\"uprn\": 999000111}') as payload, "
            "? as _dlt_load_id) from dame_epc.mhclg_domestic_raw_json where certificate_number = ?",
            [load_id, moved],
        )
    dbt(["run", "--select", "tag:domestic"], env)  # the daily run: incremental models read the new loads
    incremental = latest_by_uprn(warehouse)
    ids = {r[1]: r[0] for r in incremental}
    assert removed not in ids
    assert ids[moved] == "uprn:999000111"
    assert before[moved] not in {p for c, p in ids.items() if c == moved}
    for mart in (
        "enr_domestic_certificates_v",
        "enr_domestic_latest_by_lmk",
        "enr_domestic_recommendations_v",
    ):
        assert warehouse.query(f"select count(*) from {{ds}}.{mart} where certificate_id = '{removed}'") == [
            (0,)
        ]
    assert len(ids) == len(incremental)  # every certificate at most once
    dbt(["build", "--full-refresh", "--select", "enr_domestic_latest_by_uprn"], env)
    assert latest_by_uprn(warehouse) == incremental


def test_a_warehouse_with_one_source_only_still_builds(tmp_path: Path):
    """Only the live service's tables exist (the default source): every model builds and tests."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    shutil.copy(ROOT / "profiles.example.yml", profiles / "profiles.yml")
    live = mhclg.Dataset(
        seed=3, start=FIRST, end=date(2025, 1, 10), per_day={"domestic": 2, "non-domestic": 1}
    )
    with mhclg.MhclgDouble(live, token="t") as new:
        env = {
            **os.environ, **LOOPBACK_ENV, "DATA_DIR": str(tmp_path / "data"),
            "DBT_PROFILES_DIR": str(profiles),
            "DBT_TARGET_PATH": str(tmp_path / "target"), "DBT_LOG_PATH": str(tmp_path / "logs"),
            "EPC_API_TOKEN": "t", "EPC_API_BASE_URL": new.base_url,
        }  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "extract", "--start", "2025-01", "--end", "2025-01",
             "--kinds", "domestic"],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    dbt(["build"], env)
    warehouse = Warehouse(tmp_path / "data")
    assert warehouse.query("select count(*) from {ds}.enr_domestic_latest_by_lmk") == [
        (live.count("domestic", FIRST, date(2025, 1, 31)),)
    ]
    # the change feed's UPRN updates bring the current documents of other kinds along
    moved = {
        e["certificateNumber"]
        for e in live.deltas(FIRST, date(2025, 1, 31))
        if e["eventType"] == "uprn_updated"
    }
    expected = {
        n for n in moved if live.certificate(n).kind == "non-domestic" and not live.certificate(n).removed
    }
    assert warehouse.query("select count(*) from {ds}.enr_non_domestic_latest_by_lmk") == [(len(expected),)]


# --- issue 12: the live rows as complete as the v1 rows ----------------------------------------
CODED = {  # base column → the code table that decodes it, as macros/mhclg.sql maps them
    "domestic": {
        "property_type": "property_type",
        "built_form": "built_form",
        "tenure": "tenure",
        "transaction_type": "transaction_type",
        "energy_tariff": "energy_tariff",
        "glazed_type": "glazed_type",
        "glazed_area": "glazed_area",
        "main_fuel": "main_fuel",
        "heat_loss_corridor": "heat_loss_corridor",
        "mechanical_ventilation": "mechanical_ventilation",
        "walls_energy_eff": "energy_efficiency_rating",
        "windows_env_eff": "energy_efficiency_rating",
        "mainheat_energy_eff": "energy_efficiency_rating",
    },
    "non_domestic": {"transaction_type": "transaction_type"},
}
STAGED = {"mainheat_energy_eff": "main_heating_energy_eff"}  # where staging renames the column
SENTINELS = {"", "N/A", "UNKNOWN", "NOT DEFINED", "NOT RECORDED", "NOT APPLICABLE", "NO DATA!", "INVALID!"}


def expected_labels() -> dict[tuple[str, str, str, str], str]:
    """(code, key, schema version, assessment type) → the label decoding must give: the v1 wording
    where the seed has one, else the first of the fixture code tables' labels."""
    labels: dict[tuple[str, str, str, str], str] = {}
    for row in sorted(mhclg.codes.rows(), key=lambda r: r["value"]):
        labels.setdefault(
            (row["code"], row["key"], row["schema_version"], row["assessment_type"]), row["value"]
        )
    with (ROOT / "dbt_project" / "seeds" / "mhclg_v1_wording.csv").open() as handle:
        wording = {(r["code"], r["assessment_type"], r["key"]): r["value"] for r in csv.DictReader(handle)}
    return {k: wording.get((k[0], k[3], k[1]), v) for k, v in labels.items()}


def cleaned(label: str | None) -> str | None:
    """What clean_text leaves of a label: sentinels (N/A, unknown, Not defined - …) are NULL."""
    if label is None or label.strip().upper() in SENTINELS or label.strip().upper().startswith("NOT DEFINED"):
        return None
    return label.strip()


@pytest.mark.parametrize("kind", ["domestic", "non_domestic"])
def test_coded_fields_are_decoded_by_the_code_tables_in_every_schema_family(built, kind):
    """Each coded field of each live certificate carries the label the fixture code tables give
    its code for the document's schema version and assessment type (in the v1 wording where the
    register worded it differently), and the data covers every schema family."""
    *_, warehouse, _ = built
    labels = expected_labels()
    fields = CODED[kind]
    rows = warehouse.query(
        "select base.schema_type, base.assessment_type, "
        + ", ".join(f"base.{c}, stg.{STAGED.get(c, c)}" for c in fields)
        + f" from {{ds}}.base_mhclg__{kind}_certificates as base "
        f"join {{ds}}.stg_mhclg__{kind}_certificates as stg using (certificate_id)"
    )
    checked = 0
    for schema, assessment, *pairs in rows:
        for (column, code), code_key, label in zip(fields.items(), pairs[0::2], pairs[1::2], strict=True):
            expected = None if code_key is None else cleaned(labels.get((code, code_key, schema, assessment)))
            assert label == expected, (schema, assessment, column, code_key)
            checked += code_key is not None
    assert checked > len(rows) * len(fields) / 2  # most fields hold codes
    if kind == "domestic":
        schemas = {r[0] for r in rows}
        assert {f"RdSAP-Schema-{v}" for v in ("17.0", "18.0", "19.0", "20.0.0", "21.0.0")} <= schemas
        assert {f"SAP-Schema-{v}" for v in ("16.0", "17.0", "18.0.0", "19.0.0")} <= schemas
    else:
        assert {"CEPC-7.0", "CEPC-7.1", "CEPC-8.0.0"} <= {r[0] for r in rows}


def test_council_and_constituency_come_from_the_search_rows(built):
    _, live, _, warehouse, _ = built
    for kind in ("domestic", "non_domestic", "display"):
        rows = warehouse.query(
            f"select certificate_id, local_authority_label, constituency_label "
            f"from {{ds}}.enr_{kind}_certificates_v where source_system = 'mhclg'"
        )
        assert rows, kind
        for number, council, constituency in rows:
            cert = live.certificate(number)
            assert (council, constituency) == (cert.council, cert.constituency), number


@pytest.mark.parametrize("kind", ["non_domestic", "display"])
def test_building_recommendations_come_from_the_certificates_reports(built, kind):
    """The v1 shape: one row per recommendation of the report's short, medium, long and other
    lists, numbered 1..n in that order, under the certificate the report belongs to."""
    _, live, _, warehouse, _ = built
    expected = {}
    for cert in live.certificates(kind.replace("_", "-"), FIRST, LAST):
        report = live.document(cert.related_rrn) if cert.related_rrn else None
        if report:
            items = [
                (p, r) for p in ("short", "medium", "long", "other") for r in report.get(f"{p}_payback") or []
            ]
            expected[cert.certificate_number] = [
                (n, p, r["recommendation_code"], r["recommendation"], r["co2_impact"])
                for n, (p, r) in enumerate(items, start=1)
            ]
    assert expected and any(expected.values()), kind
    rows = warehouse.query(
        "select certificate_id, recommendation_item, payback_type, recommendation_code, recommendation, "
        f"co2_impact from {{ds}}.enr_{kind}_recommendations_v where source_system = 'mhclg' order by 1, 2"
    )
    landed: dict[str, list] = {}
    for number, *rest in rows:
        landed.setdefault(number, []).append(tuple(rest))
    assert landed == {n: items for n, items in expected.items() if items}
    combined = warehouse.query(
        "select sum(recommendation_count) from {ds}.enr_combined_certs_with_recs_v "
        f"where certificate_kind = '{kind.replace('_', '-')}' and source_system = 'mhclg'"
    )[0][0]
    assert combined == len(rows)


def test_live_domestic_recommendations_carry_their_text(built):
    """The text the document writes, else the label of its improvement number: a recommendation
    lacks a text only where its document gives neither (as some official samples do)."""
    _, live, _, warehouse, _ = built
    labels = expected_labels()
    # a certificate an earlier test of the module removed through the change feed has no marts rows
    current = {r[0] for r in warehouse.query("select certificate_id from {ds}.enr_domestic_certificates_v")}
    expected = {}
    for number, doc in documents(live, "domestic").items():
        if number not in current:
            continue
        for element in doc.get("suggested_improvements") or []:
            texts = element.get("improvement_details", {}).get("improvement_texts", {})
            code = element.get("improvement_details", {}).get("improvement_number")
            key = ("improvement_summary", str(code), doc["schema_type"], doc["assessment_type"])
            summary = (
                element.get("improvement_summary") or texts.get("improvement_summary") or labels.get(key)
            )
            expected[(number, element["sequence"])] = summary is not None
    rows = warehouse.query(
        "select certificate_id, improvement_item, improvement_summary_text is not null "
        "from {ds}.enr_domestic_recommendations_v where source_system = 'mhclg'"
    )
    assert {(n, i): has for n, i, has in rows} == expected
    assert sum(expected.values()) > len(expected) / 2
    placeholders = warehouse.query(
        "select count(*) from {ds}.enr_combined_certs_with_recs_v "
        "where source_system = 'mhclg' and recommendations like '%. improvement%'"
    )[0][0]
    assert placeholders < len({n for n, _ in expected})


def test_display_certificates_reach_their_marts(built):
    _, live, _, warehouse, _ = built
    expected = {c.certificate_number for c in live.certificates("display", FIRST, LAST)}
    rows = warehouse.query(
        "select certificate_id, current_operational_rating, operational_rating_band "
        "from {ds}.enr_display_certificates_v"
    )
    assert {r[0] for r in rows} == expected and expected
    for number, rating, band in rows:
        document = live.document(number)
        assert rating == document["this_assessment"]["energy_rating"]
        assert band == document["current_energy_efficiency_band"]
    latest = warehouse.query(
        "select count(*), count(distinct property_key) from {ds}.enr_display_latest_by_uprn"
    )
    assert latest[0][0] == latest[0][1] > 0
    combined = warehouse.query(
        "select count(*) from {ds}.enr_combined_certs_with_recs_v where certificate_kind = 'display'"
    )
    assert combined == [(len(expected),)]
