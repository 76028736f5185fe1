"""The live service's plan of work: kind × month × `certs` (search by registration day, then the
documents of what is not landed yet), then per month one `deltas` unit (the change feed), both
tracked day by day; then the code tables."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta

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
from extract.sources.mhclg.bulk import LiveOrigin
from extract.sources.mhclg.client import MhclgApi, Row
from extract.sources.mhclg.resources import Changes, mhclg_source
from extract.sources.mhclg.tables import (
    CODES,
    DELTA_EXTRA,
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

FETCH_PAGE = 1000  # documents fetched per page of the dlt resource (one Arrow batch each)


class MhclgSource:
    """MHCLG's "Get energy performance of buildings data" API, the only source of new certificates."""

    name = NAME
    kinds = SERVED_KINDS
    default_base_url = "https://api.get-energy-performance-data.communities.gov.uk"
    recommendations_apart = False  # recommendations come inside each document
    credential_names = ("EPC_API_TOKEN",)
    tables = TABLES

    def __init__(self, settings: Settings, today: date | None = None) -> None:
        self.settings = settings
        self.api: MhclgApi | None = None

    def check_credentials(self) -> None:
        self.settings.require_token()

    def units(self, kinds: list[Kind], months: list[Month], with_recs: bool) -> list[Unit]:
        """Certificates of every kind and month and the month's change feed, both tracked by
        registration day, then the code tables (refreshed when older than CODES_MAX_AGE_DAYS)."""
        codes = Unit(self.name, "codes", None, "codes", CODES, refresh_days=self.settings.codes_max_age_days)
        certs = [
            Unit(self.name, k.name, m, "certs", certificates(k), k, by_day=True)
            for k in kinds
            for m in months
        ]
        deltas = [Unit(self.name, "deltas", m, "deltas", DELTAS, by_day=True) for m in months]
        return [*certs, *deltas, codes]

    def open(self) -> None:
        self.api = MhclgApi(self.settings)

    def search(self, unit: Unit, work: Work) -> Iterator[list[Row]] | None:
        return self.api.search_pages(unit.kind, work.days) if unit.part == "certs" else None

    def pages(self, unit: Unit, work: Work, ahead: Prefetcher, warehouse: Warehouse) -> Fetch:
        """Certificates: the summaries found on the unit's days whose certificates are not landed
        yet. Change feed: the events of its days not landed yet, with the search rows already
        landed for the certificates whose documents it fetches again. Code tables: their names."""
        if unit.part == "certs":
            # a busy day's paging can repeat a certificate
            found = {row["certificateNumber"]: row for page in ahead.pages(unit) for row in page}
            landed = self._landed(warehouse, unit, work)
            fresh = [row for number, row in found.items() if number not in landed]
            pages = [fresh[i : i + FETCH_PAGE] for i in range(0, len(fresh), FETCH_PAGE)]
            return Fetch(pages, tuple(row["certificateNumber"] for row in fresh))
        if unit.part == "codes":
            return Fetch([self.api.code_names()])
        found = {event_key(e): e for first, last in _spans(work.days) for e in self.api.deltas(first, last)}
        landed = self._landed(warehouse, unit, work)
        events = [e for key, e in found.items() if key not in landed]
        if not events:
            return Fetch([])
        changed = sorted({e["certificateNumber"] for e in events if e.get("eventType") != "removed"})
        return Fetch([Changes(events, self._search_rows(warehouse, changed))], tuple(map(event_key, events)))

    def _landed(self, warehouse: Warehouse, unit: Unit, work: Work) -> set[str]:
        """Keys of the unit's table already in the warehouse on the unit's days, less those a
        killed run left pending (none after `--reset`: everything is fetched again)."""
        if work.everything or not work.days:
            return set()
        columns = (KEY, *DELTA_EXTRA) if unit.table == DELTAS else (KEY,)
        select = ", ".join(f"cast({c} as string)" for c in columns)
        first, last = min(work.days).isoformat(), max(work.days).isoformat()
        sql = f"select {select} from {{table}} where lodgement_date between date '{first}' and date '{last}'"
        rows = warehouse.query(sql, unit.table.name) or []
        return {"|".join(row) for row in rows} - work.refetch

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
        """Never: a certificate can arrive on any day, through search, the change feed or a bulk
        file, so every load merges on the key."""
        return False

    def requests_sent(self) -> dict[str, int]:
        return self.api.sent.by_path() if self.api else {}

    @staticmethod
    def freshness_tables(kinds: list[str]) -> list[str]:
        """The certificate tables of `kinds`: their newest registration date is the source's age."""
        return [certificates(k).name for k in DOCUMENT_KINDS if k.name in kinds]

    def bulk(self) -> BulkOrigin:
        return LiveOrigin(self.settings)


def event_key(event: Row) -> str:
    """An event's identity, as the change feed's raw table is keyed: number, type and time."""
    return f"{event['certificateNumber']}|{event.get('eventType')}|{event.get('timestamp')}"


def _spans(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Consecutive `days` as (first, last) spans: one change-feed request each."""
    span: list[date] = []
    for day in sorted(days):
        if span and day != span[-1] + timedelta(days=1):
            yield span[0], span[-1]
            span = []
        span.append(day)
    if span:
        yield span[0], span[-1]
