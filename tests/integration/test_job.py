"""`python -m extract.job` as its own process with the clock pinned: the extractor, dbt build and
dbt source freshness in one command, one audit record per run in `pipeline_runs` and in the
bucket, and the exit code of the first step that failed."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path

import pytest

from extract.dbt_steps import project_fingerprint
from tests.doubles.mhclg import Dataset, MhclgDouble
from tests.support import LOOPBACK_ENV, ROOT, Warehouse, double_env, pinned_command

TOKEN = "job-test-token-7d41c2"
DAY = date(2026, 3, 10)
ARGS = ["--kinds", "domestic,display", "--start", "2026-02", "--end", "2026-03"]
TABLES = ("mhclg_domestic_raw_json", "mhclg_display_raw_json")


def job(env: dict[str, str], today: date, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        pinned_command(today, "extract.job", list(args or ARGS)),
        cwd=ROOT, env={**os.environ, **LOOPBACK_ENV, **env}, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def records(data_dir: Path) -> dict[str, dict]:
    """The run records in the bucket, by run id."""
    return {p.stem: json.loads(p.read_text()) for p in sorted((data_dir / "bucket/runs").rglob("*.json"))}


def audit_rows(data_dir: Path) -> dict[str, dict]:
    warehouse = Warehouse(data_dir)
    columns = [c for c, *_ in warehouse.columns("pipeline_runs") if not c.startswith("_dlt")]
    rows = warehouse.query(f"select {', '.join(columns)} from {{ds}}.pipeline_runs")
    return {row[0]: dict(zip(columns, row, strict=True)) for row in rows}


@pytest.fixture(scope="module")
def live() -> MhclgDouble:
    """February and March 2026 up to the 9th; the double's today is the pinned day."""
    data = Dataset(seed=17, start="2026-02-01", end="2026-03-09", per_day={"domestic": 3, "display": 1})
    with MhclgDouble(data, token=TOKEN, today=DAY, rate_limit=(1_000_000, 300)) as api:
        yield api


@pytest.fixture(scope="module")
def daily(live: MhclgDouble, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """A successful run on the pinned day, then one nine days later: nothing new, the data stale."""
    data_dir = tmp_path_factory.mktemp("job")
    env = double_env(live, data_dir, TOKEN)
    live.clear()
    first = job(env, DAY)
    sent = len(live.log)
    live.today = date(2026, 3, 19)
    second = job(env, date(2026, 3, 19))
    live.today = DAY
    return data_dir, [(first, sent), (second, None)]


def test_a_run_extracts_builds_checks_freshness_and_records_itself(daily) -> None:
    data_dir, [(first, sent), _] = daily
    assert first.returncode == 0, first.stderr[-2000:]
    rows, files = audit_rows(data_dir), records(data_dir)
    assert len(rows) == len(files) == 2
    run_id = min(rows)
    row, record = rows[run_id], files[run_id]
    assert (data_dir / f"bucket/runs/2026/03/10/{run_id}.json").exists()
    assert row["status"] == record["status"] == "success" and row["error"] is None
    assert row["run_date"] == DAY and record["run_date"] == "2026-03-10"
    assert row["source"] == "mhclg" and json.loads(row["kinds"]) == ["domestic", "display"]
    assert row["run_window"] == "2026-02..2026-03"
    assert row["requests_sent"] == record["requests_sent"] == sent  # what the double answered
    fetched = json.loads(row["requests_by_path"])["/api/certificate"]
    assert fetched >= row["certificates_new"] > 0
    # rows dlt loaded: each document fetched is one (a document fetched again merges into its row)
    landed = json.loads(row["rows_landed"])
    assert sum(n for table, n in landed.items() if table.endswith("raw_json") and "deltas" not in table
               and "codes" not in table) == fetched  # fmt: skip
    warehouse = Warehouse(data_dir)
    for table in TABLES:
        assert 0 < warehouse.count(table) <= landed[table]
    assert row["dbt_status"] == "success" and json.loads(row["dbt_failures"]) == []
    assert row["freshness_status"] == "pass"
    assert set(json.loads(row["freshness"])) == set(TABLES)
    assert row["version"] == record["version"] != "unknown"
    assert row["started_at"] < row["finished_at"]
    assert warehouse.query("select count(*) from {ds}.enr_domestic_certificates_v")[0][0] > 0


def test_stale_data_fails_the_run_with_exit_8_and_is_recorded(daily) -> None:
    data_dir, [_, (second, _)] = daily
    assert second.returncode == 8, second.stderr[-2000:]
    assert second.stderr.strip().splitlines()[-1].startswith("error: stale or unreadable raw tables")
    row = audit_rows(data_dir)[max(audit_rows(data_dir))]
    assert row["status"] == "failed" and row["freshness_status"] == "error"
    assert row["certificates_new"] == 0 and row["dbt_status"] == "success"
    ages = {t: d["age_hours"] for t, d in json.loads(row["freshness"]).items()}
    assert all(age > 7 * 24 for age in ages.values())
    assert records(data_dir)[row["run_id"]]["status"] == "failed"
    # the first run's build was the first to succeed: it tested every row; this one tested only
    # the rows loaded since the first run began
    first = audit_rows(data_dir)[min(audit_rows(data_dir))]
    assert first["tests_since"] is None
    assert row["tests_since"] == f"{first['started_at'].timestamp():.6f}"
    assert row["dbt_project_hash"] == first["dbt_project_hash"]
    warehouse = str(data_dir.resolve() / "epc.duckdb")
    assert first["dbt_project_hash"] == project_fingerprint(ROOT, "duckdb", warehouse)


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ({"EPC_API_TOKEN": "wrong-token-3c9e"}, 3, "EPC_API_TOKEN"),
        ({"DBT_TARGET": "no_such_target"}, 7, "dbt build"),
        ({"DBT_PROFILES_DIR": "/nonexistent/profiles"}, 2, "DBT_PROFILES_DIR"),
    ],
    ids=["refused-token", "dbt-fails", "no-profile"],
)
def test_a_failed_step_exits_non_zero_and_still_writes_its_record(
    live: MhclgDouble, tmp_path: Path, change: dict[str, str], code: int, message: str
) -> None:
    env = {**double_env(live, tmp_path / "data", TOKEN), **change}
    live.clear()
    done = job(env, DAY)
    assert done.returncode == code, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last
    (row,) = audit_rows(tmp_path / "data").values()
    (record,) = records(tmp_path / "data").values()
    assert row["status"] == record["status"] == "failed" and message in row["error"]
    everything = done.stdout + done.stderr + json.dumps(record) + json.dumps(row, default=str)
    assert TOKEN not in everything and "wrong-token-3c9e" not in everything
    if code == 2:  # the profile is checked before any request
        assert live.log == []
    if code != 7:
        assert row["dbt_status"] == "skipped"


def test_without_a_usable_audit_table_the_job_asks_for_the_full_build(tmp_path: Path) -> None:
    """No pipeline_runs yet, or one written before the build kept its project hash: no daily
    build can be trusted, so the look-up says none (the job then builds and tests everything)."""
    import duckdb

    from extract.audit import last_successful_build
    from extract.settings import load_settings
    from extract.sources.registry import SOURCES

    settings = load_settings(environ={"DATA_DIR": str(tmp_path)}, sources=SOURCES)
    assert last_successful_build(settings) is None
    with duckdb.connect(str(settings.duckdb_path)) as con:
        con.execute(
            "create schema dame_epc; create table dame_epc.pipeline_runs "
            "(run_id varchar, started_at timestamptz, dbt_status varchar); "
            "insert into dame_epc.pipeline_runs values ('older', now(), 'success')"
        )
    assert last_successful_build(settings) is None
