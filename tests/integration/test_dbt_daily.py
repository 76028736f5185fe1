"""The daily dbt build: v1 history, then the live source landed day after day by the real
extractor (clock pinned) with its change feed removing certificates and moving them between
properties, each day followed by `dbt build` as the job runs it (data tests on the rows loaded
since the day's run started). The tables it maintains incrementally must equal a full refresh
of the same data, and its tests must read the new rows, and only them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from extract.dbt_steps import build_args
from tests.doubles import mhclg, odc_v1
from tests.integration.test_dbt_models import DBT, dbt
from tests.support import ROOT, dbt_env, differences_from_full_refresh, pinned_command, pinned_load_id

FIRST_DAY = date(2026, 1, 6)
DAYS = [FIRST_DAY + timedelta(days=n) for n in range(0, 9, 3)]  # a run every third day
TOKEN = "daily-dbt-token"


def daily_build(env: dict[str, str], since: str) -> subprocess.CompletedProcess:
    """`dbt build` as the daily job runs it (extract/dbt_steps.py): tests on the rows loaded since."""
    args, environment = build_args(since)
    return dbt(["build", *args], {**env, **environment})


def since(day: date) -> str:
    """The load id from which the build after `day`'s run tests: the run's start (09:00)."""
    return pinned_load_id(day)


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("dbt-daily")
    v1 = odc_v1.Dataset(seed=3, start="2025-11", end="2025-12", rows_per_month={"domestic": 30})
    # few properties (half as many as certificates) and a busy change feed: removals and moves
    # hit certificates that are not their property's latest
    live = mhclg.Dataset(
        seed=21,
        start=FIRST_DAY - timedelta(5),
        end=DAYS[-1] + timedelta(3),
        per_day={"domestic": 6, "non-domestic": 2, "display": 1},
        delta_rate=0.3,
    )
    env = dbt_env(work)
    builds = []
    with odc_v1.OdcV1Double(v1) as old, mhclg.MhclgDouble(live, token=TOKEN, today=DAYS[0]) as new:
        history = {"EPC_EMAIL": old.email, "EPC_API_KEY": old.api_key, "EPC_API_BASE_URL": old.base_url}
        backfill = [
            "--source",
            "odc",
            "--kinds",
            "domestic",
            "--with-recs",
            "--start",
            "2025-11",
            "--end",
            "2025-12",
        ]
        done = subprocess.run(
            pinned_command(DAYS[0] - timedelta(1), "extract", backfill),
            cwd=ROOT,
            env={**env, **history},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        live_env = {**env, "EPC_API_TOKEN": TOKEN, "EPC_API_BASE_URL": new.base_url, "START_YEAR": "2026"}
        for n, day in enumerate(DAYS):
            new.today = day
            command = pinned_command(
                day, "extract", ["--kinds", "domestic,non-domestic,display", "--start", "2026-01"]
            )
            done = subprocess.run(command, cwd=ROOT, env=live_env, capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
            builds.append(daily_build(env, since(day)) if n else dbt(["build"], env))
    yield work, env, builds


def database(work: Path) -> Path:
    return work / "data" / "epc.duckdb"


def test_daily_builds_equal_a_full_refresh_with_removals_and_moves_of_older_certificates(daily):
    work, env, builds = daily
    assert all("ERROR=0" in b.stdout.splitlines()[-1] for b in builds)
    with duckdb.connect(str(database(work)), read_only=True) as con:
        events = dict(
            con.execute(
                "select event_type, count(*) from dame_epc.mhclg_deltas_raw_json group by 1"
            ).fetchall()
        )
        # the case a latest-only recount misses: a removed or moved certificate that was not its
        # property's latest (a later certificate of the same property was already landed)
        older_removed = con.execute(
            """select count(*) from dame_epc.int_certificates__removed as removed
               join dame_epc.int_certificates__domestic_unioned as gone using (certificate_id)
               join dame_epc.int_certificates__domestic_unioned as other
                 on other.property_key = gone.property_key and other.lodgement_date > gone.lodgement_date"""
        ).fetchone()[0]
        moved = con.execute(
            "select count(*) from dame_epc.int_certificates__domestic_unioned "
            "where previous_property_key is not null"
        ).fetchone()[0]
    assert events.get("removed", 0) > 0 and events.get("uprn_updated", 0) > 0
    assert older_removed > 0 and moved > 0
    fresh = work / "fresh.duckdb"
    shutil.copy(database(work), fresh)
    dbt(["build", "--full-refresh", "--exclude", "resource_type:test"], {**env, "DUCKDB_PATH": str(fresh)})
    differences = differences_from_full_refresh(database(work), fresh)
    assert len(differences) >= 9  # six intermediate tables and three latest-by-UPRN marts
    assert differences == dict.fromkeys(differences, 0)


def compiled_tests(work: Path) -> list[str]:
    return [p.read_text() for p in (work / "target" / "compiled").rglob("*.yml/*.sql")]


def test_the_daily_build_tests_only_the_rows_loaded_since_its_run_began(daily):
    work, env, _ = daily
    # the last build ran with the var: every test of a model with load_id reads the new rows only
    tests = compiled_tests(work)
    narrowed = [t for t in tests if f"load_id >= '{since(DAYS[-1])}'" in t]
    assert len(narrowed) > 100
    copy = work / "bad" / "epc.duckdb"  # the same file name: DuckDB views name their file's catalog
    copy.parent.mkdir()
    shutil.copy(database(work), copy)
    copy_env = {**env, "DUCKDB_PATH": str(copy)}
    load_id = f"{datetime.now(UTC).timestamp():.6f}"
    with duckdb.connect(str(copy)) as con:  # a new v1 certificate with an impossible band
        con.execute(
            "insert into dame_epc.domestic_raw_json by name select * replace ('bad-1' as lmk_key, "
            'json_merge_patch(payload, \'{"lmk-key": "bad-1", "current-energy-rating": "Z"}\') as payload, '
            "? as _dlt_load_id) from dame_epc.domestic_raw_json limit 1",
            [load_id],
        )
    args, environment = build_args(load_id)
    failed = subprocess.run(
        [DBT, "build", *args, "--no-use-colors"],
        cwd=ROOT,
        env={**copy_env, **environment},
        capture_output=True,
        text=True,
    )
    # the daily build tests tables, not views: the bad band fails on the certificates' table
    assert (
        failed.returncode == 1
        and "accepted_values_int_certificates__domestic_unioned_current_energy_rating" in failed.stdout
        and "enr_domestic_certificates_v" not in failed.stdout
    )
    # a day later the bad row is history: the daily tests no longer read it, the full suite does
    later = f"{float(load_id) + 86400:.6f}"
    daily_build(copy_env, later)
    _, environment = build_args(later)
    weekly = subprocess.run(  # the weekly switch over the daily one: every row again
        [DBT, "test", "--select", "enr_domestic_certificates_v", "--vars", "{epc_tests: all}"],
        cwd=ROOT,
        env={**copy_env, **environment},
        capture_output=True,
        text=True,
    )
    assert weekly.returncode == 1
    assert "accepted_values_enr_domestic_certificates_v_current_energy_rating" in weekly.stdout


def test_no_view_over_raw_json_is_tested(daily):
    work, *_ = daily
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"]
    tested = {
        node["attached_node"]
        for node in nodes.values()
        if node["resource_type"] == "test" and node.get("attached_node")
    }
    views_over_raw = {
        uid
        for uid, node in nodes.items()
        if node["resource_type"] == "model"
        and node["config"]["materialized"] == "view"
        and any(dep.startswith("source.") for dep in node["depends_on"]["nodes"])
    }
    staging_views = {
        uid
        for uid, node in nodes.items()
        if node["resource_type"] == "model"
        and node["config"]["materialized"] == "view"
        and "/staging/" in node["original_file_path"]
    }
    assert views_over_raw and staging_views
    assert tested & (views_over_raw | staging_views) == set()


def test_a_certificate_lodged_in_the_future_is_held_back_from_latest_by_uprn(daily):
    """A new certificate dated 2999-12-31 of a property, and the latest certificate of another
    property loaded again with that date: neither becomes (or stays) its property's latest, both
    are listed in dq_certificates_held_back, the build passes with warnings, and the daily build
    equals a full refresh."""
    work, env, _ = daily
    copy = work / "future" / "epc.duckdb"
    copy.parent.mkdir()
    shutil.copy(database(work), copy)
    copy_env = {**env, "DUCKDB_PATH": str(copy)}
    latest = "dame_epc.enr_domestic_latest_by_uprn"
    with duckdb.connect(str(copy)) as con:
        (new_of, before), (redated, other_property) = con.execute(
            f"""(select certificate_id, property_key from {latest} where source_system = 'odc'
                 order by certificate_id limit 1)
                union all
                (select certificate_id, property_key from {latest} where source_system = 'odc'
                 and certificates_for_property >= 2 order by certificate_id desc limit 1)"""
        ).fetchall()
        load_id = f"{datetime.now(UTC).timestamp():.6f}"
        future = '{"lodgement-date": "2999-12-31", "lodgement-datetime": "2999-12-31 10:00:00"'
        for source, key in ((new_of, "future-1"), (redated, redated)):
            con.execute(
                "insert into dame_epc.domestic_raw_json by name select * replace (? as lmk_key, "
                "date '2999-12-31' as lodgement_date, ? as _dlt_load_id, "
                f"json_merge_patch(payload, '{future}, \"lmk-key\": \"' || ? || '\"}}') as payload) "
                "from dame_epc.domestic_raw_json where lmk_key = ?",
                [key, load_id, key, source],
            )
    build = daily_build(copy_env, load_id)
    assert build.returncode == 0, build.stdout[-3000:]
    assert "Warning in test not_after_int_certificates__domestic_unioned_lodgement_date" in build.stdout
    with duckdb.connect(str(copy), read_only=True) as con:
        held = con.execute(
            "select certificate_id, reason from dame_epc.dq_certificates_held_back order by 1"
        ).fetchall()
        winners = dict(con.execute(f"select property_key, certificate_id from {latest}").fetchall())
    assert held == sorted([("future-1", "lodgement date after the run date"),
                           (redated, "lodgement date after the run date")])  # fmt: skip
    assert winners[before] == new_of, "a certificate of 2999 became its property's latest"
    assert winners.get(other_property) not in (None, redated), "the re-dated certificate stayed latest"
    fresh = work / "future" / "fresh.duckdb"
    shutil.copy(copy, fresh)
    dbt(["build", "--full-refresh", "--exclude", "resource_type:test"], {**env, "DUCKDB_PATH": str(fresh)})
    differences = differences_from_full_refresh(copy, fresh)
    assert differences == dict.fromkeys(differences, 0)


def test_the_summary_lists_every_curated_model_of_the_manifest_with_its_rows(daily):
    work, env, _ = daily
    done = subprocess.run(
        [sys.executable, "scripts/summary.py"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    curated = [n["name"] for n in manifest["nodes"].values()
               if n["resource_type"] == "model" and n["fqn"][1] in ("marts", "quality")]  # fmt: skip
    assert {"enr_display_latest_by_uprn", "dq_certificates_held_back"} <= set(curated)
    with duckdb.connect(str(database(work)), read_only=True) as con:
        for name in curated:
            rows = con.execute(f"select count(*) from dame_epc.{name}").fetchone()[0]
            assert f"  {name}: {rows} rows" in done.stdout, name
