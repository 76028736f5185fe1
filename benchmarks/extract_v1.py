"""Benchmark: the whole extractor against the lower bound of fetching and parsing the pages alone.

    python benchmarks/extract_v1.py [--rows 200000] [--months 4 2]

Starts the v1 double in its own process with at least `--rows` domestic certificates, warms its
page cache (so both measurements read the same ready pages), then measures:
  (a) fetch + parse: every search page through requests + JSON decoding, nothing kept;
  (b) `python -m extract --kinds domestic` into a fresh DuckDB file and bucket folder;
and prints rows/s for both, their ratio, and the extractor's peak memory. Each configuration of
`--months` spreads the same rows over that many months, so comparing them shows whether peak
memory grows with the size of a month (real months hold about 100,000 domestic certificates).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.doubles.odc_v1 import Dataset  # noqa: E402

EMAIL, KEY = "bench@example.org", "bench-key"
LOOPBACK = {
    "NO_GCE_CHECK": "true",
    "GCE_METADATA_HOST": "127.0.0.1:9",
    "GCE_METADATA_IP": "127.0.0.1:9",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
}


def months_for(start_year: int, count: int) -> tuple[str, str]:
    last = count - 1
    return f"{start_year}-01", f"{start_year + last // 12}-{last % 12 + 1:02d}"


class DoubleProcess:
    """The double in its own process, so that it does not share our interpreter's GIL."""

    def __init__(self, start: str, end: str, per_month: int) -> None:
        self.url_file = Path(tempfile.mkstemp()[1])
        self.url_file.write_text("")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.doubles.odc_v1",
                "--start",
                start,
                "--end",
                end,
                "--domestic-per-month",
                str(per_month),
                "--non-domestic-per-month",
                "0",
                "--empty-month",
                "1999-01",
                "--email",
                EMAIL,
                "--api-key",
                KEY,
                "--cache-mb",
                "4000",
                "--url-file",
                str(self.url_file),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        while not self.url_file.read_text().strip():
            time.sleep(0.05)
        self.base_url = self.url_file.read_text().strip()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()
        self.url_file.unlink()


def fetch_and_parse(base_url: str, months: list[str]) -> tuple[int, float]:
    """(a): every page of every month through requests + JSON decoding; returns rows, seconds."""
    session = requests.Session()
    session.auth = (EMAIL, KEY)
    session.headers["Accept"] = "application/json"
    rows, started = 0, time.perf_counter()
    for month in months:
        year, mon = month.split("-")
        params = {"from-year": year, "from-month": mon, "to-year": year, "to-month": mon, "size": 5000}
        while True:
            response = session.get(f"{base_url}/domestic/search", params=params)
            if not response.content:
                break
            rows += len(response.json()["rows"])
            params["search-after"] = response.headers["X-Next-Search-After"]
    return rows, time.perf_counter() - started


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


def run_extractor(base_url: str, start: str, end: str) -> tuple[float, float, str]:
    """(b): the CLI into a fresh data folder; returns seconds, peak RSS in MiB, last output line."""
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, **LOOPBACK, "EPC_EMAIL": EMAIL, "EPC_API_KEY": KEY,
               "EPC_API_BASE_URL": base_url, "DATA_DIR": data_dir}  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _WITH_PEAK, "--kinds", "domestic", "--start", start, "--end", end],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"extractor failed: {done.stderr.strip().splitlines()[-1]}")
        peak = next(
            int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("peak_rss_kib")
        )
        return seconds, peak / 1024, done.stdout.strip().splitlines()[-1]


def measure(total_rows: int, months_n: int) -> None:
    """One configuration: `total_rows` domestic certificates spread over `months_n` months."""
    start, end = months_for(2019, months_n)
    per_month = -(-total_rows // months_n)
    while True:  # month sizes vary ±40 %: grow them until the total reaches total_rows
        data = Dataset(start=start, end=end, rows_per_month={"domestic": per_month}, empty_months=frozenset())
        if sum(data.count("domestic", m) for m in data.months()) >= total_rows:
            break
        per_month += max(1, per_month // 50)
    months = data.months()
    expected = sum(data.count("domestic", m) for m in months)
    print(
        f"\n{expected:,} domestic rows in {len(months)} months ({start}..{end}), "
        f"about {expected // len(months):,} per month",
        flush=True,
    )
    double = DoubleProcess(start, end, per_month)
    try:
        warm_rows, warm_s = fetch_and_parse(double.base_url, months)  # generates and caches pages
        assert warm_rows == expected, (warm_rows, expected)
        print(f"  warm-up (the double generates its pages): {warm_s:.1f} s", flush=True)
        rows, fetch_s = fetch_and_parse(double.base_url, months)
        lower = rows / fetch_s
        print(f"  (a) fetch + parse only: {fetch_s:6.1f} s = {lower:9,.0f} rows/s", flush=True)
        seconds, peak_mib, _ = run_extractor(double.base_url, start, end)
        whole = expected / seconds
        print(f"  (b) whole extractor:    {seconds:6.1f} s = {whole:9,.0f} rows/s")
        print(f"  ratio (b)/(a) = {whole / lower:.2f}   peak memory of the extractor: {peak_mib:,.0f} MiB")
    finally:
        double.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument(
        "--months",
        type=int,
        nargs="+",
        default=[4, 2],
        help="month counts to compare: the same rows in fewer, larger months",
    )
    args = parser.parse_args()
    for months_n in args.months:
        measure(args.rows, months_n)
    print("\naim: ratio at least 0.33; peak memory about equal whatever the month size")


if __name__ == "__main__":
    main()
