"""Bulk members into DuckDB's raw tables, the engine doing the work: `read_csv` / `read_json`
parse the member, SQL builds the payload JSON and the lifted columns, and one transaction inserts
the member's rows and deletes the rows they replace (same key), so a member is loaded whole or not
at all and a key is never in a raw table twice."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import duckdb

from extract.bulk.engines import Stamp
from extract.bulk.origin import CsvChildren, CsvRecords, Documents, MemberLoad
from extract.errors import SourceDataError
from extract.raw_tables import LOAD_ID, Column, RawTable

TYPES = {"text": "varchar", "date": "date", "json": "json", "timestamp": "timestamp with time zone"}
STAMPED = ("payload", "extracted_at")  # filled from the member's payload and stamp, not lifted


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


REJECTS = "bulk_rejected_lines"  # a temporary table: the lines of the member being read that failed


def csv_scan(path: Path | str, header: Sequence[str]) -> str:
    """`read_csv` of a bulk CSV: every column text, nothing sniffed (the pipe is read once); a
    malformed line is skipped and kept in REJECTS (DuckDB's `store_rejects`), to be counted."""
    columns = "{" + ", ".join(f"{literal(h)}: 'VARCHAR'" for h in header) + "}"
    return (
        f"read_csv({literal(str(path))}, header = true, auto_detect = false, columns = {columns}, "
        "delim = ',', quote = '\"', escape = '\"', encoding = 'utf-8', parallel = true, "
        f"store_rejects = true, rejects_table = '{REJECTS}', rejects_scan = '{REJECTS}_scans')"
    )


def lines_scan(path: Path | str) -> str:
    """`read_csv` of a JSON Lines member as whole lines (no delimiter or quote can split one)."""
    return (
        f"read_csv({literal(str(path))}, header = false, auto_detect = false, "
        "columns = {'line': 'VARCHAR'}, delim = '\x01', quote = '', escape = '', encoding = 'utf-8', "
        "max_line_size = 8388608, buffer_size = 33554432)"
    )


def csv_payload(payload_keys: Mapping[str, str], alias: str = "") -> str:
    """The record of a CSV row: every column under its payload key, `""` where empty."""
    prefix = f"{alias}." if alias else ""
    pairs = ", ".join(f"{literal(k)}, coalesce({prefix}{ident(h)}, '')" for h, k in payload_keys.items())
    return f"json_object({pairs})"


def json_path(document: str, path: Sequence[str]) -> str:
    """`document->'address'->>'postcode'`: the text at `path`."""
    steps = "".join(f"->{literal(step)}" for step in path[:-1])
    return f"{document}{steps}->>{literal(path[-1])}"


def lifted(column: Column, expression: str | None) -> str:
    """A lifted column from its text: dates parsed (NULL if not a date), text NULL where empty."""
    if expression is None:
        return "null"
    if column.data_type == "date":
        return f"try_strptime(left({expression}, 10), '%Y-%m-%d')::date"
    return f"nullif({expression}, '')"


class DuckDbEngine:
    """Loads members into `dataset` of the DuckDB file at `path`."""

    def __init__(self, path: Path, dataset: str, memory_limit: str = "1GB", max_rejected: int = 0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.max_rejected = max_rejected
        self.rejected = 0  # lines of the last member skipped as malformed
        self.con = duckdb.connect(str(path))
        self.con.execute(f"set memory_limit = {literal(memory_limit)}")
        self.con.execute("set preserve_insertion_order = true")  # "first row of a key wins" needs it
        self.schema = dataset
        self.con.execute(f"create schema if not exists {ident(dataset)}")

    def close(self) -> None:
        self.con.close()

    def qualified(self, name: str) -> str:
        return f"{ident(self.schema)}.{ident(name)}"

    def ensure_table(self, table: RawTable) -> None:
        columns = ", ".join(
            f"{c.name} {TYPES[c.data_type]}{'' if c.nullable else ' not null'}"
            for c in (*table.columns, LOAD_ID)
        )
        self.con.execute(f"create table if not exists {self.qualified(table.name)} ({columns})")

    # --- one member, one transaction --------------------------------------------------------
    def begin(self) -> None:
        self.con.execute("begin transaction")

    def commit(self) -> None:
        self.con.execute("commit")

    def rollback(self) -> None:
        with contextlib.suppress(duckdb.Error):  # no transaction open any more
            self.con.execute("rollback")

    def load(
        self, member: MemberLoad, path: Path, stamp: Stamp, label: str, verify: Callable[[], None]
    ) -> int:
        self.con.execute(f"drop table if exists {REJECTS}")
        self.con.execute(f"drop table if exists {REJECTS}_scans")
        if isinstance(member, CsvChildren):
            rows = self._children(member, path, stamp, label)
            self._count_rejects(label)
            return rows
        if isinstance(member, CsvRecords):
            key = f"coalesce({ident(member.key_column)}, '')"
            text = {c: ident(h) for c, h in member.lifted.items()}
            payload, scan = csv_payload(member.payload_keys), csv_scan(path, member.header)
        else:
            key = f"coalesce({ident(member.key_field)}, '')"
            doc = ident(member.document_field)
            text = {
                c: "coalesce(" + ", ".join(json_path(doc, p) for p in paths) + ")"
                for c, paths in member.lifted.items()
            }
            payload = doc
            scan = self._json_lines(member, path, label)
        table = member.table
        values = [key, *(lifted(c, text.get(c.name)) for c in table.columns[1:] if c.name not in STAMPED)]
        self._insert(table, values, payload, scan, stamp, label)
        self._count_rejects(label)
        return self._finish_keyed(table, stamp.load_id, label)

    def _json_lines(self, member: Documents, path: Path, label: str) -> str:
        """The member's lines parsed once into a temporary table (the pipe is read once); the
        text of those that are not a JSON object kept, for REJECTS; returns the scan of the good
        ones as `key, document`."""
        lines = (
            "create or replace temporary table bulk_member_lines as select number, doc, "
            "case when coalesce(json_type(doc), '') != 'OBJECT' then line end as bad_line from ("
            "select row_number() over () as number, line, try_cast(line as json) as doc "
            f"from {lines_scan(path)})"
        )
        self._run(lines, {}, label)
        self.con.execute(
            f"create temporary table {REJECTS} as select number as line, bad_line as csv_line, "
            "'not a JSON object' as error_message from bulk_member_lines where bad_line is not null"
        )
        return (
            f"(select doc->>{literal(member.key_field)} as {ident(member.key_field)}, "
            f"doc->{literal(member.document_field)} as {ident(member.document_field)} "
            "from bulk_member_lines where bad_line is null)"
        )

    def _count_rejects(self, label: str) -> None:
        """Counts the member's malformed lines: above `max_rejected`, the member fails (its
        transaction is rolled back); else they are reported."""
        found = self.con.execute(
            f"select count(*), min(line), arg_min(error_message, line) from {REJECTS}"
        ).fetchone() if self._exists(REJECTS) else (0, None, None)  # fmt: skip
        self.rejected, first, message = int(found[0]), found[1], found[2]
        if self.rejected > self.max_rejected:
            raise SourceDataError(
                f"{label}: {self.rejected} malformed lines (the first, line {first}: {message}); "
                f"more than BULK_MAX_REJECTED={self.max_rejected}, nothing of it was loaded"
            )

    def _exists(self, table: str) -> bool:
        return bool(self.con.execute(
            "select count(*) from duckdb_tables() where table_name = ? and temporary", [table]
        ).fetchone()[0])  # fmt: skip

    # --- shared steps ------------------------------------------------------------------------
    def _names(self, table: RawTable) -> list[str]:
        """The table's columns in the order `load` lists their values: key, lifted, stamped."""
        lifted_names = [c.name for c in table.columns[1:] if c.name not in STAMPED]
        return [table.key, *lifted_names, "payload", "extracted_at", LOAD_ID.name]

    def _insert(
        self, table: RawTable, values: list[str], payload: str, scan: str, stamp: Stamp, label: str
    ) -> None:
        columns = ", ".join(self._names(table))
        select = ", ".join([*values, payload, "$at", "$load_id"])
        sql = f"insert into {self.qualified(table.name)} ({columns}) select {select} from {scan}"
        self._run(sql, {"at": stamp.at, "load_id": stamp.load_id}, label)

    def _children(self, member: CsvChildren, path: Path, stamp: Stamp, label: str) -> int:
        """Records with their parent's lifted columns; a parent's earlier set is replaced as a
        whole (they have no key of their own), as on the API path."""
        table = member.table
        inherited = [f"c.{c.name}" for c in table.columns[1:] if c.name not in STAMPED]
        key = f"coalesce(r.{ident(member.key_column)}, '')"
        select = ", ".join([key, *inherited, csv_payload(member.payload_keys, "r"), "$at", "$load_id"])
        sql = (
            f"insert into {self.qualified(table.name)} ({', '.join(self._names(table))}) select {select} "
            f"from {csv_scan(path, member.header)} as r left join {self.qualified(member.parent.name)} "
            f"as c on c.{member.parent.key} = r.{ident(member.key_column)}"
        )
        self._run(sql, {"at": stamp.at, "load_id": stamp.load_id}, label)
        name, params = self.qualified(table.name), {"load_id": stamp.load_id}
        new = f"from {name} where _dlt_load_id = $load_id"
        rows, blank = self.con.execute(
            f"select count(*), count(*) filter (where {table.key} = '') {new}", params
        ).fetchone()
        if blank:
            raise SourceDataError(f"{label}: {blank} rows have no {member.key_column}")
        key = table.key
        self.con.execute(
            f"delete from {name} where _dlt_load_id <> $load_id and {key} in (select {key} {new})", params
        )
        return rows

    def _run(self, sql: str, params: dict, label: str) -> None:
        try:
            self.con.execute(sql, params)
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise SourceDataError(f"{label}: DuckDB could not read it: {first}") from None

    def _finish_keyed(self, table: RawTable, load_id: str, label: str) -> int:
        """Checks the member's keys, keeps the first row of a key repeated inside it, and drops
        the rows it replaces. Returns the rows it leaves."""
        name, key = self.qualified(table.name), table.key
        new = f"from {name} where _dlt_load_id = $load_id"
        params = {"load_id": load_id}
        rows, keys, blank = self.con.execute(
            f"select count(*), count(distinct {key}), count(*) filter (where {key} = '') {new}", params
        ).fetchone()
        if blank:
            raise SourceDataError(f"{label}: {blank} rows have no {key}")
        if keys != rows:  # a key repeated inside the member (rare): its first row wins, as on the API path
            self.con.execute(
                f"delete from {name} where rowid in (select rowid from (select rowid, row_number() over "
                f"(partition by {key} order by rowid) as n {new}) where n > 1)",
                params,
            )
        self.con.execute(
            f"delete from {name} where _dlt_load_id <> $load_id and {key} in (select {key} {new})", params
        )
        return keys
