"""Benchmark: the live source run once a day for `--days` consecutive simulated days, at the
register's daily volume and the service's real rate limit, against the MHCLG double.

    python benchmarks/daily_mhclg.py [--days 30] [--domestic 4000] [--non-domestic 600] [--display 300]
                                     [--rate-limit 6000/300] [--late-share 0.05] [--job]

The double runs in this process and serves the certificates registered from the first simulated
day on (one in twenty published one to six days late, one in twenty-five with a change-feed
event within 20 days); its today moves with the simulated day. Each day the extractor runs as its own process
with its clock pinned to that day at 09:00 (`--job`: the whole daily job, dbt included), exactly as
the daily schedule would start it. Between two runs a day passes, so the double's rate-limit
window (6,000 requests per 300 s, sliding) is empty again when a run starts: its clock is moved on
by a day, not waited for.

Prints per day: certificate requests (`/api/certificate`, the costly kind), new documents landed
(certificates and their CEPC-RR / DEC-RR reports, counted in the warehouse), their ratio, search
and change-feed requests, 429 answers, the run's seconds, and what the month-by-month design
fetched on that day (every certificate of the month so far); then the totals against the
acceptance bounds: requests per new document <= 1.05, every run <= 300 s, no 429.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.doubles.mhclg import Dataset, MhclgDouble  # noqa: E402
from tests.support import LOOPBACK_ENV, pinned_command  # noqa: E402

TOKEN = "bench-token"
KINDS = ("domestic", "non-domestic", "display")
DOCUMENT_TABLES = (
    "mhclg_domestic_raw_json",
    "mhclg_non_domestic_raw_json",
    "mhclg_display_raw_json",
    "mhclg_non_domestic_reports_raw_json",
    "mhclg_display_reports_raw_json",
)


@dataclass
class DayResult:
    day: date
    certificate_requests: int
    new_documents: int
    searches: int
    deltas: int
    too_many: int
    seconds: float
    month_design: int

    @property
    def ratio(self) -> float:
        return self.certificate_requests / self.new_documents if self.new_documents else float("nan")


class ShiftedClock:
    """The double's rate-limit clock: real time, plus a day for every day that passed."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def documents(duckdb_path: Path) -> int:
    if not duckdb_path.exists():
        return 0
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        present = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        return sum(
            con.execute(f"select count(*) from dame_epc.{t}").fetchone()[0]
            for t in DOCUMENT_TABLES
            if t in present
        )


def month_so_far(data: Dataset, day: date) -> int:
    """What the month-by-month design fetched on `day`: every certificate of the month up to yesterday."""
    first = day.replace(day=1) if day.day > 1 else (day - timedelta(days=1)).replace(day=1)
    return sum(data.count(kind, first, day - timedelta(days=1), as_of=day) for kind in KINDS)


def run(args: argparse.Namespace) -> list[DayResult]:
    first_day = args.first
    days = [first_day + timedelta(days=n) for n in range(1, args.days + 1)]  # each run's today
    per_day = {"domestic": args.domestic, "non-domestic": args.non_domestic, "display": args.display}
    started = time.monotonic()
    # registrations run on 20 days past the last run, so that the change feed's events (up to 20 days
    # after a registration) are spread as in the steady state, not crowded before the data's end
    data = Dataset(
        seed=2027,
        start=first_day,
        end=days[-1] + timedelta(days=20),
        per_day=per_day,
        delta_rate=0.04,
        late_share=args.late_share,
    )
    total = sum(len(data.all_certificates(k)) + len(data.reports(k)) for k in KINDS)
    print(f"the double holds {total:,} documents ({time.monotonic() - started:.0f} s to make)", flush=True)
    clock = ShiftedClock()
    results = []
    with (
        tempfile.TemporaryDirectory() as scratch,
        MhclgDouble(data, token=TOKEN, rate_limit=args.rate_limit, clock=clock, today=days[0]) as api,
    ):
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("EPC_", "DBT_TARGET"))},
            **LOOPBACK_ENV,
            "EPC_API_TOKEN": TOKEN,
            "EPC_API_BASE_URL": api.base_url,
            "DATA_DIR": scratch,
            "RATE_LIMIT": f"{args.rate_limit[0]}/{args.rate_limit[1]:g}",
            "START_YEAR": str(first_day.year),
        }
        for name in ("PAGE_SIZE", "MAX_CONCURRENCY", "SOURCE", "BUCKET", "DUCKDB_PATH", "DESTINATION"):
            env.pop(name, None)
        module = "extract.job" if args.job else "extract"
        command = ["--kinds", ",".join(KINDS), "--start", f"{first_day:%Y-%m}"]
        before = 0
        print(
            f"{'day':<12}{'cert req':>9}{'new docs':>9}{'ratio':>7}{'search':>7}{'deltas':>7}{'429':>5}"
            f"{'seconds':>9}{'month design':>14}",
            flush=True,
        )
        for day in days:
            api.today = day
            api.clear()
            clock.offset += 86400  # a day passed since the last run
            began = time.monotonic()
            done = subprocess.run(
                pinned_command(day, module, command), cwd=ROOT, env=env, capture_output=True, text=True
            )
            seconds = time.monotonic() - began
            if done.returncode != 0:
                raise SystemExit(f"{day}: the run failed ({done.returncode}): {done.stderr.strip()[-800:]}")
            after = documents(Path(scratch) / "epc.duckdb")
            log = list(api.log)
            result = DayResult(
                day,
                sum(e.path == "/api/certificate" for e in log),
                after - before,
                sum(e.path.endswith("/search") for e in log),
                sum(e.path == "/api/deltas" for e in log),
                sum(e.status == 429 for e in log),
                seconds,
                month_so_far(data, day),
            )
            before = after
            results.append(result)
            print(
                f"{day!s:<12}{result.certificate_requests:>9,}{result.new_documents:>9,}{result.ratio:>7.3f}"
                f"{result.searches:>7}{result.deltas:>7}{result.too_many:>5}{result.seconds:>9.1f}"
                f"{result.month_design:>14,}",
                flush=True,
            )
    return results


def summary(results: list[DayResult]) -> int:
    requests = sum(r.certificate_requests for r in results)
    new = sum(r.new_documents for r in results)
    slowest = max(results, key=lambda r: r.seconds)
    too_many = sum(r.too_many for r in results)
    month_design = sum(r.month_design for r in results)
    ratio = requests / new
    print(
        f"\n{len(results)} days: {requests:,} certificate requests for {new:,} new documents = {ratio:.3f} "
        f"(bound 1.05); slowest run {slowest.seconds:.1f} s on {slowest.day} (bound 300 s); "
        f"429 answers: {too_many} (bound 0)"
    )
    print(f"the month-by-month design would have sent {month_design:,} certificate requests "
          f"({month_design / requests:.1f} times as many)")  # fmt: skip
    passed = ratio <= 1.05 and slowest.seconds <= 300 and too_many == 0
    print("acceptance: " + ("met" if passed else "NOT met"))
    return 0 if passed else 1


def parse_limit(text: str) -> tuple[int, float]:
    count, _, seconds = text.partition("/")
    return int(count), float(seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--domestic", type=int, default=4000)
    parser.add_argument("--non-domestic", type=int, default=600)
    parser.add_argument("--display", type=int, default=300)
    parser.add_argument("--rate-limit", type=parse_limit, default=(6000, 300.0), help="REQUESTS/SECONDS")
    parser.add_argument("--late-share", type=float, default=0.05)
    parser.add_argument(
        "--first", type=date.fromisoformat, default=date(2027, 1, 1), help="first registration day"
    )
    parser.add_argument("--job", action="store_true", help="run the whole daily job (dbt build included)")
    args = parser.parse_args()
    return summary(run(args))


if __name__ == "__main__":
    sys.exit(main())
