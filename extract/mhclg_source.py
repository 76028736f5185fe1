"""dlt source for the live MHCLG service, and the plan of its units.

Units: kind × month × `certs` (search summaries by registration date, then one
`/api/certificate` call per certificate for the full document), and per month one `deltas` unit
(the change feed: removed certificates and UPRN updates). The feed lands as a raw table; the
certificates whose UPRN changed are fetched again so that their current document is loaded.
Nothing is deleted from raw history: removals are applied downstream, in dbt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dlt
import orjson
from dlt.extract.source import DltSource

from extract.checkpoints import Unit
from extract.concurrency import Prefetcher, bounded_map
from extract.kinds import DELTAS, DISPLAY, DOMESTIC, NON_DOMESTIC, Kind
from extract.landing import Batch, document_batch, landing_columns
from extract.mhclg_api import MhclgApi, Row
from extract.months import Month
from extract.pipeline import Warehouse
from extract.progress import UnitStats
from extract.settings import Settings

KEY = "certificate_number"
CERTIFICATE_EXTRA = ("schema_type", "related_certificate_number")
DELTA_EXTRA = ("event_type", "event_timestamp")
DOCUMENT_KINDS = (DOMESTIC, NON_DOMESTIC, DISPLAY)  # the kinds whose documents a change refetches


def kind_of(document: Row) -> Kind:
    """The kind of a certificate from its document. DECs are lodged under the CEPC schemas
    (`CEPC-8.0.0` …), so the schema type alone cannot tell display from non-domestic: the document's
    `assessment_type` (`RdSAP`, `SAP`, `CEPC`, `DEC`, `CEPC-RR`, `DEC-RR`) can, and failing that its
    `report_type` (1 and 2 are a DEC and its report under a CEPC schema)."""
    assessment = str(document.get("assessment_type") or "").upper()
    if not assessment:
        schema = str(document.get("schema_type") or "").upper()
        if not schema.startswith("CEPC") and "DEC" not in schema:
            return DOMESTIC
        dec = "DEC" in schema or str(document.get("report_type")) in ("1", "2")
        return DISPLAY if dec else NON_DOMESTIC
    if assessment.startswith("DEC"):
        return DISPLAY
    return NON_DOMESTIC if assessment.startswith("CEPC") else DOMESTIC


def summary_of(number: str, document: Row) -> Row:
    """The search summary of a document fetched on its own (after a UPRN change), with the fields
    that `document_batch` lifts, as `/api/{kind}/search` would give them."""
    address = document.get("address") if isinstance(document.get("address"), dict) else document
    summary = {
        "certificateNumber": number,
        "registrationDate": document.get("registration_date") or document.get("date_of_registration"),
        "postcode": address.get("postcode"),
        "uprn": document.get("uprn"),
        "schemaType": document.get("schema_type") or document.get("schema_version_original"),
    }
    if kind_of(document) != DOMESTIC:  # only non-domestic and display search rows carry `relatedRrn`
        summary["relatedRrn"] = document.get("related_certificate_number")
    return summary


def delta_batch(events: list[Row], extracted_at: datetime) -> Batch:
    """Change-feed events → landing batch; `lodgement_date` is the event's date."""
    return Batch(
        key=KEY,
        keys=[e["certificateNumber"] for e in events],
        dates=[(e.get("timestamp") or "")[:10] or None for e in events],
        postcodes=[None] * len(events),
        uprns=[None] * len(events),
        payloads=[orjson.dumps(e) for e in events],
        extracted_at=extracted_at,
        extra={
            "event_type": [e.get("eventType") for e in events],
            "event_timestamp": [e.get("timestamp") for e in events],
        },
    )


@dlt.source(name="epc_mhclg", max_table_nesting=0)
def mhclg_source(
    api: MhclgApi,
    unit: Unit,
    stats: UnitStats,
    pages: Iterable[list[Row]],
    item_format: str = "arrow",
    max_concurrency: int = 8,
    landing: Callable[[str, Batch], None] | None = None,
) -> list[Any]:
    """For `certs`, the full documents of the certificates on the search `pages`; for `deltas`,
    the events on `pages`, plus the current documents of the certificates whose UPRN changed.
    `landing` sees every batch as it passes, with its table, to write it to the bucket."""
    extracted_at = datetime.now(UTC)

    def emit(batch: Batch, table: str = unit.table) -> Any:
        if landing:
            landing(table, batch)
        return batch.to_arrow() if item_format == "arrow" else batch.to_dicts()

    def fetch(summary: Row) -> tuple[Row, Row | None]:
        return summary, api.certificate(summary["certificateNumber"])

    def documents(summary_pages: Iterable[list[Row]]) -> Iterator[tuple[list[Row], list[Row]]]:
        seen: set[str] = set()  # paging inside a busy day can repeat a certificate
        for page in summary_pages:
            fresh = [
                s for s in page if s["certificateNumber"] not in seen and not seen.add(s["certificateNumber"])
            ]
            pairs = [(s, d) for s, d in bounded_map(fetch, fresh, max_concurrency) if d is not None]
            stats.add(len(pairs))
            if pairs:
                yield [s for s, _ in pairs], [d for _, d in pairs]

    def certificates() -> Iterator[Any]:
        for summaries, docs in documents(pages):
            yield emit(document_batch(summaries, docs, extracted_at))

    if unit.part == "certs":
        return [
            dlt.resource(
                certificates,
                name=unit.table,
                write_disposition="merge",
                merge_key=KEY,
                columns=landing_columns(KEY, CERTIFICATE_EXTRA),
            )
        ]

    events = [event for page in pages for event in page]
    changed = sorted({e["certificateNumber"] for e in events if e.get("eventType") != "removed"})
    current = [
        (n, d) for n, d in bounded_map(lambda n: (n, api.certificate(n)), changed, max_concurrency) if d
    ]

    def deltas() -> Iterator[Any]:
        stats.add(len(events))
        if events:
            yield emit(delta_batch(events, extracted_at))

    resources = [
        dlt.resource(
            deltas,
            name=unit.table,
            write_disposition="merge",
            primary_key=[KEY, *DELTA_EXTRA],
            columns=landing_columns(KEY, DELTA_EXTRA),
        )
    ]
    for kind in DOCUMENT_KINDS:  # the current documents of changed certificates
        mine = [(summary_of(n, d), d) for n, d in current if kind_of(d) == kind]
        if mine:
            table = kind.table("mhclg", "certs")
            batch = document_batch([s for s, _ in mine], [d for _, d in mine], extracted_at)
            resources.append(
                dlt.resource(
                    [emit(batch, table)],
                    name=table,
                    write_disposition="merge",
                    merge_key=KEY,
                    columns=landing_columns(KEY, CERTIFICATE_EXTRA),
                )
            )
    return resources


class MhclgPlan:
    """What the runner needs to know of the live source."""

    name = "mhclg"
    key = KEY

    def __init__(self, settings: Settings, today: date | None = None) -> None:
        self.settings = settings
        self.api: MhclgApi | None = None
        self.yesterday = (today or datetime.now(UTC).date()) - timedelta(days=1)

    def units(self, kinds: list[Kind], months: list[Month], with_recs: bool) -> list[Unit]:
        """Certificates of every kind and month, then the month's change feed."""
        certs = [Unit(self.name, k, m, "certs") for k in kinds for m in months]
        return certs + [Unit(self.name, DELTAS, m, "deltas") for m in months]

    def open(self) -> None:
        self.api = MhclgApi(self.settings)

    def window(self, month: Month) -> tuple[date, date] | None:
        """The month's dates the service will answer for: never today or later."""
        last = min(month.last_day, self.yesterday)
        return (month.first_day, last) if month.first_day <= last else None

    def search(self, unit: Unit) -> Iterator[list[Row]] | None:
        window = self.window(unit.month)
        if unit.part != "certs":
            return None
        return self.api.search_pages(unit.kind, *window) if window else iter(())

    def pages(self, unit: Unit, warehouse: Warehouse, ahead: Prefetcher) -> Iterable[list[Row]]:
        if unit.part == "certs":
            return ahead.pages(unit)
        window = self.window(unit.month)
        events = self.api.deltas(*window) if window else []
        return [events] if events else []

    def source(
        self,
        unit: Unit,
        stats: UnitStats,
        pages: Iterable[list[Row]],
        warehouse: Warehouse,
        landing: Callable[[str, Batch], None],
    ) -> DltSource:
        return mhclg_source(
            self.api, unit, stats, pages, warehouse.item_format, self.settings.max_concurrency, landing
        )

    def landing_tables(self, unit: Unit) -> tuple[str, ...]:
        """The raw tables whose rows the unit lands in the bucket: a change feed's unit lands its
        events and the documents it fetched again, beside each other in the feed's month."""
        if unit.part != "deltas":
            return (unit.table,)
        return (unit.table, *(kind.table(self.name, "certs") for kind in DOCUMENT_KINDS))

    def cluster(self, unit: Unit) -> tuple[str, ...]:
        return (KEY, *unit.kind.cluster_extra) if unit.part == "certs" else (KEY,)
