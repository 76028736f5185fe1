"""The live service's plan of work: kind × month × `certs` (search by registration day, then the
documents), then per month one `deltas` unit (the change feed)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dlt.extract.source import DltSource

from extract.bulk.origin import BulkOrigin
from extract.checkpoints import Unit
from extract.concurrency import Prefetcher
from extract.kinds import Kind
from extract.months import Month
from extract.pipeline import Warehouse
from extract.progress import UnitStats
from extract.raw_tables import RawTable
from extract.settings import Settings
from extract.sources.base import Landing
from extract.sources.mhclg.bulk import LiveOrigin
from extract.sources.mhclg.client import MhclgApi, Row
from extract.sources.mhclg.resources import Changes, mhclg_source
from extract.sources.mhclg.tables import (
    CODES,
    DELTAS,
    DOCUMENT_KINDS,
    KEY,
    NAME,
    REPORT_KINDS,
    SEARCH_ROW,
    SERVED_KINDS,
    TABLES,
    certificates,
    reports,
)


class MhclgSource:
    """MHCLG's "Get energy performance of buildings data" API, the only source of new certificates."""

    name = NAME
    kinds = SERVED_KINDS
    default_base_url = "https://api.get-energy-performance-data.communities.gov.uk"
    credential_names = ("EPC_API_TOKEN",)
    tables = TABLES

    def __init__(self, settings: Settings, today: date | None = None) -> None:
        self.settings = settings
        self.api: MhclgApi | None = None
        self.yesterday = (today or datetime.now(UTC).date()) - timedelta(days=1)

    def check_credentials(self) -> None:
        self.settings.require_token()

    def units(self, kinds: list[Kind], months: list[Month], with_recs: bool) -> list[Unit]:
        """Certificates of every kind and month, the month's change feed, then the code tables
        (refreshed when older than CODES_MAX_AGE_DAYS)."""
        codes = Unit(self.name, "codes", None, "codes", CODES, refresh_days=self.settings.codes_max_age_days)
        certs = [Unit(self.name, k.name, m, "certs", certificates(k), k) for k in kinds for m in months]
        return [*certs, *(Unit(self.name, "deltas", m, "deltas", DELTAS) for m in months), codes]

    def open(self) -> None:
        self.api = MhclgApi(self.settings)

    def window(self, month: Month) -> tuple[date, date] | None:
        """The month's dates the service will answer for: never today or later."""
        last = min(month.last_day, self.yesterday)
        return (month.first_day, last) if month.first_day <= last else None

    def search(self, unit: Unit) -> Iterator[list[Row]] | None:
        if unit.part != "certs":
            return None
        window = self.window(unit.month)
        return self.api.search_pages(unit.kind, *window) if window else iter(())

    def pages(self, unit: Unit, ahead: Prefetcher, warehouse: Warehouse) -> Iterable[Any]:
        if unit.part == "certs":
            return ahead.pages(unit)
        if unit.part == "codes":
            return [self.api.code_names()]
        window = self.window(unit.month)
        events = self.api.deltas(*window) if window else []
        if not events:
            return []
        changed = sorted({e["certificateNumber"] for e in events if e.get("eventType") != "removed"})
        return [Changes(events, self._search_rows(warehouse, changed))]

    def _search_rows(self, warehouse: Warehouse, numbers: list[str]) -> dict[str, bytes]:
        """The search rows already landed for `numbers`, which a document fetched on its own lacks."""
        if not numbers:
            return {}
        found: dict[str, bytes] = {}
        listed = ", ".join("'" + n.replace("'", "''") + "'" for n in numbers)
        for kind in DOCUMENT_KINDS:
            sql = (
                f"select {KEY}, {warehouse.json_text(SEARCH_ROW.name)} from {{table}} "
                f"where {KEY} in ({listed}) and {SEARCH_ROW.name} is not null"
            )
            rows = warehouse.query(sql, certificates(kind).name) or []
            found |= {number: text.encode() for number, text in rows if text}
        return found

    def resources(
        self, unit: Unit, stats: UnitStats, pages: Iterable[list[Row]], item_format: str, landing: Landing
    ) -> DltSource:
        return mhclg_source(self.api, unit, stats, pages, item_format, self.settings.max_concurrency, landing)

    def landing_tables(self, unit: Unit) -> tuple[RawTable, ...]:
        """A certificates unit lands its documents (and reports, for kinds that have them); a change
        feed's unit lands its events and the documents it fetched again, beside each other in the
        feed's month."""
        if unit.part == "certs":
            return (unit.table, reports(unit.kind)) if unit.kind in REPORT_KINDS else (unit.table,)
        if unit.part == "deltas":
            again = (*(certificates(k) for k in DOCUMENT_KINDS), *(reports(k) for k in REPORT_KINDS))
            return (unit.table, *again)
        return (unit.table,)

    def appends(self, unit: Unit) -> bool:
        return unit.part == "certs"

    def bulk(self) -> BulkOrigin:
        return LiveOrigin(self.settings)
