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
from extract.bulk.origin import CsvChildren, CsvRecords, MemberLoad
from extract.errors import SourceDataError
from extract.raw_tables import LOAD_ID, Column, RawTable

TYPES = {"text": "varchar", "date": "date", "json": "json", "timestamp": "timestamp with time zone"}
STAMPED = ("payload", "extracted_at")  # filled from the member's payload and stamp, not lifted


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def csv_scan(path: Path | str, header: Sequence[str]) -> str:
    """`read_csv` of a bulk CSV: every column text, nothing sniffed (the pipe is read once)."""
    columns = "{" + ", ".join(f"{literal(h)}: 'VARCHAR'" for h in header) + "}"
    return (
        f"read_csv({literal(str(path))}, header = true, auto_detect = false, columns = {columns}, "
        "delim = ',', quote = '\"', escape = '\"', encoding = 'utf-8', parallel = true)"
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

    def __init__(self, path: Path, dataset: str, memory_limit: str = "1GB") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
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
        if isinstance(member, CsvChildren):
            return self._children(member, path, stamp, label)
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
            scan = (
                f"read_json({literal(str(path))}, format = 'newline_delimited', columns = "
                f"{{{literal(member.key_field)}: 'VARCHAR', {literal(member.document_field)}: 'JSON'}})"
            )
        table = member.table
        values = [key, *(lifted(c, text.get(c.name)) for c in table.columns[1:] if c.name not in STAMPED)]
        self._insert(table, values, payload, scan, stamp, label)
        return self._finish_keyed(table, stamp.load_id, label)

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
