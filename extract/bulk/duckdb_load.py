"""Bulk members into DuckDB's raw tables, the engine doing the work: `read_csv` / `read_json`
parse the member, SQL builds the payload JSON and the lifted columns, and one transaction inserts
the member's rows and deletes the rows they replace (same key), so a member is loaded whole or not
at all and a key is never in a raw table twice."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb

from extract.errors import SourceDataError

BASE_COLUMNS = (
    "{key} varchar not null",
    "lodgement_date date",
    "postcode varchar",
    "uprn varchar",
    "payload json",
    "extracted_at timestamp with time zone",
    "_dlt_load_id varchar not null",
)
LIVE_EXTRA = ("schema_type", "related_certificate_number")
V1_KEY, LIVE_KEY = "LMK_KEY", "certificate_number"


def api_name(column: str) -> str:
    """`CO2_EMISS_CURR_PER_FLOOR_AREA` → `co2-emiss-curr-per-floor-area`: the v1 API's key for a
    bulk CSV column (epc-api.md section 2)."""
    return column.strip().lower().replace("_", "-")


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


def v1_payload(header: Sequence[str], alias: str = "") -> str:
    """The v1 API record of a CSV row: every column under its API name, `""` where empty."""
    prefix = f"{alias}." if alias else ""
    pairs = ", ".join(f"{literal(api_name(h))}, coalesce({prefix}{ident(h)}, '')" for h in header)
    return f"json_object({pairs})"


def require(header: Sequence[str], needed: Sequence[str], label: str) -> None:
    missing = [n for n in needed if n not in header]
    if missing:
        raise SourceDataError(
            f"{label}: the CSV has no {missing[0]} column (header: {', '.join(header[:6])}, …)"
        )


class DuckDbBulk:
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

    def table(self, name: str) -> str:
        return f"{ident(self.schema)}.{ident(name)}"

    def ensure_table(self, name: str, key: str, extra: Sequence[str] = ()) -> None:
        """The raw table with the columns dlt gives it, if no load has made it yet."""
        columns = [c.format(key=key) for c in BASE_COLUMNS] + [f"{e} varchar" for e in extra]
        self.con.execute(f"create table if not exists {self.table(name)} ({', '.join(columns)})")

    def count(self, name: str) -> int:
        return self.con.execute(f"select count(*) from {self.table(name)}").fetchone()[0]

    # --- one member, one transaction --------------------------------------------------------
    def begin(self) -> None:
        self.con.execute("begin transaction")

    def commit(self) -> None:
        self.con.execute("commit")

    def rollback(self) -> None:
        with contextlib.suppress(duckdb.Error):  # no transaction open any more
            self.con.execute("rollback")

    def insert_v1_certificates(
        self, name: str, source: Path, header: Sequence[str], load_id: str, at: datetime, label: str
    ) -> int:
        require(header, (V1_KEY,), label)
        date = (
            f"try_strptime({ident('LODGEMENT_DATE')}, '%Y-%m-%d')::date"
            if "LODGEMENT_DATE" in header
            else "null"
        )
        lifted = [
            f"coalesce({ident(V1_KEY)}, '')",
            date,
            f"nullif({ident('POSTCODE')}, '')" if "POSTCODE" in header else "null",
            f"nullif({ident('UPRN')}, '')" if "UPRN" in header else "null",
        ]
        self._insert(
            name, "lmk_key", lifted, v1_payload(header), csv_scan(source, header), load_id, at, label
        )
        return self._finish_keyed(name, "lmk_key", load_id, label)

    def insert_v1_recommendations(
        self,
        name: str,
        parent: str,
        source: Path,
        header: Sequence[str],
        load_id: str,
        at: datetime,
        label: str,
    ) -> int:
        """Recommendations, each with its certificate's lifted columns; a certificate's earlier
        set is replaced as a whole (they have no key of their own), as on the API path."""
        require(header, (V1_KEY,), label)
        sql = f"""
            insert into {self.table(name)}
                (lmk_key, lodgement_date, postcode, uprn, payload, extracted_at, _dlt_load_id)
            select coalesce(r.{ident(V1_KEY)}, ''), c.lodgement_date, c.postcode, c.uprn,
                {v1_payload(header, "r")}, $at, $load_id
            from {csv_scan(source, header)} as r
            left join {self.table(parent)} as c on c.lmk_key = r.{ident(V1_KEY)}
        """
        self._run(sql, {"at": at, "load_id": load_id}, label)
        table = self.table(name)
        new = f"from {table} where _dlt_load_id = $load_id"
        rows, blank = self.con.execute(
            f"select count(*), count(*) filter (where lmk_key = '') {new}", {"load_id": load_id}
        ).fetchone()
        if blank:
            raise SourceDataError(f"{label}: {blank} rows have no LMK_KEY")
        self.con.execute(
            f"delete from {table} where _dlt_load_id <> $load_id and lmk_key in (select lmk_key {new})",
            {"load_id": load_id},
        )
        return rows

    def insert_live_documents(self, name: str, source: Path, load_id: str, at: datetime, label: str) -> int:
        """JSON Lines of `{"certificate_number", "document"}`: the document is the payload, as
        `/api/certificate` serves it; the lifted columns come from the document."""
        scan = (
            f"read_json({literal(str(source))}, format = 'newline_delimited', "
            "columns = {'certificate_number': 'VARCHAR', 'document': 'JSON'})"
        )
        doc = "document"
        lifted = [
            "coalesce(certificate_number, '')",
            f"try_cast(left(coalesce({doc}->>'registration_date', {doc}->>'date_of_registration'), 10)"
            " as date)",
            f"nullif(coalesce({doc}->>'postcode', {doc}->'address'->>'postcode'), '')",
            f"nullif({doc}->>'uprn', '')",
            f"coalesce({doc}->>'schema_type', {doc}->>'schema_version_original')",
            f"{doc}->>'related_certificate_number'",
        ]
        self._insert(name, LIVE_KEY, lifted, doc, scan, load_id, at, label, extra=LIVE_EXTRA)
        return self._finish_keyed(name, LIVE_KEY, load_id, label)

    # --- shared steps ------------------------------------------------------------------------
    def _insert(
        self,
        name: str,
        key: str,
        lifted: list[str],
        payload: str,
        scan: str,
        load_id: str,
        at: datetime,
        label: str,
        extra: Sequence[str] = (),
    ) -> None:
        columns = ", ".join(
            [key, "lodgement_date", "postcode", "uprn", *extra, "payload", "extracted_at", "_dlt_load_id"]
        )
        values = ", ".join([*lifted, payload, "$at", "$load_id"])
        sql = f"insert into {self.table(name)} ({columns}) select {values} from {scan}"
        self._run(sql, {"at": at, "load_id": load_id}, label)

    def _run(self, sql: str, params: dict, label: str) -> None:
        try:
            self.con.execute(sql, params)
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise SourceDataError(f"{label}: DuckDB could not read it: {first}") from None

    def _finish_keyed(self, name: str, key: str, load_id: str, label: str) -> int:
        """Checks the member's keys, keeps the first row of a key repeated inside it, and drops
        the rows it replaces. Returns the rows it leaves."""
        table = self.table(name)
        new = f"from {table} where _dlt_load_id = $load_id"
        params = {"load_id": load_id}
        rows, keys, blank = self.con.execute(
            f"select count(*), count(distinct {key}), count(*) filter (where {key} = '') {new}", params
        ).fetchone()
        if blank:
            raise SourceDataError(f"{label}: {blank} rows have no {key}")
        if keys != rows:  # a key repeated inside the member (rare): its first row wins, as on the API path
            self.con.execute(
                f"delete from {table} where rowid in (select rowid from (select rowid, row_number() over "
                f"(partition by {key} order by rowid) as n {new}) where n > 1)",
                params,
            )
        self.con.execute(
            f"delete from {table} where _dlt_load_id <> $load_id and {key} in (select {key} {new})", params
        )
        return keys
