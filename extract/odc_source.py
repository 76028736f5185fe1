"""dlt source for the legacy v1 API, and the plan of its units (kind × month × certs | recs).

One `pipeline.run()` per unit makes each month its own atomic load, which is what lets the
runner mark it done only after its rows are committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.extract.resource import DltResource

from extract.checkpoints import Unit
from extract.concurrency import Prefetcher, bounded_map
from extract.kinds import Kind
from extract.landing import Batch, Parent, certificate_batch, landing_columns, recommendation_batch
from extract.months import Month
from extract.odc_api import OdcApi
from extract.pipeline import Warehouse
from extract.progress import UnitStats
from extract.settings import Settings

KEY = "lmk_key"


@dlt.source(name="epc_odc", max_table_nesting=0)
def odc_source(
    api: OdcApi,
    unit: Unit,
    stats: UnitStats,
    pages: Iterable[list[Any]],
    item_format: str = "arrow",
    max_concurrency: int = 8,
    landing: Callable[[str, Batch], None] | None = None,
) -> DltResource:
    """For `certs`, the certificates on the search `pages` of the unit's month; for `recs`, the
    recommendations of the certificates (`Parent`s) on `pages`. `landing` sees every batch as it
    passes, with its table, to write it to the bucket."""
    extracted_at = datetime.now(UTC)

    def emit(batch: Batch) -> Any:
        if landing:
            landing(unit.table, batch)
        return batch.to_arrow() if item_format == "arrow" else batch.to_dicts()

    def certificates() -> Iterator[Any]:
        seen: set[str] = set()  # the API may repeat a key across pages: keep its first row
        for page in pages:
            rows = [r for r in page if r["lmk-key"] not in seen and not seen.add(r["lmk-key"])]
            stats.add(len(rows))
            if rows:
                yield emit(certificate_batch(rows, extracted_at))

    def recommendations() -> Iterator[Any]:
        for parents in pages:
            fetch = lambda p: (p, api.recommendations(unit.kind, p.key))  # noqa: E731
            for parent, rows in bounded_map(fetch, parents, max_concurrency):
                stats.add(len(rows))
                if rows:
                    yield emit(recommendation_batch(parent, rows, extracted_at))

    # Certificates: delete-insert on the key, so rows already loaded for these keys are replaced.
    # A merge key rather than a primary key: keys are unique within a load already (`seen`), and
    # dlt's per-key de-duplication would sort every 3 KB payload again. Recommendations have no
    # key of their own: a certificate's set is replaced as a whole.
    return dlt.resource(
        certificates if unit.part == "certs" else recommendations,
        name=unit.table,
        write_disposition="merge",
        merge_key=KEY,
        columns=landing_columns(KEY),
    )


class OdcPlan:
    """What the runner needs to know of the v1 source."""

    name = "odc"
    key = KEY

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.api: OdcApi | None = None

    def units(self, kinds: list[Kind], months: list[Month], with_recs: bool) -> list[Unit]:
        parts = ("certs", "recs") if with_recs else ("certs",)
        return [Unit(self.name, k, m, p) for k in kinds for m in months for p in parts]

    def open(self) -> None:
        self.api = OdcApi(self.settings)

    def search(self, unit: Unit) -> Iterator[list[Any]] | None:
        """The unit's search pages, fetched ahead by the runner; None for units without search."""
        return self.api.search_pages(unit.kind, unit.month) if unit.part == "certs" else None

    def pages(self, unit: Unit, warehouse: Warehouse, ahead: Prefetcher) -> Iterable[list[Any]]:
        if unit.part == "certs":
            return ahead.pages(unit)
        rows = warehouse.query(  # recommendations are fetched for the month's loaded certificates
            "select lmk_key, cast(lodgement_date as string), postcode, uprn from {table} "
            f"where {warehouse.month_filter(unit.month)} order by lmk_key",
            unit.kind.table(self.name, "certs"),
        )
        return [[Parent(*row) for row in rows]] if rows else []

    def source(
        self,
        unit: Unit,
        stats: UnitStats,
        pages: Iterable[list[Any]],
        warehouse: Warehouse,
        landing: Callable[[str, Batch], None],
    ) -> Any:
        return odc_source(
            self.api, unit, stats, pages, warehouse.item_format, self.settings.max_concurrency, landing
        )

    def landing_tables(self, unit: Unit) -> tuple[str, ...]:
        """The raw tables whose rows the unit lands in the bucket."""
        return (unit.table,)

    def cluster(self, unit: Unit) -> tuple[str, ...]:
        return (KEY, *unit.kind.cluster_extra) if unit.part == "certs" else (KEY,)
