"""Plans and runs kind × month × part units: skip what is done, fetch, land, load, checkpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.pipeline.exceptions import PipelineStepFailed

from extract.bucket import Bucket
from extract.checkpoints import Checkpoints, Unit
from extract.errors import UserError
from extract.kinds import Kind
from extract.landing import NdjsonGzipWriter, Parent
from extract.months import Month
from extract.odc_api import OdcApi
from extract.odc_source import UnitStats, odc_source
from extract.pipeline import Warehouse, build_warehouse
from extract.progress import Progress, event
from extract.settings import Settings

SOURCE = "odc"


@dataclass
class UnitResult:
    unit: Unit
    state: str  # "fetched" or "skipped"
    rows: int
    pages: int = 0
    files: list[str] = field(default_factory=list)


class Runner:
    """Runs the extractor over `kinds` × `months`, certificates and (optionally) recommendations."""

    def __init__(
        self,
        settings: Settings,
        kinds: list[Kind],
        months: list[Month],
        with_recs: bool = False,
        today: date | None = None,
    ) -> None:
        self.settings = settings
        self.current = Month.current(today)
        parts = ("certs", "recs") if with_recs else ("certs",)
        self.units = [Unit(SOURCE, k, m, p) for k in kinds for m in months for p in parts]
        self.bucket = Bucket(settings.bucket_url)
        self.checkpoints = Checkpoints(self.bucket, settings.dataset)

    # --- planning -----------------------------------------------------------------------
    def status(self, unit: Unit) -> str:
        if unit.month >= self.current:
            return "current month: fetched on every run"
        done = self.checkpoints.get(unit)
        if done is None:
            return "pending"
        return "done (no data)" if done["rows"] == 0 else f"done ({done['rows']} rows)"

    def plan(self) -> list[tuple[Unit, str]]:
        return [(unit, self.status(unit)) for unit in self.units]

    def reset(self, part: str) -> int:
        """Clears the checkpoints of `part` in the window; returns how many there were."""
        return sum(self.checkpoints.reset(u) for u in self.units if u.part == part)

    # --- running ------------------------------------------------------------------------
    def run(self) -> list[UnitResult]:
        api = OdcApi(self.settings)
        warehouse = build_warehouse(self.settings, SOURCE)
        # a package left by a killed run is dropped: its month is not done, so it is fetched again
        warehouse.pipeline.abort_packages()
        results = []
        for unit in self.units:
            done = self.checkpoints.get(unit) if unit.month < self.current else None
            if done is not None:
                results.append(UnitResult(unit, "skipped", done["rows"], done["pages"], done["files"]))
                continue
            results.append(self._run_unit(api, warehouse, unit))
        return results

    def _run_unit(self, api: OdcApi, warehouse: Warehouse, unit: Unit) -> UnitResult:
        progress = Progress(str(unit))
        stats = UnitStats(on_page=lambda s: progress.page(s.pages, s.rows))
        parents = self._parents(warehouse, unit) if unit.part == "recs" else []
        writer = None
        if not warehouse.stages_to_bucket:  # dlt's duckdb destination cannot stage: land it here
            writer = NdjsonGzipWriter(self.settings.data_dir / "tmp")
        source = odc_source(
            api,
            unit.kind,
            unit.month,
            unit.part,
            stats,
            item_format=warehouse.item_format,
            parents=parents,
            max_concurrency=self.settings.max_concurrency,
            landing=writer.write_batch if writer else None,
        )
        try:
            warehouse.pipeline.run(source, loader_file_format=warehouse.loader_file_format)
            files = self._land(writer, unit) if writer else []
        except PipelineStepFailed as exc:
            raise _user_error(exc) or exc from None
        finally:
            if writer:
                writer.discard()
        if unit.month < self.current:
            self.checkpoints.mark_done(unit, stats.rows, stats.pages, files)
        progress.done(stats.pages, stats.rows, "checkpointed" if unit.month < self.current else "open month")
        return UnitResult(unit, "fetched", stats.rows, stats.pages, files)

    def _land(self, writer: NdjsonGzipWriter, unit: Unit) -> list[str]:
        """Moves the unit's finished NDJSON into the bucket, replacing an earlier fetch."""
        key = self.landing_key(unit)
        path = writer.close()
        if writer.rows == 0:
            self.bucket.delete(key)
            return []
        return [self.bucket.put_file(path, key)]

    def landing_key(self, unit: Unit) -> str:
        table = unit.kind.certificates_table if unit.part == "certs" else unit.kind.recommendations_table
        return f"epc/json/{unit.kind.name}/{unit.month.compact}/{table}.jsonl.gz"

    def _parents(self, warehouse: Warehouse, unit: Unit) -> list[Parent]:
        """The month's certificates as loaded: their recommendations are fetched by key."""
        pipeline = warehouse.pipeline
        if not pipeline.default_schema_name:
            return []
        first, last = unit.month.first_day.isoformat(), unit.month.last_day.isoformat()
        with pipeline.sql_client() as client:
            table = client.make_qualified_table_name(unit.kind.certificates_table)
            try:
                rows = client.execute_sql(
                    f"select lmk_key, cast(lodgement_date as string), postcode, uprn from {table} "
                    f"where lodgement_date between date '{first}' and date '{last}' order by lmk_key"
                )
            except DatabaseUndefinedRelation:
                return []
        return [Parent(*row) for row in rows or []]

    # --- reporting ----------------------------------------------------------------------
    def table_counts(self) -> dict[str, int]:
        """Rows per raw table in the warehouse (tables not created yet are left out)."""
        warehouse = build_warehouse(self.settings, SOURCE)
        tables = dict.fromkeys(
            t for u in self.units for t in (u.kind.certificates_table, u.kind.recommendations_table)
        )
        counts = {}
        if not warehouse.pipeline.default_schema_name:
            return counts
        with warehouse.pipeline.sql_client() as client:
            for table in tables:
                try:
                    rows = client.execute_sql(
                        f"select count(*) from {client.make_qualified_table_name(table)}"
                    )
                except DatabaseUndefinedRelation:
                    continue
                counts[table] = int(rows[0][0])
        return counts


def _user_error(exc: BaseException) -> UserError | None:
    """The user error dlt wrapped while running our resource, if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, UserError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def log_plan(plan: list[tuple[Unit, str]]) -> None:
    for unit, status in plan:
        event(f"plan {unit}: {status}", unit=str(unit), status=status)
