"""Serve the MHCLG double until interrupted: `python -m tests.doubles.mhclg --port 8090 --token T`."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from tests.doubles.mhclg import Dataset, MhclgDouble
from tests.doubles.served import serve_until_stopped


def _rate(value: str) -> tuple[int, float]:
    requests, _, seconds = value.partition("/")
    try:
        parsed = int(requests), float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError("expected REQUESTS/SECONDS, e.g. 6000/300") from None
    if parsed[0] < 1 or parsed[1] <= 0:
        raise argparse.ArgumentTypeError("both numbers must be positive")
    return parsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.doubles.mhclg", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default="double-token", help="the bearer token to accept")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--start", type=date.fromisoformat, default=date(2025, 1, 1), help="first day with data"
    )
    parser.add_argument(
        "--end", type=date.fromisoformat, default=date(2025, 3, 31), help="last day with data"
    )
    parser.add_argument("--domestic-per-day", type=int, default=6)
    parser.add_argument("--non-domestic-per-day", type=int, default=2)
    parser.add_argument("--display-per-day", type=int, default=1)
    parser.add_argument("--delta-rate", type=float, default=0.04, help="share of certificates with an event")
    parser.add_argument(
        "--late-share", type=float, default=0.0, help="share of certificates published 1-6 days late"
    )
    parser.add_argument("--today", type=date.fromisoformat, help="the double's today (default: the real one)")
    parser.add_argument("--rate-limit", type=_rate, default=(6000, 300.0), help="REQUESTS/SECONDS per IP")
    parser.add_argument("--auth-failure-status", type=int, choices=(401, 403), default=401)
    parser.add_argument("--wrap-errors", action="store_true", help="errors as {data: {error}}, as the code")
    parser.add_argument("--url-file", type=Path, help="write the base URL here once serving")
    args = parser.parse_args(argv)
    data = Dataset(
        seed=args.seed,
        start=args.start,
        end=args.end,
        per_day={
            "domestic": args.domestic_per_day,
            "non-domestic": args.non_domestic_per_day,
            "display": args.display_per_day,
        },
        delta_rate=args.delta_rate,
        late_share=args.late_share,
    )
    double = MhclgDouble(
        data,
        token=args.token,
        port=args.port,
        today=args.today,
        rate_limit=args.rate_limit,
        auth_failure_status=args.auth_failure_status,
        wrap_errors=args.wrap_errors,
    ).start()
    return serve_until_stopped(double, "MHCLG double", args.url_file)


if __name__ == "__main__":
    sys.exit(main())
