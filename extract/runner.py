"""Plans and runs kind × month × part units: skip what is done, fetch, land, load, checkpoint."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.pipeline.exceptions import PipelineStepFailed
from google.api_core.exceptions import Forbidden, Unauthorized
from google.auth.exceptions import GoogleAuthError

from extract.bucket import Bucket
from extract.checkpoints import Checkpoints, Unit
from extract.concurrency import Prefetcher
from extract.errors import ConfigError, CredentialsError, UserError
from extract.kinds import Kind
from extract.landing import TableFiles
from extract.months import Month
from extract.pipeline import Warehouse, build_warehouse
from extract.progress import Progress, UnitStats, event
from extract.raw_tables import RawTable
from extract.settings import Settings
from extract.sources.base import Source
from extract.sources.registry import SOURCES


@dataclass
class UnitResult:
    unit: Unit
    state: str  # "fetched" or "skipped"
    rows: int
    pages: int = 0
    files: list[str] = field(default_factory=list)


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
        self.today = today or datetime.now(UTC).date()
        self.current = Month.current(self.today)
        self.source: Source = SOURCES[settings.source](settings, today)
        self.units = self.source.units(kinds, months, with_recs)
        self.bucket = Bucket(settings.bucket_url)
        self.checkpoints = Checkpoints(self.bucket, settings.dataset)

    # --- planning -----------------------------------------------------------------------
    def status(self, unit: Unit) -> str:
        if not self._closes(unit):
            return "current month: fetched on every run"
        done = self._done(unit)
        if done is None:
            return "pending"
        return "done (no data)" if done["rows"] == 0 else f"done ({done['rows']} rows)"

    def _closes(self, unit: Unit) -> bool:
        """Whether the unit gets a checkpoint once landed: not the month still filling up."""
        return unit.month is None or unit.month < self.current

    def _done(self, unit: Unit) -> dict[str, Any] | None:
        """The unit's checkpoint, if it counts: a unit to refresh counts while it is fresh."""
        if not self._closes(unit):
            return None
        mark = self.checkpoints.get(unit)
        if mark and unit.refresh_days is not None:
            age = self.today - datetime.fromisoformat(mark["finished_at"]).date()
            return mark if age.days < unit.refresh_days else None
        return mark

    def plan(self) -> list[tuple[Unit, str]]:
        return [(unit, self.status(unit)) for unit in self.units]

    def reset(self, part: str) -> int:
        """Clears the checkpoints of `part` in the window; returns how many there were."""
        return sum(self.checkpoints.reset(u) for u in self.units if u.part == part)

    # --- running ------------------------------------------------------------------------
    def run(self) -> list[UnitResult]:
        self.source.open()
        warehouse = build_warehouse(self.settings, self.source.name)
        # a package left by a killed run is dropped: its month is not done, so it is fetched again
        warehouse.pipeline.abort_packages()
        done = {u: self._done(u) for u in self.units}
        searches = {u: self.source.search(u) for u in self.units if done[u] is None}
        results = []
        with Prefetcher([u for u, s in searches.items() if s is not None], searches.__getitem__) as ahead:
            for unit in self.units:
                if (mark := done[unit]) is not None:
                    results.append(UnitResult(unit, "skipped", mark["rows"], mark["pages"], mark["files"]))
                    continue
                results.append(self._run_unit(warehouse, unit, ahead))
        return results

    def _run_unit(self, warehouse: Warehouse, unit: Unit, ahead: Prefetcher) -> UnitResult:
        progress = Progress(str(unit))
        stats = UnitStats(on_page=lambda s: progress.page(s.pages, s.rows))
        pages = _peek(self.source.pages(unit, ahead, warehouse))
        # nothing to load: no dlt run, and no file left from an earlier fetch
        files = self._load(warehouse, unit, stats, pages) if pages is not None else self._land({}, unit)
        if self._closes(unit):
            self.checkpoints.mark_done(unit, stats.rows, stats.pages, files)
        progress.done(stats.pages, stats.rows, "checkpointed" if self._closes(unit) else "open month")
        return UnitResult(unit, "fetched", stats.rows, stats.pages, files)

    def _load(
        self, warehouse: Warehouse, unit: Unit, stats: UnitStats, pages: Iterable[list[Any]]
    ) -> list[str]:
        """One dlt run for the unit; returns the files it landed in the bucket."""
        files = TableFiles(self.settings.data_dir / "tmp")
        tables = {t.name: t for t in self.source.tables}
        try:
            source = self.source.resources(unit, stats, pages, warehouse.item_format, files.write)
            for each in source.resources.values():  # the change feed also merges into the kind tables
                warehouse.hint(each, tables[each.name])
            if self.source.appends(unit) and warehouse.rows_in_month(unit.table.name, unit.month) == 0:
                # nothing of this month is loaded yet and keys are unique within the unit, so the
                # rows can be appended; a month partly loaded (by a killed run) merges instead
                source.resources[unit.table.name].apply_hints(write_disposition="append")
            warehouse.pipeline.run(source, loader_file_format=warehouse.loader_file_format)
            return self._land(files.close(), unit)
        except PipelineStepFailed as exc:
            raise _user_error(exc) or exc from None
        finally:
            files.discard()

    def _land(self, finished: dict[str, Path], unit: Unit) -> list[str]:
        """Moves the unit's finished NDJSON (by table) into the bucket, replacing an earlier
        fetch's, and removes the files of its tables that got no rows this time."""
        landed = []
        for table in self.source.landing_tables(unit):
            key = self.landing_key(unit, table)
            if table.name in finished:
                landed.append(self.bucket.put_file(finished[table.name], key))
            else:
                self.bucket.delete(key)
        return landed

    def landing_key(self, unit: Unit, table: RawTable) -> str:
        return f"epc/json/{unit.path}/{table.name}.jsonl.gz"

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


def _user_error(exc: BaseException) -> UserError | None:
    """The user error dlt wrapped while running our resource, or the one a missing or refused
    warehouse credential means, if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, UserError):
            return exc
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
