"""Serve the v1 double until interrupted: `python -m tests.doubles.odc_v1 --port 8089`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests.doubles.odc_v1 import Dataset, OdcV1Double
from tests.doubles.served import serve_until_stopped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.doubles.odc_v1", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", default="2023-01", help="first month with data (YYYY-MM)")
    parser.add_argument("--end", default="2024-12", help="last month with data (YYYY-MM)")
    parser.add_argument("--domestic-per-month", type=int, default=40)
    parser.add_argument("--non-domestic-per-month", type=int, default=12)
    parser.add_argument(
        "--empty-month",
        action="append",
        default=None,
        help="a month with no certificates (repeatable; default 2023-06)",
    )
    parser.add_argument("--email", default="analyst@example.org")
    parser.add_argument("--api-key", default="double-api-key")
    parser.add_argument("--cache-mb", type=int, default=64, help="page cache size")
    parser.add_argument("--url-file", type=Path, help="write the base URL here once serving")
    args = parser.parse_args(argv)
    empty = frozenset(args.empty_month if args.empty_month is not None else ["2023-06"])
    data = Dataset(
        seed=args.seed,
        start=args.start,
        end=args.end,
        rows_per_month={"domestic": args.domestic_per_month, "non-domestic": args.non_domestic_per_month},
        empty_months=empty,
    )
    double = OdcV1Double(
        data, email=args.email, api_key=args.api_key, port=args.port, cache_bytes=args.cache_mb * 2**20
    ).start()
    return serve_until_stopped(double, f"v1 double (email {args.email})", args.url_file)


if __name__ == "__main__":
    sys.exit(main())
