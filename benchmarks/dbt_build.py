"""Benchmark: the dbt build at the register's size, first build and the daily builds after it.

    python benchmarks/dbt_build.py [--rows 1000000,10000000] [--months 12] [--days 2 | --daily]
                                   [--profile] [--verify]

For each size in `--rows`: a fresh DuckDB file gets that many v1 domestic certificates spread
over `--months` months (raw tables in the extractor's landing shape, realistic payloads from the
v1 double; the history a bulk backfill leaves). The live service's double then serves one day
of the register's volume a day (4,000 domestic certificates with their recommendations, 600
non-domestic and 300 display certificates with their recommendation reports, one in
twenty-five changed or removed by the change feed later), and the real extractor lands each day
as its own process with the clock pinned to that day, as the daily job does. Measured:

- first build: `dbt build` of everything after the history and the first live day;
- next-day builds: after each further day, `dbt build` as the job runs it (data tests on the
  rows loaded since the day's run started: `--vars {epc_tests_since: …}`);
- the floor: a `dbt build` with nothing new, the fixed cost every build pays (start-up, views,
  tests over no rows), against which the next-day build is a ratio;
- peak memory (maximum resident set of the dbt process) of each build;
- the documents for retrieval after the first build: their count and build time, and up to
  `--search-up-to` rows (1 M) the search index's build time and a query's latency
  (`python -m extract.search`'s index and query).

`--profile` prints the slowest nodes of each build from dbt's run_results.json. `--verify`
then rebuilds a copy of the warehouse with `--full-refresh` and compares every table the daily
builds maintained incrementally (the intermediate models and the latest-by-UPRN marts) row for
row. The acceptance figures of the daily build are printed at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

import duckdb
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extract.dbt_steps import build_args  # noqa: E402
from extract.raw_tables import Column  # noqa: E402
from extract.search import Index, refresh  # noqa: E402
from extract.sources.odc.tables import TABLES as ODC_TABLES  # noqa: E402
from tests.doubles.mhclg import Dataset as LiveDataset  # noqa: E402
from tests.doubles.mhclg import MhclgDouble  # noqa: E402
from tests.doubles.odc_v1 import Dataset  # noqa: E402
from tests.support import LOOPBACK_ENV, differences_from_full_refresh, pinned_command, pinned_load_id  # noqa: E402

SCHEMA = "dame_epc"
TOKEN = "bench-token"
KINDS = ("domestic", "non-domestic", "display")
# the live days lie before today: a build holds back a certificate dated after its day (it never
# competes for its property's latest), and dbt's day on DuckDB is the machine's, not a pinned clock
FIRST_LIVE_DAY = date(2026, 1, 5)
T = TypeVar("T")
TYPES = {"text": "varchar", "date": "date", "json": "json", "timestamp": "timestamp with time zone"}


@dataclass
class Build:
    """One `dbt build`: wall seconds, peak memory, and the seconds of each node."""

    seconds: float
    peak_mib: float
    nodes: dict[str, float] = field(default_factory=dict)
    summary: str = ""


def raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The v1 raw tables, empty, with the contract's columns (the live ones dlt creates)."""
    con.execute(f"create schema {SCHEMA}")
    for table in ODC_TABLES:
        columns = [*table.columns, Column("_dlt_load_id", "text", False), Column("_dlt_id", "text", False)]
        ddl = ", ".join(f"{c.name} {TYPES[c.data_type]}{'' if c.nullable else ' not null'}" for c in columns)
        con.execute(f"create table {SCHEMA}.{table.name} ({ddl})")


def templates(con: duckdb.DuckDBPyConnection, count: int = 2000) -> None:
    """`count` realistic certificates from the v1 double, to be copied with new keys and dates."""
    data = Dataset(seed=5, start="2020-01", end="2020-01", rows_per_month={"domestic": count})
    # placeholders: a string replace per row is far cheaper than a JSON merge
    marks = {"lmk-key": "@LMK@", "uprn": "@UPRN@", "lodgement-date": "@DATE@"}
    rows = [r | marks | {"lodgement-datetime": "@DATE@ 10:00:00"} for r in data.rows("domestic", "2020-01")]
    con.execute("create or replace table main.template (n integer, payload varchar)")
    con.executemany(
        "insert into main.template values (?, ?)", [(i, orjson.dumps(r).decode()) for i, r in enumerate(rows)]
    )


def add_month(con: duckdb.DuckDBPyConnection, month_index: int, rows: int, load_id: str) -> None:
    """`rows` v1 certificates lodged in month `month_index` (0 = 2015-01), loaded as `load_id`;
    about one property in four has two certificates."""
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
            -- regexp_replace: DuckDB's replace() is several times slower on long strings
            regexp_replace(
                regexp_replace(
                    regexp_replace(template.payload, '@LMK@', numbered.lmk_key), '@UPRN@', numbered.uprn
                ),
                '@DATE@', strftime(numbered.lodged, '%Y-%m-%d'), 'g'
            ),
            now(),
            '{load_id}',
            'bench-' || '{load_id}-' || numbered.i
        from numbered join main.template as template
            on template.n = numbered.i % (select count(*) from main.template)
        """,
        [rows * 12, rows],
    )


def history(db: Path, rows: int, months: int) -> int:
    started = time.perf_counter()
    per_month = rows // months
    with duckdb.connect(str(db)) as con:
        con.execute("set enable_progress_bar = false")
        raw_tables(con)
        templates(con)
        for month in range(months):
            add_month(con, month, per_month, f"1700000000.{month:06d}")
        con.execute("drop table main.template")
    seconds, size = time.perf_counter() - started, db.stat().st_size / 2**30
    print(f"  history: {per_month * months:,} v1 domestic certificates over {months} months, "
          f"written in {seconds:.0f} s ({size:.2f} GiB)", flush=True)  # fmt: skip
    return per_month * months


def apart(function: Callable[..., T], *args: object) -> T:
    """`function(*args)` in a fresh interpreter. Linux keeps a process's largest resident set
    across exec, so every dbt process forked from this one would otherwise report this one's peak
    as its own: the history writer's DuckDB cache (gigabytes at 10 M rows), the search index's
    build, the comparison with a full refresh."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def run_dbt(env: dict[str, str], *args: str) -> Build:
    """`dbt build ARGS` as its own process: wall time, peak memory (from the kernel's account of
    the process) and each node's execution time (from run_results.json)."""
    command = [str(Path(sys.executable).with_name("dbt")), "build", "--no-use-colors", *args]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"dbt build {' '.join(args)} failed:\n{text[-3000:]}")
    results = json.loads((Path(env["DBT_TARGET_PATH"]) / "run_results.json").read_text())["results"]
    nodes = {r["unique_id"]: r["execution_time"] for r in results}
    return Build(seconds, usage.ru_maxrss / 1024, nodes, text.strip().splitlines()[-1])


def daily_build(env: dict[str, str], since: str) -> Build:
    """`dbt build` as the daily job runs it: tests on the rows loaded since `since`."""
    args, environment = build_args(since)
    return run_dbt({**env, **environment}, *args)


def land_day(env: dict[str, str], api: MhclgDouble, day: date) -> str:
    """The live extractor's run on `day` (its clock pinned to 09:00); returns the run's first
    possible load id (the clock when it started), from which the day's tests read."""
    api.today = day
    command = pinned_command(
        day, "extract", ["--kinds", ",".join(KINDS), "--start", f"{FIRST_LIVE_DAY:%Y-%m}"]
    )
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the extractor failed on {day}: {done.stderr.strip()[-800:]}")
    return pinned_load_id(day)


def profile(title: str, build: Build, top: int = 12) -> None:
    print(f"  {title}: the {top} slowest of {len(build.nodes)} nodes")
    for unique_id, seconds in sorted(build.nodes.items(), key=lambda item: -item[1])[:top]:
        resource, _, name, *_ = unique_id.split(".")
        print(f"    {seconds:8.2f} s  {resource:<9} {name}")


QUERIES = ("condensing boiler", "loft insulation", "cavity wall insulation", "solar water heating",
           "electric storage heaters", "double glazing", "low energy lighting", "heat pump")  # fmt: skip


def documents(db: Path, build: Build, search: bool) -> None:
    """The documents for retrieval after the first build: how many and the model's build time;
    with `search`, the search index's build time and the latency of a query (median and worst of
    a few, on an open connection, the index warm)."""
    node = next(seconds for uid, seconds in build.nodes.items() if uid.endswith(".enr_property_documents"))
    if not search:
        with duckdb.connect(str(db), read_only=True) as con:
            count = con.execute(f"select count(*) from {SCHEMA}.enr_property_documents").fetchone()[0]
        print(f"  documents: {count:,} built in {node:.1f} s (enr_property_documents)", flush=True)
        return
    indexed = refresh(db, SCHEMA)
    assert indexed is not None
    with duckdb.connect(str(db), read_only=True) as con:
        index = Index(con, SCHEMA)
        latencies = []
        for query in QUERIES * 3:
            started = time.perf_counter()
            index.search(query, None, 10)
            latencies.append(time.perf_counter() - started)
    latencies.sort()
    print(f"  documents: {indexed[0]:,} built in {node:.1f} s (enr_property_documents); search index built "
          f"in {indexed[1]:.1f} s; a query takes {latencies[len(latencies) // 2] * 1000:.0f} ms "
          f"(median of {len(latencies)}, worst {latencies[-1] * 1000:.0f} ms)", flush=True)  # fmt: skip


def verify(db: Path, env: dict[str, str]) -> str:
    """Rebuild a copy with --full-refresh; compare every incremental table row for row."""
    copy = db.with_name("full-refresh.duckdb")
    shutil.copy(db, copy)
    run_dbt({**env, "DUCKDB_PATH": str(copy)}, "--full-refresh", "--exclude", "resource_type:test")
    differences = apart(differences_from_full_refresh, db, copy)
    copy.unlink()
    differing = [f"{table} ({rows} rows)" for table, rows in differences.items() if rows]
    if differing:
        return "DIFFERENT from a full refresh: " + ", ".join(differing)
    return f"equal to a full refresh ({len(differences)} tables)"


def measure(rows: int, args: argparse.Namespace) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="dbt-bench-"))
    try:
        db = work / "epc.duckdb"
        profiles = work / "profiles"
        profiles.mkdir()
        shutil.copy(ROOT / "profiles.example.yml", profiles / "profiles.yml")
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("EPC_", "DBT_", "BUCKET", "DESTINATION"))
            },
            **LOOPBACK_ENV,
            "DATA_DIR": str(work),
            "DUCKDB_PATH": str(db),
            "DBT_PROFILES_DIR": str(profiles),
            "DBT_TARGET_PATH": str(work / "target"),
            "DBT_LOG_PATH": str(work / "logs"),
        }
        print(f"\n== {rows:,} rows of history", flush=True)
        apart(history, db, rows, args.months)
        days = [FIRST_LIVE_DAY + timedelta(days=n) for n in range(args.days + 1)]
        per_day = {"domestic": 4000, "non-domestic": 600, "display": 300}
        live = LiveDataset(seed=17, start=days[0] - timedelta(1), end=days[-1] + timedelta(10),
                           per_day=per_day, delta_rate=0.04)  # fmt: skip
        with MhclgDouble(live, token=TOKEN, rate_limit=(10**9, 1.0), today=days[0]) as api:
            env |= {"EPC_API_TOKEN": TOKEN, "EPC_API_BASE_URL": api.base_url, "START_YEAR": str(days[0].year)}
            land_day(env, api, days[0])
            first = run_dbt(env)
            print(f"  first build: {first.seconds:.1f} s, peak {first.peak_mib:,.0f} MiB ({first.summary})",
                  flush=True)  # fmt: skip
            if args.profile:
                profile("first build", first)
            apart(documents, db, first, rows <= args.search_up_to)
            daily = []
            for day in days[1:]:
                since = land_day(env, api, day)
                build = daily_build(env, since)
                daily.append(build)
                print(f"  next-day build {day}: {build.seconds:.1f} s, peak {build.peak_mib:,.0f} MiB "
                      f"({build.summary})", flush=True)  # fmt: skip
                if args.profile:
                    profile(f"next-day build {day}", build)
            floor = daily_build(env, "9999999999")
            print(f"  nothing new: {floor.seconds:.1f} s (the floor: every build's fixed cost)", flush=True)
        if args.verify:
            print(
                f"  after {len(daily)} daily builds the incremental tables are {verify(db, env)}", flush=True
            )
        next_day = sum(b.seconds for b in daily) / len(daily)
        return {
            "first": first.seconds,
            "first_peak": max(first.peak_mib, *(b.peak_mib for b in daily)),
            "next_day": next_day,
            "floor": floor.seconds,
        }
    finally:
        if not os.environ.get("KEEP_BENCH"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept", work)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rows", default="1000000", help="history sizes, comma-separated")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--days", type=int, default=2, help="next-day builds after the first")
    parser.add_argument("--daily", action="store_const", const=1, dest="days", help="one next-day build")
    parser.add_argument("--profile", action="store_true", help="the slowest nodes of every build")
    parser.add_argument("--verify", action="store_true", help="compare with a full refresh at the end")
    parser.add_argument("--search-up-to", type=int, default=1_000_000,
                        help="measure the search index and queries at sizes up to this")  # fmt: skip
    args = parser.parse_args()
    if args.months > (FIRST_LIVE_DAY.year - 2015) * 12:
        parser.error(f"--months: the history (from 2015-01) must end before the live days ({FIRST_LIVE_DAY})")
    sizes = [int(n) for n in args.rows.split(",")]
    figures = {rows: measure(rows, args) for rows in sizes}
    print("\n| history | first build | peak memory | next-day build | nothing new | next-day / nothing new |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for rows, f in figures.items():
        print(f"| {rows:,} | {f['first']:.0f} s | {f['first_peak'] / 1024:.1f} GiB | {f['next_day']:.1f} s "
              f"| {f['floor']:.1f} s | {f['next_day'] / f['floor']:.2f} |")  # fmt: skip
    smallest, largest = figures[min(sizes)], figures[max(sizes)]
    if len(sizes) > 1:
        growth = largest["next_day"] / smallest["next_day"]
        print(
            f"\nnext-day build at {max(sizes):,} rows = {growth:.2f} x the one at {min(sizes):,} (bound 1.3)"
        )
    passed = largest["next_day"] <= 30 and largest["first"] <= 600 and largest["first_peak"] <= 8192
    if len(sizes) > 1:
        passed = passed and largest["next_day"] <= 1.3 * smallest["next_day"]
    print(f"next-day build {largest['next_day']:.1f} s (bound 30 s); first build {largest['first']:.0f} s "
          f"(bound 600 s); peak {largest['first_peak'] / 1024:.1f} GiB (bound 8 GiB)")  # fmt: skip
    print("acceptance: " + ("met" if passed else "NOT met"))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
