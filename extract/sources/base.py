"""The protocol every API source implements: what the runner, the bulk runner and the CLI need.

Adding a source is a folder under `extract/sources/` with a class shaped like `Source`, and one
line in `registry.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Protocol

from dlt.extract.source import DltSource

from extract.bulk.origin import BulkOrigin
from extract.checkpoints import Unit, Work
from extract.concurrency import Prefetcher
from extract.kinds import Kind
from extract.landing import Batch
from extract.months import Month
from extract.pipeline import Warehouse
from extract.progress import UnitStats
from extract.raw_tables import RawTable
from extract.settings import Settings

Page = list[Any]
Landing = Callable[[str, Batch], None]  # sees every batch on its way to dlt, with its table


@dataclass(frozen=True)
class Fetch:
    """What a unit's resources consume on this run: `pages`, and, where they are known before
    fetching, the `keys` it is about to fetch (recorded as pending in a ledger)."""

    pages: Iterable[Page]
    keys: tuple[str, ...] = ()


class Source(Protocol):
    name: ClassVar[str]  # `--source`, the checkpoint folder, the dlt pipeline's suffix
    kinds: ClassVar[tuple[str, ...]]  # the certificate kinds it serves
    default_base_url: ClassVar[str]
    recommendations_apart: ClassVar[bool]  # fetched apart from the certificates (--with-recs applies)
    credential_names: ClassVar[tuple[str, ...]]  # all set: the source is the default
    tables: ClassVar[tuple[RawTable, ...]]  # every raw table it writes

    def __init__(self, settings: Settings, today: date | None = None) -> None: ...

    def check_credentials(self) -> None:
        """Fails (ConfigError) before any request when its credentials are missing."""

    def units(self, kinds: list[Kind], months: list[Month], with_recs: bool) -> list[Unit]:
        """The units of work for the window, in the order they run."""

    def open(self) -> None:
        """Makes the API client (after the plan, before the first request)."""

    def search(self, unit: Unit, work: Work) -> Iterator[Page] | None:
        """The unit's search pages, fetched ahead by the runner; None for units without search."""

    def pages(self, unit: Unit, work: Work, ahead: Prefetcher, warehouse: Warehouse) -> Fetch:
        """What the unit's resources consume: its prefetched search pages (for a unit tracked by
        day, only what is not landed yet), or what it fetches."""

    def requests_sent(self) -> dict[str, int]:
        """Requests sent so far (retries included), by URL path."""

    @staticmethod
    def freshness_tables(kinds: list[str]) -> list[str]:
        """The raw tables of `kinds` whose freshness the daily job checks (none for a source that
        gets no new data)."""

    def resources(
        self, unit: Unit, stats: UnitStats, pages: Iterable[Page], item_format: str, landing: Landing
    ) -> DltSource:
        """The dlt source loading the unit's pages into its raw tables."""

    def landing_tables(self, unit: Unit) -> tuple[RawTable, ...]:
        """The raw tables whose rows the unit lands in the bucket, each as one file."""

    def appends(self, unit: Unit) -> bool:
        """Whether the unit's rows may be appended (not merged) while its month is still empty."""

    def bulk(self) -> BulkOrigin:
        """Where its bulk files come from, and how their members load."""
