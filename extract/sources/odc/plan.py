"""The v1 source's plan of work: kind × month × `certs` (search pages) and, with `--with-recs`,
`recs` (one request per certificate of the month, read back from the warehouse)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from dlt.extract.source import DltSource

from extract.bulk.origin import BulkOrigin
from extract.checkpoints import Unit, Work
from extract.concurrency import Prefetcher
from extract.kinds import Kind
from extract.months import Month
from extract.pipeline import Warehouse
from extract.progress import UnitStats
from extract.raw_tables import RawTable
from extract.settings import Settings
from extract.sources.base import Fetch, Landing
from extract.sources.odc.bulk import V1Origin
from extract.sources.odc.client import OdcApi
from extract.sources.odc.resources import PARENT_COLUMNS, Parent, odc_source
from extract.sources.odc.tables import NAME, SERVED_KINDS, TABLES, certificates, recommendations


class OdcSource:
    """The retired v1 API (epc.opendatacommunities.org) and whatever serves its contract."""

    name = NAME
    kinds = SERVED_KINDS
    default_base_url = "https://epc.opendatacommunities.org/api/v1"
    recommendations_apart = True  # recommendations are fetched per certificate, with --with-recs
    credential_names = ("EPC_EMAIL", "EPC_API_KEY")
    tables = TABLES

    def __init__(self, settings: Settings, today: date | None = None) -> None:
        self.settings = settings
        self.api: OdcApi | None = None

    def check_credentials(self) -> None:
        self.settings.require_credentials()

    def units(self, kinds: list[Kind], months: list[Month], with_recs: bool) -> list[Unit]:
        parts = {"certs": certificates, "recs": recommendations}
        chosen = ("certs", "recs") if with_recs else ("certs",)
        return [Unit(self.name, k.name, m, p, parts[p](k), k) for k in kinds for m in months for p in chosen]

    def open(self) -> None:
        self.api = OdcApi(self.settings)

    def search(self, unit: Unit, work: Work) -> Iterator[list[Any]] | None:
        return self.api.search_pages(unit.kind, unit.month) if unit.part == "certs" else None

    def pages(self, unit: Unit, work: Work, ahead: Prefetcher, warehouse: Warehouse) -> Fetch:
        if unit.part == "certs":
            return Fetch(ahead.pages(unit))
        # recommendations are fetched for the month's loaded certificates
        rows = warehouse.landed_in_month(certificates(unit.kind).name, unit.month, PARENT_COLUMNS)
        return Fetch([[Parent(*row) for row in rows]] if rows else [])

    def requests_sent(self) -> dict[str, int]:
        return self.api.sent.by_path() if self.api else {}

    @staticmethod
    def freshness_tables(kinds: list[str]) -> list[str]:
        """None: the retired API gets no new data, so its tables only grow older."""
        return []

    def resources(
        self, unit: Unit, stats: UnitStats, pages: Iterable[list[Any]], item_format: str, landing: Landing
    ) -> DltSource:
        return odc_source(self.api, unit, stats, pages, item_format, self.settings.max_concurrency, landing)

    def landing_tables(self, unit: Unit) -> tuple[RawTable, ...]:
        return (unit.table,)

    def appends(self, unit: Unit) -> bool:
        return True

    def bulk(self) -> BulkOrigin:
        return V1Origin(self.settings)
