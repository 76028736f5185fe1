"""dlt resources of the v1 source: a month's certificates from its search pages, or the
recommendations of the month's loaded certificates, as landing batches.

One `pipeline.run()` per unit makes each month its own atomic load, which is what lets the
runner mark it done only after its rows are committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dlt
import orjson
from dlt.extract.source import DltSource

from extract.checkpoints import Unit
from extract.concurrency import bounded_map
from extract.landing import Batch
from extract.pipeline import schema_name
from extract.progress import UnitStats
from extract.raw_tables import RawTable
from extract.sources.base import Landing
from extract.sources.odc.client import OdcApi, Row
from extract.sources.odc.tables import KEY, NAME


@dataclass(frozen=True)
class Parent:
    """The landing columns of a certificate, copied onto its recommendations."""

    key: str
    lodgement_date: str | None
    postcode: str | None
    uprn: str | None


PARENT_COLUMNS = (KEY, "lodgement_date", "postcode", "uprn")  # as landed, in Parent's order


def certificate_batch(table: RawTable, rows: Sequence[Row], extracted_at: datetime) -> Batch:
    """v1 certificate rows → landing batch keyed by `lmk_key`."""
    values = {
        KEY: [r["lmk-key"] for r in rows],
        "lodgement_date": [r.get("lodgement-date") or None for r in rows],
        "postcode": [r.get("postcode") or None for r in rows],
        "uprn": [r.get("uprn") or None for r in rows],
    }
    return Batch(table, values, {"payload": [orjson.dumps(r) for r in rows]}, extracted_at)


def recommendation_batch(
    table: RawTable, parent: Parent, rows: Sequence[Row], extracted_at: datetime
) -> Batch:
    """A certificate's v1 recommendation rows → landing batch, one row per recommendation."""
    n = len(rows)
    values = {
        KEY: [parent.key] * n,
        "lodgement_date": [parent.lodgement_date] * n,
        "postcode": [parent.postcode] * n,
        "uprn": [parent.uprn] * n,
    }
    return Batch(table, values, {"payload": [orjson.dumps(r) for r in rows]}, extracted_at)


@dlt.source(name=schema_name(NAME), max_table_nesting=0)
def odc_source(
    api: OdcApi,
    unit: Unit,
    stats: UnitStats,
    pages: Iterable[list[Any]],
    item_format: str = "arrow",
    max_concurrency: int = 8,
    landing: Landing | None = None,
) -> DltSource:
    """For `certs`, the certificates on the search `pages` of the unit's month; for `recs`, the
    recommendations of the certificates (`Parent`s) on `pages`. `landing` sees every batch as it
    passes, with its table, to write it to the bucket."""
    extracted_at = datetime.now(UTC)

    def emit(batch: Batch) -> Any:
        if landing:
            landing(unit.table.name, batch)
        return batch.to_arrow() if item_format == "arrow" else batch.to_dicts()

    def certificates() -> Iterator[Any]:
        seen: set[str] = set()  # the API may repeat a key across pages: keep its first row
        for page in pages:
            rows = [r for r in page if r["lmk-key"] not in seen and not seen.add(r["lmk-key"])]
            stats.add(len(rows))
            if rows:
                yield emit(certificate_batch(unit.table, rows, extracted_at))

    def recommendations() -> Iterator[Any]:
        for parents in pages:
            fetch = lambda p: (p, api.recommendations(unit.kind, p.key))  # noqa: E731
            for parent, rows in bounded_map(fetch, parents, max_concurrency):
                stats.add(len(rows))
                if rows:
                    yield emit(recommendation_batch(unit.table, parent, rows, extracted_at))

    # Certificates: delete-insert on the key, so rows already loaded for these keys are replaced.
    # A merge key rather than a primary key: keys are unique within a load already (`seen`), and
    # dlt's per-key de-duplication would sort every 3 KB payload again. Recommendations have no
    # key of their own: a certificate's set is replaced as a whole.
    return dlt.resource(
        certificates if unit.part == "certs" else recommendations,
        name=unit.table.name,
        write_disposition="merge",
        merge_key=KEY,
        columns=unit.table.dlt_columns(),
    )
