"""Checkpoints per source × kind × month × part, kept in the bucket beside the data.

`{BUCKET}/state/{dataset}/{source}/{kind}/{YYYYMM}/{part}.json` exists only for a month whose
rows are committed in the warehouse; a run skips such months without a request. A month with no
certificates is recorded too (`rows: 0`). The current month is never recorded: it is still
filling up, so every run fetches it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from extract.bucket import Bucket
from extract.kinds import Kind
from extract.months import Month
from extract.raw_tables import RawTable


@dataclass(frozen=True)
class Unit:
    """One checkpointed piece of work: a source's `part` (`certs`, `recs`, `deltas`) of a month,
    landing in `table`. `folder` names it in the bucket: the kind, or the part where the unit
    belongs to no kind (the change feed)."""

    source: str
    folder: str
    month: Month | None  # None: a unit of no month, done until its checkpoint is `refresh_days` old
    part: str
    table: RawTable
    kind: Kind | None = None
    refresh_days: int | None = None

    def __str__(self) -> str:
        return f"{self.folder} {self.month} {self.part}" if self.month else self.part

    @property
    def path(self) -> str:
        """`{folder}/{YYYYMM}` (or `{folder}`): where its files and checkpoint sit."""
        return f"{self.folder}/{self.month.compact}" if self.month else self.folder


class Checkpoints:
    def __init__(self, bucket: Bucket, dataset: str) -> None:
        self.bucket, self.dataset = bucket, dataset

    def key(self, unit: Unit) -> str:
        return f"state/{self.dataset}/{unit.source}/{unit.path}/{unit.part}.json"

    def get(self, unit: Unit) -> dict[str, Any] | None:
        return self.bucket.read_json(self.key(unit))

    def mark_done(self, unit: Unit, rows: int, pages: int, files: list[str]) -> None:
        self.bucket.write_json(
            self.key(unit),
            {
                "source": unit.source,
                "kind": unit.folder,
                "month": str(unit.month) if unit.month else None,
                "part": unit.part,
                "rows": rows,
                "pages": pages,
                "files": files,
                "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )

    def reset(self, unit: Unit) -> bool:
        """Forgets the unit; True if there was a checkpoint."""
        existed = self.bucket.exists(self.key(unit))
        self.bucket.delete(self.key(unit))
        return existed
