"""Benchmark: `dbt build` over a million domestic certificates in DuckDB, then the daily run.

    python benchmarks/dbt_build.py [--rows 1000000] [--months 12]

Fills a fresh DuckDB file with `--rows` synthetic domestic certificates spread over `--months`
months (raw tables in the extractor's landing shape, realistic payloads from the v1 double),
times a full `dbt build` (every model, data test and unit test), then adds one more month as a
new load and times the next `dbt build`, which should read only that month.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.doubles.odc_v1 import Dataset  # noqa: E402

SCHEMA = "dame_epc"
RAW = """(lmk_key varchar not null, lodgement_date date, postcode varchar, uprn varchar,
          payload json, extracted_at timestamp with time zone, _dlt_load_id varchar not null)"""
INCREMENTAL = {f"model.dame_epc.{name}" for name in (
    "int_certificates__domestic_unioned", "int_recommendations__domestic_unioned",
    "enr_domestic_latest_by_uprn",
)}  # fmt: skip
TABLES = ("domestic_raw_json", "non_domestic_raw_json", "domestic_recommendations_raw_json",
          "non_domestic_recommendations_raw_json")  # fmt: skip


def templates(con: duckdb.DuckDBPyConnection, count: int = 2000) -> None:
    """`count` realistic certificates from the double, to be copied with new keys and dates."""
    data = Dataset(seed=5, start="2020-01", end="2020-01", rows_per_month={"domestic": count})
    rows = data.rows("domestic", "2020-01")
    con.execute("create or replace table main.template (n integer, payload varchar)")
    con.executemany(
        "insert into main.template values (?, ?)", [(i, orjson.dumps(r).decode()) for i, r in enumerate(rows)]
    )


def add_month(con: duckdb.DuckDBPyConnection, month_index: int, rows: int, load_id: str) -> None:
    """`rows` certificates lodged in month `month_index` (0 = 2015-01), loaded as `load_id`."""
    con.execute(
        f"""
        insert into {SCHEMA}.domestic_raw_json
        with numbered as (
            select
                i,
                make_date(2015 + {month_index} // 12, {month_index} % 12 + 1, 1 + (i % 28)::int) as lodged,
                lpad(((i * 7919 + {month_index}) % (?::bigint * 3 // 4) + 10000000)::varchar, 8, '0') as uprn,
                'bench-{month_index}-' || i as lmk_key
            from range(?) as t(i)
        )
        select
            numbered.lmk_key,
            numbered.lodged,
            template.payload->>'$.postcode',
            numbered.uprn,
            json_merge_patch(template.payload, json_object(
                'lmk-key', numbered.lmk_key, 'uprn', numbered.uprn,
                'lodgement-date', strftime(numbered.lodged, '%Y-%m-%d'),
                'lodgement-datetime', strftime(numbered.lodged, '%Y-%m-%d') || ' 10:00:00')),
            now(),
            '{load_id}'
        from numbered join main.template as template
            on template.n = numbered.i % (select count(*) from main.template)
        """,
        [rows * 12, rows],
    )


def dbt_build(env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds of `dbt build`, and the seconds its incremental models spent executing."""
    started = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).with_name("dbt")), "build", "--no-use-colors"],
                          cwd=ROOT, env=env, capture_output=True, text=True)  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stdout[-3000:])
    print("   ", done.stdout.strip().splitlines()[-1])
    results = json.loads((Path(env["DBT_TARGET_PATH"]) / "run_results.json").read_text())["results"]
    incremental = sum(r["execution_time"] for r in results if r["unique_id"] in INCREMENTAL)
    return seconds, incremental


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dbt-bench-"))
    try:
        db = work / "epc.duckdb"
        profiles = work / "profiles"
        profiles.mkdir()
        shutil.copy(ROOT / "profiles.example.yml", profiles / "profiles.yml")
        env = {**os.environ, "DUCKDB_PATH": str(db), "DBT_PROFILES_DIR": str(profiles),
               "DBT_TARGET_PATH": str(work / "target"), "DBT_LOG_PATH": str(work / "logs"),
               "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}  # fmt: skip
        per_month = args.rows // args.months
        started = time.perf_counter()
        with duckdb.connect(str(db)) as con:
            con.execute("set enable_progress_bar = false")
            con.execute(f"create schema {SCHEMA}")
            for table in TABLES:
                con.execute(f"create table {SCHEMA}.{table} {RAW}")
            templates(con)
            for month in range(args.months):
                add_month(con, month, per_month, f"1700000000.{month:04d}")
        total = per_month * args.months
        print(f"{total:,} domestic certificates in {args.months} months written in "
              f"{time.perf_counter() - started:.0f} s ({db.stat().st_size / 2**30:.1f} GiB)")  # fmt: skip
        first, first_models = dbt_build(env)
        print(
            f"first dbt build (everything):      {first:7.1f} s"
            f", of which incremental models {first_models:.1f} s"
        )
        with duckdb.connect(str(db)) as con:
            add_month(con, args.months, per_month, "1800000000.0000")
        second, second_models = dbt_build(env)
        print(
            f"next dbt build (one more month, {per_month:,} rows): {second:7.1f} s"
            f" = {second / first:.0%} of the first"
        )
        share = second_models / first_models
        print(f"  incremental models: {second_models:.1f} s = {share:.0%} of their first build;"
              " the rest is dbt's fixed cost (start-up, views, tests)")  # fmt: skip
    finally:
        if not os.environ.get("KEEP_BENCH"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept", work)


if __name__ == "__main__":
    main()
