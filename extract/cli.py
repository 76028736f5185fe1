"""The extractor's command line, shared by `python -m extract` and the daily job
(`python -m extract.job`): flags, the run (API or bulk files), its summary, and what it did."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from extract.errors import ConfigError, UserError
from extract.kinds import parse_kinds
from extract.lock import run_lock
from extract.months import resolve_window
from extract.places import check_writable
from extract.progress import event, failure, json_logs, requested_format, setup_logging
from extract.redaction import redact
from extract.runner import Runner, UnitResult, log_plan, user_error
from extract.settings import DESTINATIONS, Settings, load_settings
from extract.sources.registry import SOURCES

DESCRIPTION = """Fetch EPC certificates (and recommendations) into the bucket and the raw warehouse
tables. The live service is tracked by registration day (a run fetches what is new since the last
one, searching the last LOOKBACK_DAYS again); the v1 API by month. What is done is skipped without
a request."""


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line and exit 2 (a ConfigError), like every other input error."""

    def error(self, message: str) -> None:
        raise ConfigError(message)


def parse_args(
    argv: list[str] | None, prog: str = "python -m extract", description: str = DESCRIPTION
) -> argparse.Namespace:
    parser = Parser(prog=prog, description=description)
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
        "--with-recs",
        action="store_true",
        help="v1: also fetch each certificate's recommendations (the live service has them in the document)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print each kind × month and what is left to do; send no request",
    )
    parser.add_argument(
        "--reset",
        choices=("certs", "recs"),
        help="clear the window's checkpoints of that part first, so that all of it is fetched again",
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        help="KEY=VALUE settings file (python-dotenv rules); its values win over the environment",
    )
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


def settings_of(args: argparse.Namespace) -> Settings:
    return load_settings(args.env_file, args.destination, source=args.source, sources=SOURCES)


@dataclass
class Extraction:
    """What one extractor run did, for the summary and the job's audit."""

    source: str
    kinds: list[str]
    window: str  # `YYYY-MM..YYYY-MM`, or the bulk files
    requests: dict[str, int] = field(default_factory=dict)  # sent to the API, by URL path
    certificates_new: int = 0  # certificate documents fetched (API) or loaded (bulk files)
    certificates_pending: int = 0  # listed by search but not served yet: searched for again next run
    lines_rejected: int = 0  # malformed lines of bulk files skipped (at most BULK_MAX_REJECTED a member)
    rows_landed: dict[str, int] = field(default_factory=dict)  # by raw table

    @property
    def requests_sent(self) -> int:
        return sum(self.requests.values())


def extract(args: argparse.Namespace, settings: Settings) -> Extraction | None:
    """Runs the extractor as the flags say and prints its summary; None for `--dry-run`. Raises
    UserError."""
    if args.bulk is not None:
        given = {"--kinds": args.kinds is not None, "--start": args.start, "--end": args.end,
                 "--with-recs": args.with_recs, "--reset": args.reset}  # fmt: skip
        if ignored := [flag for flag, value in given.items() if value]:
            event(f"warning: {', '.join(ignored)} do not apply to --bulk (a file holds what it holds)")
        return run_bulk(settings, args.bulk, args.dry_run)
    source = SOURCES[settings.source]
    if args.with_recs and not source.recommendations_apart:
        event(f"warning: --with-recs does not apply to --source {source.name}: its recommendations come "
              "inside each certificate's document, always fetched")  # fmt: skip
    kinds = parse_kinds(args.kinds, settings.source, source.kinds)
    months = resolve_window(args.start, args.end, settings.start_year, settings.end_year)
    runner = Runner(settings, kinds, months, with_recs=args.with_recs)
    if args.dry_run:
        log_plan(runner.plan())
        return None
    runner.source.check_credentials()
    if args.reset:
        cleared = runner.reset(args.reset)
        event(f"reset: cleared {cleared} {args.reset} checkpoints", cleared=cleared)
    results = runner.run()
    print_summary(settings, runner, results)
    landed: Counter[str] = Counter()
    for result in results:
        landed.update(result.tables)
    return Extraction(
        settings.source,
        [k.name for k in kinds],
        f"{months[0]}..{months[-1]}",
        runner.requests_sent(),
        certificates_new=sum(r.rows for r in results if r.unit.part == "certs" and r.state == "fetched"),
        certificates_pending=sum(r.pending for r in results),
        rows_landed=dict(sorted(landed.items())),
    )


def run_bulk(settings: Settings, names: str, dry_run: bool = False) -> Extraction | None:
    """`--bulk`: the files, one after another; a finished file is skipped. With `--dry-run`, each
    file's state, after asking only for its size and date."""
    from extract.bulk.runner import BulkRunner

    source = SOURCES[settings.source](settings)
    source.check_credentials()
    files = [n.strip() for n in names.split(",") if n.strip()]
    runner = BulkRunner(settings, source.bulk(), files)
    if dry_run:
        for name, status in runner.plan():
            event(f"plan bulk {name}: {status}", file=name, status=status)
        return None
    results = runner.run()
    # the reference data a source's records need beside them (the live service's code tables),
    # refreshed when stale as on an API run: a warehouse filled from bulk files decodes alike
    references = Runner(settings, [], [])
    if references.units:
        references.run()
    print(f"{'file':<44}{'state':<9}{'rows':>11}{'rejected':>10}  tables")
    for r in results:
        tables = ", ".join(f"{t} {n}" for t, n in r.rows.items())
        print(f"{r.name:<44}{r.state:<9}{sum(r.rows.values()):>11}{r.rejected:>10}  {tables}")
    where = (
        settings.duckdb_path
        if settings.destination == "duckdb"
        else f"{settings.project_id}.{settings.dataset}"
    )
    print(f"warehouse: {where} (schema {settings.dataset})")
    print(f"state:  {runner.bucket.uri(f'state/{settings.dataset}/bulk/')}")
    landed: Counter[str] = Counter()
    for r in results:
        if r.state == "loaded":
            landed.update(r.rows)
    return Extraction(
        settings.source, [], ",".join(files), references.requests_sent(),
        certificates_new=sum(landed.values()), lines_rejected=sum(r.rejected for r in results),
        rows_landed=dict(landed),
    )  # fmt: skip


def print_summary(settings: Settings, runner: Runner, results: list[UnitResult]) -> None:
    """Rows per kind and month, the requests sent, and where the files and tables are."""
    print(f"{'kind':<14}{'month':<9}{'part':<7}{'rows':>9}  state")
    for r in results:
        print(f"{r.unit.folder:<14}{r.unit.month or '-'!s:<9}{r.unit.part:<7}{r.rows:>9}  {r.state}")
    fetched = sum(r.rows for r in results if r.state == "fetched")
    print(
        f"fetched {fetched} rows in {sum(r.state == 'fetched' for r in results)} units; "
        f"{sum(r.state == 'skipped' for r in results)} units already done; "
        f"{sum(runner.requests_sent().values())} requests sent"
    )
    if pending := sum(r.pending for r in results):
        print(f"pending: {pending} certificates listed by search, not served yet (searched again next run)")
    print(f"files:  {runner.bucket.uri('epc/json/')}")
    print(f"state:  {runner.bucket.uri(f'state/{settings.dataset}/')}")
    if settings.destination == "bigquery":
        print(f"bigquery: {settings.project_id}.{settings.dataset} (location {settings.region})")
    else:
        print(f"duckdb: {settings.duckdb_path} (schema {settings.dataset})")
    for table, count in runner.table_counts().items():
        print(f"  {settings.dataset}.{table}: {count} rows")


def owner(prog: str, argv: list[str] | None) -> str:
    """What a run lock says holds it: the command line (flags only; credentials are never flags)."""
    return " ".join([prog, *(sys.argv[1:] if argv is None else argv)])


def report(exc: UserError) -> int:
    """The one line a user error prints; its exit code."""
    failure(str(exc), exit_code=exc.exit_code)
    return exc.exit_code


def unexpected(exc: Exception) -> int:
    """A failure that is no user error (a bug): its traceback, credentials masked, then the error
    line (with `--log-format json`, one JSON object carrying the traceback); exit 1."""
    trace = redact(traceback.format_exc())
    if json_logs():
        failure(f"unexpected {type(exc).__name__}: {exc}", exit_code=1, traceback=trace)
    else:
        print(trace, file=sys.stderr, end="")
        failure(f"unexpected {type(exc).__name__}: {exc}", exit_code=1)
    return 1


def main(argv: list[str] | None = None) -> int:
    setup_logging(requested_format(sys.argv[1:] if argv is None else argv))
    try:
        args = parse_args(argv)
        setup_logging(args.log_format)
        settings = settings_of(args)
        if args.dry_run:
            extract(args, settings)
            return 0
        check_writable(settings)
        with run_lock(settings, owner("python -m extract", argv)):
            extract(args, settings)
        return 0
    except UserError as exc:
        return report(exc)
    except KeyboardInterrupt:
        failure("interrupted; what is not done yet is fetched again next run", exit_code=130)
        return 130
    except Exception as exc:  # a user error beneath a library's (a warehouse in use, refused)
        if translated := user_error(exc):
            return report(translated)
        return unexpected(exc)
