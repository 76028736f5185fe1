"""The dbt models over both sources at once: the v1 double and the live-service double extracted
into one DuckDB file, `dbt build` for real, values checked against the doubles' own data."""

from __future__ import annotations

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
from tests.support import LOOPBACK_ENV, ROOT, Warehouse

FIRST, LAST = date(2025, 1, 1), date(2025, 2, 28)
BANDS = ("A", "B", "C", "D", "E", "F", "G")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    """Two months of both kinds from each source into one warehouse, then `dbt build` once."""
    work = tmp_path_factory.mktemp("dbt-mhclg")
    profiles = work / "profiles"
    profiles.mkdir()
    shutil.copy(ROOT / "profiles.example.yml", profiles / "profiles.yml")
    v1 = odc_v1.Dataset(
        seed=5, start="2025-01", end="2025-02", rows_per_month={"domestic": 20, "non-domestic": 6}
    )
    live = mhclg.Dataset(
        seed=9, start=FIRST, end=LAST, per_day={"domestic": 2, "non-domestic": 1, "display": 0}
    )
    with odc_v1.OdcV1Double(v1) as old, mhclg.MhclgDouble(live, token="dbt-token") as new:
        env = {
            **os.environ,
            **LOOPBACK_ENV,
            "DATA_DIR": str(work / "data"),
            "DBT_PROFILES_DIR": str(profiles),
            "DBT_TARGET_PATH": str(work / "target"),
            "DBT_LOG_PATH": str(work / "logs"),
            "RETRY_BACKOFF": "0.01",
        }
        sources = {
            "odc": {"EPC_EMAIL": old.email, "EPC_API_KEY": old.api_key, "EPC_API_BASE_URL": old.base_url},
            "mhclg": {"EPC_API_TOKEN": "dbt-token", "EPC_API_BASE_URL": new.base_url},
        }
        for source, credentials in sources.items():
            done = subprocess.run(
                [sys.executable, "-m", "extract", "--source", source, "--start", "2025-01",
                 "--end", "2025-02",
                 "--kinds", "domestic,non-domestic", "--with-recs"],
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
    assert "ERROR=0" in summary and "WARN=0" in summary and "SKIP=0" in summary
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
