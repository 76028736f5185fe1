"""`python -m extract`: fetch EPC certificates (and recommendations) month by month into the
bucket and the raw warehouse tables. Months already done are skipped without a request."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from extract.errors import ConfigError, UserError
from extract.kinds import parse_kinds
from extract.months import resolve_window
from extract.progress import event, setup_logging
from extract.runner import Runner, UnitResult, log_plan
from extract.settings import DESTINATIONS, Settings, load_settings
from extract.sources.registry import SOURCES


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every other input error
        raise ConfigError(message)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="python -m extract", description=__doc__)
    parser.add_argument(
        "--source",
        choices=tuple(SOURCES),
        help="mhclg: the live service (the default); odc: the retired v1 API, its mirrors and archives",
    )
    parser.add_argument(
        "--kinds",
        help="comma-separated kinds (default: domestic,non-domestic; the live service also has display)",
    )
    parser.add_argument("--start", help="first month, YYYY-MM (default: START_YEAR-01)")
    parser.add_argument("--end", help="last month, YYYY-MM (default: END_YEAR-12 or this month)")
    parser.add_argument(
        "--with-recs", action="store_true", help="also fetch each certificate's recommendations"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print each kind × month and whether it is done; send no request",
    )
    parser.add_argument(
        "--reset",
        choices=("certs", "recs"),
        help="clear the window's checkpoints of that part first, so it is fetched again",
    )
    parser.add_argument("--env-file", type=Path, help="KEY=VALUE file read before the environment")
    parser.add_argument(
        "--destination", choices=DESTINATIONS, help="warehouse (default: DESTINATION or duckdb)"
    )
    parser.add_argument(
        "--bulk",
        metavar="FILES",
        help="backfill from bulk files instead of the API: comma-separated names, e.g. "
        "all-domestic-certificates.zip (--source odc) or domestic (the live service's JSON full load)",
    )
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
        setup_logging(args.log_format)
        settings = load_settings(args.env_file, args.destination, source=args.source, sources=SOURCES)
        if args.bulk is not None:
            return run_bulk(settings, args.bulk, args.dry_run)
        kinds = parse_kinds(args.kinds, settings.source, SOURCES[settings.source].kinds)
        months = resolve_window(args.start, args.end, settings.start_year, settings.end_year)
        runner = Runner(settings, kinds, months, with_recs=args.with_recs)
        if args.dry_run:
            log_plan(runner.plan())
            return 0
        runner.source.check_credentials()
        if args.reset:
            cleared = runner.reset(args.reset)
            event(f"reset: cleared {cleared} {args.reset} checkpoints", cleared=cleared)
        results = runner.run()
        print_summary(settings, runner, results)
        return 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; months not yet done are fetched again next run", file=sys.stderr)
        return 130


def run_bulk(settings: Settings, names: str, dry_run: bool = False) -> int:
    """`--bulk`: the files, one after another; a finished file is skipped. With `--dry-run`, each
    file's state, after asking only for its size and date."""
    from extract.bulk.runner import BulkRunner

    source = SOURCES[settings.source](settings)
    source.check_credentials()
    runner = BulkRunner(settings, source.bulk(), [n.strip() for n in names.split(",") if n.strip()])
    if dry_run:
        for name, status in runner.plan():
            event(f"plan bulk {name}: {status}", file=name, status=status)
        return 0
    results = runner.run()
    # the reference data a source's records need beside them (the live service's code tables),
    # refreshed when stale as on an API run: a warehouse filled from bulk files decodes alike
    references = Runner(settings, [], [])
    if references.units:
        references.run()
    print(f"{'file':<44}{'state':<9}{'rows':>11}  tables")
    for r in results:
        tables = ", ".join(f"{t} {n}" for t, n in r.rows.items())
        print(f"{r.name:<44}{r.state:<9}{sum(r.rows.values()):>11}  {tables}")
    where = (
        settings.duckdb_path
        if settings.destination == "duckdb"
        else f"{settings.project_id}.{settings.dataset}"
    )
    print(f"warehouse: {where} (schema {settings.dataset})")
    print(f"state:  {runner.bucket.uri(f'state/{settings.dataset}/bulk/')}")
    return 0


def print_summary(settings: Settings, runner: Runner, results: list[UnitResult]) -> None:
    """Rows per kind and month, and where the files and tables are."""
    print(f"{'kind':<14}{'month':<9}{'part':<7}{'rows':>9}  state")
    for r in results:
        print(f"{r.unit.folder:<14}{r.unit.month or '-'!s:<9}{r.unit.part:<7}{r.rows:>9}  {r.state}")
    fetched = sum(r.rows for r in results if r.state == "fetched")
    print(
        f"fetched {fetched} rows in {sum(r.state == 'fetched' for r in results)} units; "
        f"{sum(r.state == 'skipped' for r in results)} units already done"
    )
    print(f"files:  {runner.bucket.uri('epc/json/')}")
    print(f"state:  {runner.bucket.uri(f'state/{settings.dataset}/')}")
    if settings.destination == "bigquery":
        print(f"bigquery: {settings.project_id}.{settings.dataset} (location {settings.region})")
    else:
        print(f"duckdb: {settings.duckdb_path} (schema {settings.dataset})")
    for table, count in runner.table_counts().items():
        print(f"  {settings.dataset}.{table}: {count} rows")


if __name__ == "__main__":
    sys.exit(main())
