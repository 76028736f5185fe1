"""The interface of the warehouse engines bulk members load into (the bulk runner picks one):
DuckDB (`duckdb.py`) reads each member with `read_csv` / `read_json`; BigQuery (`bigquery.py`)
stages it in GCS, loads it with a load job and finishes with SQL. Either way Python never touches
a row, and each member is one transaction that replaces the rows of its keys, so bulk and API
loads of a record merge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from extract.bulk.origin import MemberLoad
from extract.raw_tables import RawTable


@dataclass(frozen=True)
class Stamp:
    """What marks a member's rows: a load id shaped like dlt's, and the time of the load."""

    load_id: str
    at: datetime


class BulkEngine(Protocol):
    rejected: int  # malformed lines of the last member, skipped (never more than the settings allow)

    def ensure_table(self, table: RawTable) -> None:
        """The raw table with the columns the API path's dlt load gives it, if no load made it."""

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def load(
        self, member: MemberLoad, path: Path, stamp: Stamp, label: str, verify: Callable[[], None]
    ) -> int:
        """Loads the member read from `path` (a pipe); returns the rows it leaves. `verify()` raises
        if the member was damaged: an engine that stages the member before loading it calls it
        in between, so nothing of a damaged member loads."""

    def close(self) -> None: ...
