"""dlt source for the legacy v1 API: one kind × month × part (certificates or recommendations).

One `pipeline.run()` per month makes each month its own atomic load, which is what lets the
runner mark it done only after its rows are committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.extract.resource import DltResource

from extract.kinds import Kind
from extract.landing import Batch, Parent, certificate_batch, landing_columns, recommendation_batch
from extract.months import Month
from extract.odc_api import OdcApi


@dataclass
class UnitStats:
    """What one kind × month × part fetched; updated page by page."""

    pages: int = 0
    rows: int = 0
    on_page: Callable[[UnitStats], None] | None = field(default=None, repr=False)

    def add(self, rows: int) -> None:
        self.pages += 1
        self.rows += rows
        if self.on_page:
            self.on_page(self)


@dlt.source(name="epc_odc", max_table_nesting=0)
def odc_source(
    api: OdcApi,
    kind: Kind,
    month: Month,
    part: str,
    stats: UnitStats,
    pages: Iterable[list[dict[str, Any]]] | None = None,
    item_format: str = "arrow",
    parents: Sequence[Parent] = (),
    max_concurrency: int = 8,
    landing: Callable[[Batch], None] | None = None,
) -> DltResource:
    """Certificates lodged in `month` (`part="certs"`; their search `pages` when fetched ahead,
    else fetched here), or the recommendations of `parents`, the month's certificates already in
    the warehouse (`part="recs"`). `landing` sees every batch as it passes, to write it to the
    bucket where dlt does not stage there itself."""
    extracted_at = datetime.now(UTC)

    def emit(batch: Batch) -> Any:
        if landing:
            landing(batch)
        return batch.to_arrow() if item_format == "arrow" else batch.to_dicts()

    def certificates() -> Iterator[Any]:
        seen: set[str] = set()  # the API may repeat a key across pages: keep its first row
        for page in pages if pages is not None else api.search_pages(kind, month):
            rows = [r for r in page if r["lmk-key"] not in seen and not seen.add(r["lmk-key"])]
            stats.add(len(rows))
            if rows:
                yield emit(certificate_batch(rows, extracted_at))

    def recommendations() -> Iterator[Any]:
        for parent, rows in _bounded_map(
            lambda p: (p, api.recommendations(kind, p.key)), parents, max_concurrency
        ):
            stats.add(len(rows))
            if rows:
                yield emit(recommendation_batch(parent, rows, extracted_at))

    # delete-insert on the key: rows already loaded for these keys are replaced. A merge key
    # rather than a primary key, because keys are unique within a load already (see `seen`)
    # and dlt's per-key de-duplication would sort every 3 KB payload again.
    if part == "certs":
        return dlt.resource(
            certificates,
            name=kind.certificates_table,
            write_disposition="merge",
            merge_key="lmk_key",
            columns=landing_columns("lmk_key"),
        )
    # a certificate's recommendations are replaced as a set (they have no key of their own)
    return dlt.resource(
        recommendations,
        name=kind.recommendations_table,
        write_disposition="merge",
        merge_key="lmk_key",
        columns=landing_columns("lmk_key"),
    )


def _bounded_map(fn: Callable[[Any], Any], items: Sequence[Any], limit: int) -> Iterator[Any]:
    """`fn` over `items` on `limit` threads with at most `limit` calls in flight; results in
    completion order. dlt parallelises per resource, not per request, hence this pool."""
    pending: set[Future[Any]] = set()
    source = iter(items)
    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="epc-recs") as pool:
        try:
            while True:
                while len(pending) < limit and (item := next(source, None)) is not None:
                    pending.add(pool.submit(fn, item))
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()
