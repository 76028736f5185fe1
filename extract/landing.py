"""Batches of raw rows on their way to the warehouse and to the bucket's gzip NDJSON files.

A `Batch` holds one page of records in the raw-table shape (`extract.raw_tables`), column-wise,
each payload serialised once: dlt loads it as an Arrow table (DuckDB) or as dicts (BigQuery's JSON
column), and `TableFiles` streams it into the unit's files for the bucket.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from extract.raw_tables import RawTable

Row = dict[str, Any]
TIMESTAMP = pa.timestamp("us", "UTC")


@dataclass(frozen=True)
class Batch:
    """One page of source records in the shape of their raw `table`, column-wise: `values` holds
    the text and date columns (dates as `YYYY-MM-DD` text), `documents` the JSON columns, each
    value serialised once (None for a JSON null)."""

    table: RawTable
    values: dict[str, list[str | None]]
    documents: dict[str, list[bytes | None]]
    extracted_at: datetime

    def __post_init__(self) -> None:
        expected = {c.name for c in self.table.columns} - {"extracted_at"}
        given = set(self.values) | set(self.documents)
        if given != expected:
            raise ValueError(f"a batch of {self.table.name} needs {sorted(expected)}, got {sorted(given)}")

    def __len__(self) -> int:
        return len(self.values[self.table.key])

    def to_arrow(self) -> pa.Table:
        """For parquet loading (DuckDB): JSON as text, which a JSON column accepts."""
        fields, arrays = [], []
        for column in self.table.columns:
            if column.data_type == "timestamp":
                kind, array = TIMESTAMP, pa.repeat(pa.scalar(self.extracted_at, TIMESTAMP), len(self))
            elif column.data_type == "json":  # no per-row decode
                kind, array = (
                    pa.string(),
                    pa.array(self.documents[column.name], pa.binary()).cast(pa.string()),
                )
            elif column.data_type == "date":
                kind, array = pa.date32(), _dates(self.values[column.name])
            else:
                kind, array = pa.string(), pa.array(self.values[column.name], pa.string())
            fields.append(pa.field(column.name, kind, nullable=column.nullable))
            arrays.append(array)
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))

    def _names(self, json: bool) -> list[str]:
        """The table's JSON columns, or its text and date columns, in the table's order."""
        return [
            c.name
            for c in self.table.columns
            if (c.data_type == "json") == json and c.data_type != "timestamp"
        ]

    def _heads(self) -> list[dict[str, Any]]:
        """Every text and date column, row by row."""
        names = self._names(json=False)
        return [
            dict(zip(names, row, strict=True)) for row in zip(*(self.values[n] for n in names), strict=True)
        ]

    def _documents(self) -> list[tuple[bytes | None, ...]]:
        return list(zip(*(self.documents[n] for n in self._names(json=True)), strict=True))

    def to_dicts(self) -> list[Row]:
        """For JSONL loading (BigQuery): JSON columns as objects, so they land as JSON, not text."""
        dates = [c.name for c in self.table.columns if c.data_type == "date"]
        return [
            head
            | {name: _date(head[name]) for name in dates}
            | {
                n: None if j is None else orjson.loads(j)
                for n, j in zip(self._names(True), docs, strict=True)
            }
            | {"extracted_at": self.extracted_at}
            for head, docs in zip(self._heads(), self._documents(), strict=True)
        ]

    def ndjson(self) -> bytes:
        """The batch as NDJSON lines, the JSON columns spliced in as the source sent them."""
        at = self.extracted_at.isoformat()
        return b"".join(
            orjson.dumps(head | {"extracted_at": at})[:-1]
            + b"".join(
                b',"' + name.encode() + b'":' + (b"null" if j is None else j)
                for name, j in zip(self._names(json=True), docs, strict=True)
            )
            + b"}\n"
            for head, docs in zip(self._heads(), self._documents(), strict=True)
        )


def _dates(texts: list[str | None]) -> pa.Array:
    """`YYYY-MM-DD` strings → dates; anything else → null."""
    strings = pa.array(texts, pa.string())
    try:
        return strings.cast(pa.date32())
    except pa.ArrowInvalid:  # a malformed date somewhere in the page: null just those
        parsed = pc.strptime(strings, "%Y-%m-%d", "s", error_is_null=True).cast(pa.date32())
        exact = pc.equal(pc.strftime(parsed, "%Y-%m-%d"), strings)  # strptime rolls 02-30 over
        return pc.if_else(pc.fill_null(exact, False), parsed, pa.scalar(None, pa.date32()))


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


class NdjsonGzipWriter:
    """Streams NDJSON into a local gzip file, compressing on a second thread (zlib releases the
    GIL), so memory holds a few pages at most whatever the month's size. Level 3 compresses
    EPC JSON about 8× at twice the speed of level 6 (which gains another 40 %)."""

    def __init__(self, directory: Path, level: int = 3) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(suffix=".jsonl.gz.partial", dir=directory)
        self.path = Path(name)
        self.rows = 0
        self._file = os.fdopen(fd, "wb")
        self._compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: gzip container
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def write(self, data: bytes, rows: int) -> None:
        if self._failure:
            raise self._failure
        self.rows += rows
        self._chunks.put(data)

    def write_batch(self, batch: Batch) -> None:
        self.write(batch.ndjson(), len(batch))

    def close(self) -> Path:
        """Finishes the file and returns its path."""
        self._chunks.put(None)
        self._thread.join()
        if self._failure:
            raise self._failure
        return self.path

    def discard(self) -> None:
        if self._thread.is_alive():
            self._chunks.put(None)
            self._thread.join()
        self.path.unlink(missing_ok=True)

    def _drain(self) -> None:
        try:
            while (chunk := self._chunks.get()) is not None:
                self._file.write(self._compressor.compress(chunk))
            self._file.write(self._compressor.flush())
        except BaseException as exc:  # surfaced to the writer thread on its next call
            self._failure = exc
            while self._chunks.get() is not None:
                pass
        finally:
            self._file.close()


class TableFiles:
    """A unit's NDJSON files, one per raw table its batches go to, each opened on its first batch."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.writers: dict[str, NdjsonGzipWriter] = {}

    def write(self, table: str, batch: Batch) -> None:
        if table not in self.writers:
            self.writers[table] = NdjsonGzipWriter(self.directory)
        self.writers[table].write_batch(batch)

    def close(self) -> dict[str, Path]:
        """Finishes every file; returns the paths of those holding rows, by table."""
        paths = {table: writer.close() for table, writer in self.writers.items()}
        return {table: path for table, path in paths.items() if self.writers[table].rows}

    def discard(self) -> None:
        for writer in self.writers.values():
            writer.discard()
