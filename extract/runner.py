"""Plans and runs kind × month × part units: skip what is done, fetch, land, load, checkpoint."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.pipeline.exceptions import PipelineStepFailed
from google.api_core.exceptions import Forbidden, Unauthorized
from google.auth.exceptions import GoogleAuthError

from extract.bucket import Bucket
from extract.checkpoints import Checkpoints, Ledger, Unit, Work
from extract.concurrency import Prefetcher
from extract.errors import ConcurrentRunError, ConfigError, CredentialsError, UserError
from extract.kinds import Kind
from extract.landing import TableFiles
from extract.months import Month, register_today
from extract.pipeline import Warehouse, build_warehouse
from extract.places import storage_error
from extract.progress import Progress, UnitStats, event
from extract.raw_tables import RawTable
from extract.settings import Settings
from extract.sources.base import Source
from extract.sources.registry import SOURCES

_LOCK_HOLDER = re.compile(r"PID (\d+)")  # DuckDB's "Conflicting lock is held in … (PID 123)"
_LATER_PART = re.compile(r"\d+\.jsonl\.gz")  # `{table}.{part}.jsonl.gz`, after the table's name


@dataclass
class UnitResult:
    unit: Unit
    state: str  # "fetched" or "skipped"
    rows: int
    pages: int = 0
    files: list[str] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)  # rows dlt loaded, by raw table
    pending: int = 0  # certificates listed by search but not fetched yet (retried next run)


class Runner:
    """Runs the extractor over `kinds` × `months` of the selected source, certificates and
    (optionally) recommendations."""

    def __init__(
        self,
        settings: Settings,
        kinds: list[Kind],
        months: list[Month],
        with_recs: bool = False,
        today: date | None = None,
    ) -> None:
        self.settings = settings
        self.today = today or register_today()
        self.yesterday = self.today - timedelta(days=1)  # the newest day the live service answers for
        self.current = Month.current(self.today)
        self.source: Source = SOURCES[settings.source](settings, self.today)
        self.units = self.source.units(kinds, months, with_recs)
        self.bucket = Bucket(settings.bucket_url)
        self.checkpoints = Checkpoints(self.bucket, settings.dataset)
        self.everything: set[str] = set()  # parts reset on this run: every key fetched again

    # --- planning -----------------------------------------------------------------------
    def status(self, unit: Unit) -> str:
        mark, work = self._plan(unit)
        if unit.by_day:
            rows = Ledger.read(mark, unit.month).rows
            if work is None:
                return f"done ({rows} rows)" if mark else "no day of it has passed yet"
            if mark is None:
                return f"pending: {len(work.days)} days to search"
            return f"{len(work.days)} days to search again, {rows} rows landed"
        if not self._closes(unit):
            return "current month: fetched on every run"
        if work is not None:
            return "pending"
        return "done (no data)" if mark["rows"] == 0 else f"done ({mark['rows']} rows)"

    def _closes(self, unit: Unit) -> bool:
        """Whether the unit gets a checkpoint once landed: not a month still filling up, unless
        its days are tracked one by one."""
        return unit.by_day or unit.month is None or unit.month < self.current

    def _plan(self, unit: Unit) -> tuple[dict[str, Any] | None, Work | None]:
        """The unit's checkpoint, and its work on this run (None: nothing to do)."""
        everything = unit.part in self.everything
        if unit.by_day:
            mark = self.checkpoints.get(unit)
            ledger = Ledger.read(mark, unit.month, self.checkpoints.get_pending(unit))
            days = ledger.to_search(unit.month.days(self.yesterday), self.settings.lookback_days)
            return mark, Work(ledger, tuple(days), everything) if days else None
        if not self._closes(unit):
            return None, Work(everything=everything)
        mark = self.checkpoints.get(unit)
        if mark and unit.refresh_days is not None:
            age = self.today - datetime.fromisoformat(mark["finished_at"]).date()
            mark = mark if age.days < unit.refresh_days else None
        return mark, None if mark else Work(everything=everything)

    def plan(self) -> list[tuple[Unit, str]]:
        return [(unit, self.status(unit)) for unit in self.units]

    def reset(self, part: str) -> int:
        """Clears the checkpoints of `part` in the window, so that this run fetches every key of it
        again, landed or not; returns how many there were."""
        self.everything.add(part)
        return sum(self.checkpoints.reset(u) for u in self.units if u.part == part)

    # --- running ------------------------------------------------------------------------
    def run(self) -> list[UnitResult]:
        self.source.open()
        warehouse = build_warehouse(self.settings, self.source.name)
        # a package left by a killed run is dropped: its unit is not done, so it is fetched again
        warehouse.pipeline.abort_packages()
        plans = {u: self._plan(u) for u in self.units}
        searches = {u: self.source.search(u, work) for u, (_, work) in plans.items() if work is not None}
        results = []
        with Prefetcher([u for u, s in searches.items() if s is not None], searches.__getitem__) as ahead:
            for unit in self.units:
                mark, work = plans[unit]
                if work is None:
                    done = mark or {}
                    rows, pages, files = done.get("rows", 0), done.get("pages", 0), done.get("files", [])
                    results.append(UnitResult(unit, "skipped", rows, pages, files))
                    continue
                results.append(self._run_unit(warehouse, unit, work, ahead))
        return results

    def requests_sent(self) -> dict[str, int]:
        """Requests sent to the API on this run (retries included), by URL path."""
        return self.source.requests_sent()

    def _run_unit(self, warehouse: Warehouse, unit: Unit, work: Work, ahead: Prefetcher) -> UnitResult:
        fetch = self.source.pages(unit, work, ahead, warehouse)
        # the total: the keys search found (live), else what the month held last time (v1)
        total = len(fetch.keys) or (warehouse.rows_in_month(unit.table.name, unit.month) if unit.month else 0)
        progress = Progress(str(unit), total or None)
        stats = UnitStats(on_page=lambda s: progress.page(s.pages, s.rows))
        if work.ledger is not None and fetch.keys:
            # recorded before fetching: a killed run's keys are fetched again into the same part
            self.checkpoints.write_pending(unit, work.part, frozenset(fetch.keys))
        pages = _peek(fetch.pages)
        tables: dict[str, int] = {}
        # nothing to load: no dlt run, and no file left from an earlier fetch of the same part
        files = (
            self._load(warehouse, unit, stats, pages, work.part, tables)
            if pages is not None
            else self._land({}, unit, work.part)
        )
        pending = 0
        if work.ledger is not None:
            work.ledger.record(list(work.days), self.yesterday, files, stats.rows, stats.pages, stats.missing)
            self.checkpoints.write_ledger(unit, work.ledger)
            pending = len(work.ledger.missing)
            note = f"{len(work.days)} days searched"
            note += f", {pending} listed but not served yet (pending)" if pending else ""
        elif self._closes(unit):
            self.checkpoints.mark_done(unit, stats.rows, stats.pages, files)
            note = "checkpointed"
        else:
            note = "open month"
        progress.done(stats.pages, stats.rows, note)
        return UnitResult(unit, "fetched", stats.rows, stats.pages, files, tables, pending)

    def _load(
        self,
        warehouse: Warehouse,
        unit: Unit,
        stats: UnitStats,
        pages: Iterable[list[Any]],
        part: int,
        tables: dict[str, int],
    ) -> list[str]:
        """One dlt run for the unit; returns the files it landed in the bucket and counts the rows
        dlt loaded into `tables`."""
        files = TableFiles(self.settings.data_dir / "tmp")
        raw = {t.name: t for t in self.source.tables}
        try:
            source = self.source.resources(unit, stats, pages, warehouse.item_format, files.write)
            for each in source.resources.values():  # the change feed also merges into the kind tables
                warehouse.hint(each, raw[each.name])
            appends = self.source.appends(unit) and warehouse.rows_in_month(unit.table.name, unit.month) == 0
            if appends:
                # nothing of this month is loaded yet and keys are unique within the unit, so the
                # rows can be appended; a month partly loaded (by a killed run) merges instead
                source.resources[unit.table.name].apply_hints(write_disposition="append")
            info = warehouse.pipeline.run(source, loader_file_format=warehouse.loader_file_format)
            if appends and info.loads_ids:
                # a key may have arrived before in another month: its older rows go, as a merge
                # would have replaced them (killed before this, the next run merges instead)
                warehouse.drop_replaced(unit.table, info.loads_ids[-1])
            counts = warehouse.pipeline.last_trace.last_normalize_info.row_counts
            tables.update({name: n for name, n in counts.items() if name in raw})
            return self._land(files.close(), unit, part)
        except PipelineStepFailed as exc:
            raise user_error(exc) or exc from None
        finally:
            files.discard()

    def _land(self, finished: dict[str, Path], unit: Unit, part: int = 0) -> list[str]:
        """Moves the unit's finished NDJSON (by table) into the bucket as `part`, replacing an
        earlier fetch's, and removes the files of that part that got no rows this time. A unit's
        first part also clears later parts left from before a reset."""
        landed = []
        for table in self.source.landing_tables(unit):
            key = self.landing_key(unit, table, part)
            if table.name in finished:
                landed.append(self.bucket.put_file(finished[table.name], key))
            else:
                self.bucket.delete(key)
        if unit.by_day and part == 0:
            self._clear_later_parts(unit)
        return landed

    def _clear_later_parts(self, unit: Unit) -> None:
        """Removes the unit's `{table}.{part}.jsonl.gz` files: left from before a reset."""
        tables = {t.name for t in self.source.landing_tables(unit)}
        for key in self.bucket.list(f"epc/json/{unit.path}/"):
            table, _, rest = key.rsplit("/", 1)[-1].partition(".")
            if table in tables and _LATER_PART.fullmatch(rest):
                self.bucket.delete(key)

    def landing_key(self, unit: Unit, table: RawTable, part: int = 0) -> str:
        """`epc/json/{kind}/{YYYYMM}/{table}.jsonl.gz`, and `{table}.{part}.jsonl.gz` for the parts
        a unit tracked by day lands on later runs."""
        suffix = f".{part}" if part else ""
        return f"epc/json/{unit.path}/{table.name}{suffix}.jsonl.gz"

    # --- reporting ----------------------------------------------------------------------
    def table_counts(self) -> dict[str, int]:
        """Rows per raw table in the warehouse (tables not created yet are left out)."""
        warehouse = build_warehouse(self.settings, self.source.name)
        tables = dict.fromkeys(t.name for u in self.units for t in self.source.landing_tables(u))
        counts = {table: warehouse.query("select count(*) from {table}", table) for table in tables}
        return {table: int(found[0][0]) for table, found in counts.items() if found}


def _peek(pages: Iterable[list[Any]]) -> Iterator[list[Any]] | None:
    """The pages again, or None when there are none (an empty month needs no dlt run)."""
    remaining = iter(pages)
    first = next(remaining, None)
    return None if first is None else itertools.chain([first], remaining)


def user_error(exc: BaseException) -> UserError | None:
    """The user error dlt wrapped while running our resource, or the one a missing or refused
    warehouse credential, a place that cannot be written or a DuckDB file in use by another
    process means, if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, UserError):
            return exc
        if stored := storage_error(exc):
            return stored
        if isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower():
            holder = _LOCK_HOLDER.search(str(exc))
            return ConcurrentRunError(
                "the DuckDB file is in use by another process"
                + (f" (pid {holder.group(1)})" if holder else "")
                + ": wait for it to end (DUCKDB_PATH names the file)"
            )
        if isinstance(exc, (GoogleAuthError, Forbidden, Unauthorized)):
            return CredentialsError(
                f"Google Cloud refused or lacks credentials ({type(exc).__name__}): set "
                "GOOGLE_APPLICATION_CREDENTIALS to a service-account key file or run "
                "`gcloud auth application-default login`"
            )
        if isinstance(exc, ConfigFieldMissingException):
            return ConfigError(f"missing configuration for {exc.spec_name}: {', '.join(exc.fields)}")
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def log_plan(plan: list[tuple[Unit, str]]) -> None:
    for unit, status in plan:
        event(f"plan {unit}: {status}", unit=str(unit), status=status)
