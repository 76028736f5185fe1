"""`python -m extract.job`: the daily job in one command. The extractor (the same flags and settings
as `python -m extract`), then `dbt build`, then `dbt source freshness` on the raw certificate
tables the run filled (the newest registration date: warn after 3 days, error after 7). Every run
writes one row to `pipeline_runs` in the raw dataset and the same record as JSON at
`{BUCKET}/runs/YYYY/MM/DD/{run_id}.json`, failed runs included; it exits 0 only when every step
succeeded (the extractor's exit code when it failed, 7 when dbt build failed, 8 when the data
is stale). The build is the daily one (views kept, data tests on the rows loaded since the last
successful build) unless it is FULL_TESTS_WEEKDAY, the run follows a `--reset`, or the dbt
project changed since the last successful build: then everything is built and tested."""

from __future__ import annotations

import argparse
import sys
import traceback
from contextlib import ExitStack

from extract.audit import RunRecord, last_successful_build, write_to_bucket, write_to_warehouse
from extract.cli import Extraction, extract, owner, parse_args, report, settings_of
from extract.dbt_steps import Dbt
from extract.errors import BuildError, StaleDataError, UserError
from extract.lock import run_lock
from extract.months import register_today
from extract.places import check_writable
from extract.progress import event, failure, json_logs, requested_format, setup_logging
from extract.redaction import redact
from extract.runner import user_error
from extract.settings import WEEKDAYS, Settings
from extract.sources.registry import SOURCES


def run_steps(args: argparse.Namespace, settings: Settings, record: RunRecord) -> None:
    """The extractor, dbt build and freshness, each filling `record`; raises the first failure."""
    dbt = Dbt(settings)  # a missing profile or project stops the job before any request
    extraction = extract(args, settings)
    if extraction is None:  # --dry-run: nothing ran
        return
    fill(record, extraction)
    record.tests_since, record.dbt_project_hash = tests_since(args, settings, record, dbt), dbt.fingerprint
    build = dbt.build(record.tests_since)
    record.dbt_status, record.dbt_failures = build.status, build.failures
    if build.status != "success":
        raise BuildError(build.error or "dbt build failed")
    freshness = dbt.freshness(fresh_tables(settings, extraction), settings.source)
    record.freshness_status, record.freshness = freshness.status, freshness.detail
    if freshness.status in ("error", "runtime error", "failed"):
        raise StaleDataError(freshness.error or "dbt source freshness failed")


def fill(record: RunRecord, extraction: Extraction) -> None:
    record.kinds, record.run_window = extraction.kinds, extraction.window
    record.requests_sent, record.requests_by_path = extraction.requests_sent, extraction.requests
    record.certificates_new, record.rows_landed = extraction.certificates_new, extraction.rows_landed
    record.certificates_pending = extraction.certificates_pending
    record.lines_rejected = extraction.lines_rejected


def tests_since(args: argparse.Namespace, settings: Settings, record: RunRecord, dbt: Dbt) -> str | None:
    """The daily build's load id: its data tests read the rows loaded since the start of the last
    run whose build succeeded, so that every row loaded since (a failed run's included) is tested
    and the cost follows the days since. None, the full build (views re-created, every test on
    every row): on FULL_TESTS_WEEKDAY, after a `--reset`, until a build has succeeded, and when
    the dbt project's files differ from those of the last successful build."""
    if settings.full_tests_weekday in ("daily", WEEKDAYS[record.run_date.weekday()]) or args.reset:
        return None
    last = last_successful_build(settings)
    if last is None or last[1] != dbt.fingerprint:
        return None
    return f"{last[0].timestamp():.6f}"


def fresh_tables(settings: Settings, extraction: Extraction) -> list[str]:
    """The certificate tables of the run's kinds whose freshness the source declares (the live
    service's: the retired v1 API gets no new data, so it has none to check)."""
    return SOURCES[settings.source].freshness_tables(extraction.kinds)


def main(argv: list[str] | None = None) -> int:
    setup_logging(requested_format(sys.argv[1:] if argv is None else argv))
    try:
        args = parse_args(argv, prog="python -m extract.job", description=__doc__)
        setup_logging(args.log_format)
        settings = settings_of(args)
    except UserError as exc:  # nowhere to write an audit record yet
        return report(exc)
    with ExitStack() as held:
        if not args.dry_run:
            try:  # held until the run record is written: nothing of another run interleaves
                check_writable(settings)
                held.enter_context(run_lock(settings, owner("python -m extract.job", argv)))
            except UserError as exc:  # no place to write, or another run's: no record of ours
                return report(exc)
        return run(args, settings)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """The steps, then the run record in the warehouse and the bucket; the exit code."""
    record = RunRecord.start(register_today())
    record.source = settings.source
    code, error, trace = 0, None, None
    try:
        run_steps(args, settings, record)
    except UserError as exc:
        code, error = exc.exit_code, redact(str(exc))
    except KeyboardInterrupt:
        code, error = 130, "interrupted; what is not done yet is fetched again next run"
    except Exception as exc:  # a user error beneath a library's (a warehouse in use), or a bug
        translated = user_error(exc)
        if translated is None:
            code, error = 1, redact(f"unexpected {type(exc).__name__}: {exc}")
            trace = redact(traceback.format_exc())
        else:
            code, error = translated.exit_code, str(translated)
    if args.dry_run:  # nothing ran: nothing to record
        if error:
            failure(error, exit_code=code)
        return code
    record.finish(error)
    for write in (write_to_warehouse, write_to_bucket):
        try:
            write(settings, record)
        except Exception as exc:  # the audit must not hide the run's own outcome
            failure(f"the run record could not be written ({type(exc).__name__})", exit_code=1)
            code = code or 1
    event(
        f"job {record.run_id}: {record.status}; {record.certificates_new} new certificates, "
        f"{record.requests_sent} requests, dbt {record.dbt_status}, freshness {record.freshness_status}",
        run_id=record.run_id,
        status=record.status,
    )
    if trace and not json_logs():
        print(trace, file=sys.stderr, end="")
    if error:
        failure(error, exit_code=code, **({"traceback": trace} if trace else {}))
    return code


if __name__ == "__main__":
    sys.exit(main())
