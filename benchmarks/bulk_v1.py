"""Benchmark: a v1 bulk zip into DuckDB's raw table against DuckDB's own `read_csv` of the same
unzipped CSV (the lower bound), and the loader's peak memory at two file sizes.

    python benchmarks/bulk_v1.py [--rows 2000000 500000]

For each size: writes a `domestic-2024.zip` of `--rows` domestic certificates in the bulk layout
(UPPER_SNAKE header, the double's generated rows with unique keys; recommendations.csv holds the
header only, so the figure is the certificates'), serves it from the v1 double (from disk) and
measures
  (a) lower bound: `create table … as select * from read_csv(<unzipped csv>, all_varchar)` in a
      fresh DuckDB file (unzipping not counted);
  (b) `python -m extract --source odc --bulk domestic-2024.zip` into a fresh data folder: load
      rows/s of the certificates member (streamed out of the zip into DuckDB, payload JSON built,
      delete+insert committed), its wall time including the download, and its peak RSS.
Prints both rates, their ratio, and the time a full register of 30 M certificates implies.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.doubles.odc_v1 import Dataset, OdcV1Double, fields  # noqa: E402
from tests.doubles.odc_v1.bulk import column, csv_bytes  # noqa: E402

EMAIL, KEY = "bench@example.org", "bench-key"
NAME = "domestic-2024.zip"
REGISTER = 30_000_000
LOOPBACK = {
    "NO_GCE_CHECK": "true",
    "GCE_METADATA_HOST": "127.0.0.1:9",
    "GCE_METADATA_IP": "127.0.0.1:9",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
}


def write_zip(path: Path, rows: int) -> int:
    """A bulk zip of `rows` certificates: 20,000 generated rows repeated with fresh keys."""
    data = Dataset(seed=3, start="2024-01", end="2024-12", rows_per_month={"domestic": 1700})
    sample = [r for m in data.months() for r in data.rows("domestic", m)][:20_000]
    lines = csv_bytes(fields.DOMESTIC, sample).decode().split("\n")[1:-1]
    tails = [line.partition(",")[2] for line in lines]  # every field after LMK_KEY
    header = ",".join(column(n) for n in fields.DOMESTIC) + "\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("certificates.csv", "w", force_zip64=True) as out:
            out.write(header.encode())
            batch = []
            for i in range(rows):
                batch.append(f"{i:016x}{i * 2654435761 % 2**64:016x},{tails[i % len(tails)]}\n")
                if len(batch) == 50_000:
                    out.write("".join(batch).encode())
                    batch.clear()
            out.write("".join(batch).encode())
        archive.writestr(
            "recommendations.csv", ",".join(column(n) for n in fields.DOMESTIC_RECOMMENDATIONS) + "\n"
        )
    return path.stat().st_size


def lower_bound(zip_path: Path, scratch: Path) -> tuple[int, float]:
    """(a): DuckDB reading the unzipped CSV into a table, all columns text."""
    csv_path = scratch / "certificates.csv"
    with (
        zipfile.ZipFile(zip_path) as archive,
        archive.open("certificates.csv") as src,
        csv_path.open("wb") as dst,
    ):
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    db = scratch / "lower.duckdb"
    with duckdb.connect(str(db)) as con:
        started = time.perf_counter()
        con.execute(
            f"create table t as select * from read_csv('{csv_path}', header = true, all_varchar = true)"
        )
        seconds = time.perf_counter() - started
        rows = con.execute("select count(*) from t").fetchone()[0]
    csv_path.unlink()
    db.unlink()
    return rows, seconds


# runs `python -m extract` and reports its own peak RSS (ru_maxrss of that process alone)
_WITH_PEAK = """
import resource, runpy, sys
try:
    runpy.run_module("extract", run_name="__main__", alter_sys=True)
except SystemExit as stop:
    code = stop.code
print("peak_rss_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def run_bulk(base_url: str, data_dir: Path) -> tuple[float, float, dict]:
    """(b): the CLI; returns wall seconds, peak RSS in MiB, the certificates member's event."""
    env = {**os.environ, **LOOPBACK, "EPC_EMAIL": EMAIL, "EPC_API_KEY": KEY,
           "EPC_API_BASE_URL": base_url, "DATA_DIR": str(data_dir)}  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _WITH_PEAK, "--source", "odc", "--bulk", NAME, "--log-format", "json"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"extractor failed: {done.stderr.strip().splitlines()[-1]}")
    peak = next(int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("peak_rss_kib"))
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    member = next(e for e in events if e.get("member") == "certificates.csv")
    return seconds, peak / 1024, member


def measure(rows: int, scratch: Path) -> None:
    zip_path = scratch / NAME
    started = time.perf_counter()
    size = write_zip(zip_path, rows)
    made = time.perf_counter() - started
    print(f"\n{rows:,} domestic rows: {NAME} of {size / 2**20:,.0f} MiB (made in {made:.0f} s)")
    lower_rows, lower_s = lower_bound(zip_path, scratch)
    assert lower_rows == rows, (lower_rows, rows)
    lower = rows / lower_s
    print(f"  (a) DuckDB read_csv of the unzipped CSV: {lower_s:6.1f} s = {lower:9,.0f} rows/s", flush=True)
    with OdcV1Double(
        Dataset(start="2024-01", end="2024-01"), email=EMAIL, api_key=KEY, files={NAME: zip_path}
    ) as api:
        wall, peak, member = run_bulk(api.base_url, scratch / "data")
    assert member["rows"] == rows, member
    load = rows / member["seconds"]
    print(f"  (b) bulk load into domestic_raw_json:    {member['seconds']:6.1f} s = {load:9,.0f} rows/s")
    print(f"      whole run incl. download over HTTP:  {wall:6.1f} s = {rows / wall:9,.0f} rows/s")
    print(f"  ratio (a)/(b) = {lower / load:.2f}x slower than the lower bound   peak RSS: {peak:,.0f} MiB")
    print(f"  a full register of {REGISTER / 1e6:.0f} M rows at (b): {REGISTER / load / 60:,.1f} min load, "
          f"{REGISTER / (rows / wall) / 60:,.1f} min with the download")  # fmt: skip
    zip_path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[2_000_000, 500_000])
    args = parser.parse_args()
    for rows in args.rows:
        with tempfile.TemporaryDirectory(dir=ROOT / "data" if (ROOT / "data").is_dir() else None) as scratch:
            measure(rows, Path(scratch))
    print("\naim: within 2x of the lower bound; peak RSS about equal at both sizes")


if __name__ == "__main__":
    main()
