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

PARTS = ("certs", "recs")


@dataclass(frozen=True)
class Unit:
    """One checkpointed piece of work."""

    source: str
    kind: Kind
    month: Month
    part: str

    def __str__(self) -> str:
        return f"{self.kind.name} {self.month} {self.part}"

    @property
    def table(self) -> str:
        """The raw table the unit lands in."""
        return self.kind.table(self.source, self.part)


class Checkpoints:
    def __init__(self, bucket: Bucket, dataset: str) -> None:
        self.bucket, self.dataset = bucket, dataset

    def key(self, unit: Unit) -> str:
        return f"state/{self.dataset}/{unit.source}/{unit.kind.name}/{unit.month.compact}/{unit.part}.json"

    def get(self, unit: Unit) -> dict[str, Any] | None:
        return self.bucket.read_json(self.key(unit))

    def mark_done(self, unit: Unit, rows: int, pages: int, files: list[str]) -> None:
        self.bucket.write_json(
            self.key(unit),
            {
                "source": unit.source,
                "kind": unit.kind.name,
                "month": str(unit.month),
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
