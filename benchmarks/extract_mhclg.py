"""Benchmark: the live-service extractor (`--source mhclg`) against the MHCLG double at the service's
rate limit, measured where it matters: after the burst.

    python benchmarks/extract_mhclg.py [--rate-limit 6000/300] [--windows 2] [--months 3]

The service allows 6,000 requests per 5 minutes per IP (a ceiling of 20 requests/s) and answers 429
beyond. The double runs in its own process (`python -m tests.doubles.mhclg`) with that limit, as a
sliding window, and the extractor runs with RATE_LIMIT set to the same. A sliding window lets the
first 6,000 requests through as fast as the extractor can send them: the burst allowance. After it a
slot frees only as a request of the window ages out, so from the second window on the most anyone
can sustain is the ceiling, and a figure over a short run (or one that includes the first window)
says more about the burst than about the extractor. So the run is sized to keep the extractor busy
for `--windows` windows (default 2: about 10 minutes at the real limit), it is stopped at their end,
and the sustained figures count only the requests the double answered from the end of the first
window to the end of the last: whole windows, after the burst. The double's own log is the count
(each answered request: time, status, path); `--rate-limit 600/30` keeps the rate (20/s) with a
window ten times shorter, for a run of about a minute, and says it is scaled.

Prints: certificates per minute and requests per second sustained (certificate, search and deltas
requests), the burst for comparison, the ceiling and the ratio to it, and the 429s (0 expected).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"
REAL_LIMIT = (6000, 300.0)
LOOPBACK = {
    "NO_GCE_CHECK": "true",
    "GCE_METADATA_HOST": "127.0.0.1:9",
    "GCE_METADATA_IP": "127.0.0.1:9",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
}
SHARES = {"domestic": 0.8, "non-domestic": 0.13, "display": 0.07}  # roughly the register's mix

# `python -m tests.doubles.mhclg ARGS`, also writing one line per answered request to the file
# named first: the double's log, which lives in its process
_DOUBLE = """
import runpy, sys
from tests.doubles.mhclg.server import MhclgDouble
out = open(sys.argv.pop(1), "w", buffering=1)
answer = MhclgDouble.record
def record(self, entry):
    answer(self, entry)
    out.write(f"{entry.at:.6f} {entry.status} {entry.path}\\n")
MhclgDouble.record = record
runpy.run_module("tests.doubles.mhclg", run_name="__main__", alter_sys=True)
"""


@dataclass(frozen=True)
class Answer:
    at: float
    status: int
    path: str

    @property
    def endpoint(self) -> str:
        return "search" if self.path.endswith("/search") else self.path.rsplit("/", 1)[-1]


def parse_limit(text: str) -> tuple[int, float]:
    count, _, seconds = text.partition("/")
    return int(count), float(seconds)


class DoubleProcess:
    """The double in its own process (it must not share the extractor's GIL), logging to a file."""

    def __init__(self, limit: tuple[int, float], months: int, per_day: dict[str, int]) -> None:
        self.url_file = Path(tempfile.mkstemp()[1])
        self.log_file = Path(tempfile.mkstemp()[1])
        limit_text = f"{limit[0]}/{limit[1]:g}"
        args = ["--token", TOKEN, "--rate-limit", limit_text, "--url-file", str(self.url_file)]
        args += ["--start", "2025-01-01", "--end", f"2025-{months:02d}-28"]
        for kind, count in per_day.items():
            args += [f"--{kind}-per-day", str(count)]
        self.url_file.write_text("")
        self.process = subprocess.Popen(
            [sys.executable, "-c", _DOUBLE, str(self.log_file), *args], cwd=ROOT, stdout=subprocess.DEVNULL
        )
        while not self.url_file.read_text().strip():
            if self.process.poll() is not None:
                raise SystemExit("the double did not start")
            time.sleep(0.05)
        self.base_url = self.url_file.read_text().strip()

    def answers(self) -> list[Answer]:
        lines = self.log_file.read_text().splitlines()
        return [Answer(float(at), int(status), path) for at, status, path in (line.split() for line in lines)]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()
        self.url_file.unlink()
        self.log_file.unlink()


def per_day_for(limit: tuple[int, float], windows: int, months: int) -> dict[str, int]:
    """Certificates a day so that the extractor has a quarter of a window more work than it can do
    in `windows` windows (one request per certificate, plus a few searches a day)."""
    days = 28 * months  # the double's data ends on the 28th of the last month
    per_day = int(limit[0] * (windows + 0.25) / days) + 1
    return {kind: max(1, round(per_day * share)) for kind, share in SHARES.items()}


def run(limit: tuple[int, float], windows: int, months: int) -> None:
    allowed, seconds = limit
    per_day = per_day_for(limit, windows, months)
    scaled = allowed / seconds == REAL_LIMIT[0] / REAL_LIMIT[1] and seconds != REAL_LIMIT[1]
    print(
        f"limit {allowed} requests per {seconds:g} s"
        + (f" (the real rate in a window scaled from {REAL_LIMIT[1]:g} s)" if scaled else "")
        + f"; {windows} windows; data 2025-01..2025-{months:02d}, "
        + ", ".join(f"{k} {n}/day" for k, n in per_day.items()),
        flush=True,
    )
    double = DoubleProcess(limit, months, per_day)
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            env = {**os.environ, **LOOPBACK, "EPC_API_TOKEN": TOKEN, "EPC_API_BASE_URL": double.base_url,
                   "DATA_DIR": data_dir, "RATE_LIMIT": f"{allowed}/{seconds:g}"}  # fmt: skip
            for name in ("PAGE_SIZE", "MAX_CONCURRENCY", "SOURCE", "BUCKET", "DUCKDB_PATH", "DESTINATION"):
                env.pop(name, None)
            kinds = ",".join(per_day)
            extractor = subprocess.Popen(
                [sys.executable, "-m", "extract", "--kinds", kinds, "--start", "2025-01",
                 "--end", f"2025-{months:02d}"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            while not double.answers():  # the clock starts with the first request the double answers
                if extractor.poll() is not None:
                    raise SystemExit(f"extractor failed: {extractor.stderr.read().strip()[-500:]}")
                time.sleep(0.05)
            first = double.answers()[0].at
            end = first + windows * seconds
            while time.time() < end + 1 and extractor.poll() is None:
                time.sleep(0.5)
            finished_early = extractor.poll() is not None
            extractor.kill()
            _, err = extractor.communicate()
            if finished_early and extractor.returncode != 0:
                raise SystemExit(f"extractor failed: {err.strip()[-500:]}")
            if finished_early:
                raise SystemExit("the extractor ran out of work before the last window ended: more data")
        report(double.answers(), limit, windows)
    finally:
        double.stop()


def report(answers: list[Answer], limit: tuple[int, float], windows: int) -> None:
    allowed, seconds = limit
    first = answers[0].at
    burst = answers[: min(allowed, len(answers))]
    burst_s = burst[-1].at - first
    print(
        f"burst (first window): the allowance of {len(burst):,} requests in {burst_s:.1f} s = "
        f"{len(burst) / burst_s:,.1f} requests/s",
        flush=True,
    )
    start, end = first + seconds, first + windows * seconds
    steady = [a for a in answers if start <= a.at < end]
    span = end - start
    by_endpoint = Counter(a.endpoint for a in steady)
    certificates = sum(1 for a in steady if a.endpoint == "certificate" and a.status == 200)
    rate, ceiling = len(steady) / span, allowed / seconds
    print(f"sustained ({seconds:g} s to {windows * seconds:g} s after the first request, {span:g} s):")
    print(f"  certificates: {certificates / span * 60:,.0f} per minute ({certificates:,} certificates)")
    print(
        f"  requests:     {rate:.2f} per second ({len(steady):,}: "
        + ", ".join(f"{name} {count:,}" for name, count in by_endpoint.most_common())
        + ")"
    )
    print(f"  ceiling:      {ceiling:.2f} requests per second ({allowed}/{seconds:g})")
    print(f"  ratio:        {rate / ceiling:.3f} of the ceiling")
    print(f"429 answers over the whole run: {sum(1 for a in answers if a.status == 429)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rate-limit", type=parse_limit, default=REAL_LIMIT, help="REQUESTS/SECONDS")
    parser.add_argument("--windows", type=int, default=2, help="windows to run; all but the first count")
    parser.add_argument("--months", type=int, default=3, help="months of data (2025-01 on)")
    args = parser.parse_args()
    if args.windows < 2:
        parser.error("--windows must be at least 2: the first window is the burst")
    run(args.rate_limit, args.windows, args.months)


if __name__ == "__main__":
    main()
