"""Runs bulk files: skip a file whose version is done, download (resuming), check its size, load
member by member (each one transaction), checkpoint after every member, then the file.

Checkpoint: `{BUCKET}/state/{dataset}/bulk/{source}/{name}.json` = `{"tag": <date>-<size>,
"members": {path: rows}, "rejected": {path: malformed lines skipped}, "finished": bool}`. A
finished file of the same tag is skipped after asking only for its size and date; a new monthly
file (another tag) is loaded again and merges.
"""

from __future__ import annotations

import time
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from extract.bucket import Bucket
from extract.bulk.archive import MemberPipe, open_zip
from extract.bulk.dlt_tables import register
from extract.bulk.download import Downloader
from extract.bulk.engines import BulkEngine, Stamp
from extract.bulk.origin import BulkName, BulkOrigin
from extract.errors import ConfigError, SourceDataError
from extract.progress import Meter, event
from extract.settings import Settings


@dataclass
class FileResult:
    name: str
    state: str  # loaded | skipped
    rows: dict[str, int] = field(default_factory=dict)  # table → rows
    seconds: float = 0.0
    resumed_from: int | None = None
    rejected: int = 0  # malformed lines skipped (at most BULK_MAX_REJECTED a member)


def engine_for(settings: Settings, bucket: Bucket) -> BulkEngine:
    """The engine of `settings.destination` (BigQuery's Google clients imported only when used)."""
    if settings.destination == "bigquery":
        from extract.bulk.engines.bigquery import BigQueryEngine

        return BigQueryEngine(settings, bucket)
    from extract.bulk.engines.duckdb import DuckDbEngine

    return DuckDbEngine(settings.duckdb_path, settings.dataset, max_rejected=settings.bulk_max_rejected)


def require_supported(settings: Settings) -> None:
    """Fails before any request where the destination cannot take bulk files as configured."""
    if settings.destination == "bigquery":
        from extract.bulk.engines.bigquery import require_gcs_bucket

        require_gcs_bucket(settings)


def load_id() -> str:
    """A load id shaped like dlt's (epoch seconds), so dbt's `new_loads_only` sees it as newer."""
    return f"{time.time():.6f}"


class BulkRunner:
    """Loads the files `names` of `origin` (the selected source's bulk files)."""

    def __init__(self, settings: Settings, origin: BulkOrigin, names: list[str]) -> None:
        if not names:
            raise ConfigError("--bulk needs at least one file name")
        require_supported(settings)
        self.settings = settings
        self.origin = origin
        self.names = [self.origin.name(n) for n in names]  # bad names fail before any request
        self.bucket = Bucket(settings.bucket_url)

    def state_key(self, name: str) -> str:
        return f"state/{self.settings.dataset}/bulk/{self.origin.source}/{name}.json"

    def plan(self) -> list[tuple[str, str]]:
        """Each file and whether this version of it is loaded (asks only for sizes and dates)."""
        out = []
        for n in self.names:
            remote = self.origin.describe(n.name)
            mark = self.bucket.read_json(self.state_key(n.name)) or {}
            if mark.get("tag") == remote.tag and mark.get("finished"):
                status = f"done ({sum(mark['rows'].values())} rows)"
            elif mark.get("tag") == remote.tag:
                status = f"partly loaded ({len(mark['members'])} members done)"
            else:
                status = f"pending ({remote.size:,} bytes, {remote.version})"
            out.append((n.name, status))
        return out

    def run(self) -> list[FileResult]:
        return [self._file(n) for n in self.names]

    def _file(self, file: BulkName) -> FileResult:
        started, name = time.monotonic(), file.name
        label = f"bulk {name}"
        remote = self.origin.describe(name)
        mark: dict[str, Any] | None = self.bucket.read_json(self.state_key(name))
        if mark and mark.get("tag") == remote.tag and mark.get("finished"):
            event(f"{label}: already loaded ({remote.version}, {remote.size:,} bytes)", file=name)
            return FileResult(name, "skipped", mark.get("rows", {}))
        if not mark or mark.get("tag") != remote.tag:
            mark = {"name": name, "tag": remote.tag, "version": remote.version, "size": remote.size,
                    "members": {}, "rows": {}, "finished": False}  # fmt: skip
        downloader = Downloader(
            self.origin.session,
            lambda: self.origin.link(name),
            self.settings.request_timeout,
            self.settings.retry_max + 1,
            self.settings.retry_backoff,
            label,
        )
        event(f"{label}: downloading {remote.size:,} bytes ({remote.version})", file=name, size=remote.size)
        path = downloader.fetch(remote, self.settings.data_dir / "bulk" / self.origin.source)
        try:
            self._load(path, file, mark, label)
        except SourceDataError as exc:
            if "damaged" in str(exc) or "not a readable zip" in str(exc):
                path.unlink(missing_ok=True)  # fetched afresh next run
                raise SourceDataError(
                    f"{exc}; the local copy was removed, run again to fetch it anew"
                ) from None
            raise
        loaded = [t for t in self.origin.tables(file) if t.name in mark["rows"]]
        register(self.settings, self.origin.source, loaded)
        mark["finished"] = True
        mark["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.bucket.write_json(self.state_key(name), mark)
        path.unlink(missing_ok=True)
        seconds = time.monotonic() - started
        total = sum(mark["rows"].values())
        event(f"{label}: done, {total:,} rows in {seconds:,.1f} s", file=name, rows=total)
        rejected = sum(mark.get("rejected", {}).values())
        return FileResult(name, "loaded", dict(mark["rows"]), seconds, downloader.resumed_from, rejected)

    def _load(self, path: Path, file: BulkName, mark: dict[str, Any], label: str) -> None:
        archive = open_zip(path, label)
        try:
            engine = engine_for(self.settings, self.bucket)
            try:
                self._members(archive, engine, file, mark, label)
            finally:
                engine.close()
        finally:
            archive.close()

    def _members(
        self, archive: zipfile.ZipFile, engine: BulkEngine, file: BulkName, mark: dict, label: str
    ) -> None:
        members = self.origin.members(archive, file, label)
        for table in self.origin.tables(file):
            engine.ensure_table(table)
        scratch = self.settings.data_dir / "tmp"
        size = {m.path: archive.getinfo(m.path).file_size for m in members}
        meter = Meter(sum(size[m.path] for m in members if m.path not in mark["members"]), unit="B")
        done = 0
        for number, member in enumerate(members, start=1):
            if member.path in mark["members"]:
                continue
            where = f"{label}: {member.path}"
            load = self.origin.load_of(archive, member, file, where)
            table = load.table.name
            started, stamp = time.monotonic(), Stamp(load_id(), datetime.now(UTC))
            pipe = MemberPipe(archive, member.path, label, scratch)
            with pipe as pipe_path:
                engine.begin()
                try:
                    rows = engine.load(load, pipe_path, stamp, where, pipe.finish)
                    pipe.finish()  # a damaged member raises here, before anything is committed
                    engine.commit()
                except BaseException:
                    engine.rollback()
                    pipe.finish()  # a damaged member is the cause of whatever the engine met
                    raise
            mark["members"][member.path] = rows
            mark["rows"][table] = mark["rows"].get(table, 0) + rows
            if engine.rejected:
                mark.setdefault("rejected", {})[member.path] = engine.rejected
                event(
                    f"warning: {where}: {engine.rejected} malformed lines skipped (BULK_MAX_REJECTED="
                    f"{self.settings.bulk_max_rejected})",
                    member=member.path, rejected=engine.rejected,
                )  # fmt: skip
            self.bucket.write_json(self.state_key(mark["name"]), mark)
            seconds = time.monotonic() - started
            rate = rows / max(seconds, 1e-9)
            done += size[member.path]
            meter.set(done)
            eta = meter.eta()
            event(
                f"{where}: {rows:,} rows into {table}, {rate:,.0f} rows/s; member {number}/{len(members)}, "
                f"{meter.fraction()} bytes" + (f", ETA {eta}" if eta else ""),
                member=member.path, table=table, rows=rows, seconds=round(seconds, 3),
                members_done=number, members=len(members), eta=eta,
            )  # fmt: skip
        meter.close()
