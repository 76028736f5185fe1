"""Checkpoints per source × kind × month × part, kept in the bucket beside the data.

`{BUCKET}/state/{dataset}/{source}/{kind}/{YYYYMM}/{part}.json` is written only once the rows it
speaks for are committed in the warehouse. Units are tracked in one of three ways:
- by month (the v1 API): a month is done once it is over and landed; the current month is
  fetched again on every run;
- by day (the live service): the checkpoint is a `Ledger` of the month's registration days, each
  with the newest day the service could answer for when it was last searched. A day is settled,
  and never searched again, once a run that reached `LOOKBACK_DAYS` past it has searched it
  (certificates appear in search some days after their registration); until then every run
  searches it again and fetches only what is not landed;
- undated (the code tables): done until the checkpoint is `refresh_days` old.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from extract.bucket import Bucket
from extract.kinds import Kind
from extract.months import Month
from extract.raw_tables import RawTable


@dataclass(frozen=True)
class Unit:
    """One checkpointed piece of work: a source's `part` (`certs`, `recs`, `deltas`, `codes`) of
    a month, landing in `table`. `folder` names it in the bucket: the kind, or the part where the
    unit belongs to no kind (the change feed)."""

    source: str
    folder: str
    month: Month | None  # None: a unit of no month, done until its checkpoint is `refresh_days` old
    part: str
    table: RawTable
    kind: Kind | None = None
    refresh_days: int | None = None
    by_day: bool = False  # tracked per registration day (a `Ledger`), not per month

    def __str__(self) -> str:
        return f"{self.folder} {self.month} {self.part}" if self.month else self.part

    @property
    def path(self) -> str:
        """`{folder}/{YYYYMM}` (or `{folder}`): where its files and checkpoint sit."""
        return f"{self.folder}/{self.month.compact}" if self.month else self.folder


@dataclass
class Ledger:
    """The checkpoint of a unit tracked by day.

    `searched` maps each registration day searched to the newest day the service could answer for
    at the time (the run's yesterday). Each run that fetches something lands it as one more
    `part` (files `{table}.jsonl.gz`, then `{table}.{part}.jsonl.gz`). Before fetching, a run
    writes what it is about to land beside the checkpoint (`{part}.pending.json`: the part and the
    keys); a run killed after that leaves them `pending`, and the next run fetches those keys
    again whatever the warehouse holds and lands them as the same part, so the bucket ends with
    exactly one copy of each."""

    searched: dict[date, date] = field(default_factory=dict)
    parts: int = 0
    files: list[str] = field(default_factory=list)
    rows: int = 0
    pages: int = 0
    pending: tuple[int, frozenset[str]] | None = None
    # listed by search, not yet fetched (the service did not serve the document): number → day;
    # its day is searched again on every run until it lands or search no longer lists it
    missing: dict[str, date] = field(default_factory=dict)

    @classmethod
    def read(cls, mark: dict[str, Any] | None, month: Month, pending: dict[str, Any] | None = None) -> Ledger:
        """The ledger from its checkpoint, and the pending record if a run was killed after it."""
        if not mark:
            ledger = cls()
        elif "searched" not in mark:  # a month checkpoint written before days were tracked
            through = datetime.fromisoformat(mark["finished_at"]).date() - timedelta(days=1)
            searched = dict.fromkeys(month.days(through), through)
            ledger = cls(searched, 1, list(mark.get("files", [])), mark.get("rows", 0), mark.get("pages", 0))
        else:
            searched = {date.fromisoformat(d): date.fromisoformat(t) for d, t in mark["searched"].items()}
            ledger = cls(searched, mark["parts"], list(mark["files"]), mark["rows"], mark["pages"])
            ledger.missing = {n: date.fromisoformat(d) for n, d in mark.get("missing", {}).items()}
        if pending and pending["part"] >= ledger.parts:  # else its part landed before the kill
            ledger.pending = (pending["part"], frozenset(pending["keys"]))
        return ledger

    def to_json(self) -> dict[str, Any]:
        return {
            "searched": {d.isoformat(): t.isoformat() for d, t in sorted(self.searched.items())},
            "parts": self.parts,
            "files": self.files,
            "rows": self.rows,
            "pages": self.pages,
            "missing": {n: d.isoformat() for n, d in sorted(self.missing.items())},
        }

    def to_search(self, days: list[date], lookback_days: int) -> list[date]:
        """The `days` not yet settled: never searched, last searched by a run that had not reached
        `lookback_days` past them, or holding a certificate listed but not fetched yet."""
        unsettled = set(self.missing.values())
        return [
            d
            for d in days
            if d not in self.searched or (self.searched[d] - d).days <= lookback_days or d in unsettled
        ]

    @property
    def next_part(self) -> int:
        """The part the next fetch lands as: a pending one again, else a new one."""
        return self.pending[0] if self.pending else self.parts

    def refetch(self) -> frozenset[str]:
        """Keys a killed run was fetching: fetched again whatever the warehouse holds."""
        return self.pending[1] if self.pending else frozenset()

    def record(
        self,
        days: list[date],
        through: date,
        files: list[str],
        rows: int,
        pages: int,
        missing: dict[str, str] | None = None,
    ) -> None:
        """A run searched `days`, seeing up to `through`, and landed `files` (one new part, if any);
        `missing` were listed on those days but not fetched. A certificate missing before on one of
        `days` and not missing now has landed, or search no longer lists it (gone)."""
        part = self.next_part
        searched = set(days)
        self.missing = {n: d for n, d in self.missing.items() if d not in searched}
        self.missing |= {n: date.fromisoformat(d) for n, d in (missing or {}).items() if d}
        self.searched.update(dict.fromkeys(days, through))
        if files:
            self.parts = part + 1
            self.files = sorted(set(self.files) | set(files))
        self.rows += rows
        self.pages += pages
        self.pending = None


@dataclass(frozen=True)
class Work:
    """What a unit does on this run. A unit tracked by day carries its `ledger` and the `days` it
    searches; `everything` (after `--reset`) fetches every key found, landed or not."""

    ledger: Ledger | None = None
    days: tuple[date, ...] = ()
    everything: bool = False

    @property
    def part(self) -> int:
        return self.ledger.next_part if self.ledger else 0

    @property
    def refetch(self) -> frozenset[str]:
        return self.ledger.refetch() if self.ledger else frozenset()


class Checkpoints:
    def __init__(self, bucket: Bucket, dataset: str) -> None:
        self.bucket, self.dataset = bucket, dataset

    def key(self, unit: Unit) -> str:
        return f"state/{self.dataset}/{unit.source}/{unit.path}/{unit.part}.json"

    def get(self, unit: Unit) -> dict[str, Any] | None:
        return self.bucket.read_json(self.key(unit))

    def mark_done(self, unit: Unit, rows: int, pages: int, files: list[str]) -> None:
        self._write(unit, {"rows": rows, "pages": pages, "files": files})

    def write_ledger(self, unit: Unit, ledger: Ledger) -> None:
        """The ledger once its part is landed; the pending record it replaces goes."""
        self._write(unit, ledger.to_json())
        self.bucket.delete(self.pending_key(unit))

    def pending_key(self, unit: Unit) -> str:
        return self.key(unit).removesuffix(".json") + ".pending.json"

    def get_pending(self, unit: Unit) -> dict[str, Any] | None:
        return self.bucket.read_json(self.pending_key(unit))

    def write_pending(self, unit: Unit, part: int, keys: frozenset[str]) -> None:
        """What a run is about to fetch and land as `part`, written before it starts."""
        self.bucket.write_json(self.pending_key(unit), {"part": part, "keys": sorted(keys)})

    def _write(self, unit: Unit, record: dict[str, Any]) -> None:
        self.bucket.write_json(
            self.key(unit),
            {
                "source": unit.source,
                "kind": unit.folder,
                "month": str(unit.month) if unit.month else None,
                "part": unit.part,
                **record,
                "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )

    def reset(self, unit: Unit) -> bool:
        """Forgets the unit; True if there was a checkpoint."""
        existed = self.bucket.exists(self.key(unit))
        self.bucket.delete(self.key(unit))
        self.bucket.delete(self.pending_key(unit))
        return existed
