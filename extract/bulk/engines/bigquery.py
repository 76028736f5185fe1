"""Bulk members into BigQuery's raw tables: each member is streamed from the zip into the bucket
(GCS), a load job puts it into a staging table with every column text (CSV) or the document as
JSON (JSON Lines), and one multi-statement transaction inserts the rows, payload built by SQL
(`JSON_OBJECT`), and deletes the rows they replace. Python never looks at a row.

The raw tables have the columns dlt's BigQuery destination gives them (`_dlt_id` included), so a
later API load merges into them and an earlier one's tables take bulk rows.

Runs on bqemulator (tests/emulators/test_bulk_bigquery.py), with one concession that costs real
BigQuery nothing: the load id and time are SQL literals, since bqemulator binds no query
parameters in a multi-statement query. What the emulator cannot prove: the JSON column type and
clustering (it keeps neither from DDL; the tests assert the DDL), and real BigQuery's transaction
semantics (snapshot isolation, conflicts with concurrent DML on the same table).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

from extract.bucket import Bucket
from extract.bulk.engines import Stamp
from extract.bulk.origin import CsvChildren, CsvRecords, Documents, MemberLoad
from extract.errors import ConfigError, SourceDataError
from extract.raw_tables import LOAD_ID, PARTITION_COLUMN, ROW_ID, Column, RawTable
from extract.settings import Settings

TYPES = {"text": "STRING", "date": "DATE", "json": "JSON", "timestamp": "TIMESTAMP"}
STAMPED = ("payload", "extracted_at")
BLOCK = 8 << 20


def require_gcs_bucket(settings: Settings) -> None:
    if not settings.bucket_url.startswith("gs://"):
        raise ConfigError(
            "--bulk with --destination bigquery needs BUCKET on gs:// (load jobs read from GCS)"
        )


def q(name: str) -> str:
    return "`" + name.replace("`", "") + "`"


def s(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def table_ddl(qualified: str, table: RawTable) -> str:
    """The raw table as dlt's BigQuery destination makes it: monthly partitions, clustering."""
    columns = ", ".join(
        f"{c.name} {TYPES[c.data_type]}{'' if c.nullable else ' NOT NULL'}"
        for c in (*table.columns, LOAD_ID, ROW_ID)
    )
    partition = f"PARTITION BY DATE_TRUNC({PARTITION_COLUMN}, MONTH) " if table.partitioned else ""
    return (
        f"CREATE TABLE IF NOT EXISTS {q(qualified)} ({columns}) "
        f"{partition}CLUSTER BY {', '.join(table.clustering)}"
    )


def csv_load_config(header: Sequence[str]) -> dict[str, Any]:
    """Load job configuration (REST `configuration.load`) for a bulk CSV: every column STRING."""
    return {
        "sourceFormat": "CSV",
        "skipLeadingRows": 1,
        "allowQuotedNewlines": True,
        "encoding": "UTF-8",
        "writeDisposition": "WRITE_TRUNCATE",
        "schema": {"fields": [{"name": h, "type": "STRING", "mode": "NULLABLE"} for h in header]},
    }


def jsonl_load_config(key_field: str, document_field: str) -> dict[str, Any]:
    return {
        "sourceFormat": "NEWLINE_DELIMITED_JSON",
        "writeDisposition": "WRITE_TRUNCATE",
        "ignoreUnknownValues": True,
        "schema": {
            "fields": [{"name": key_field, "type": "STRING"}, {"name": document_field, "type": "JSON"}]
        },
    }


def csv_payload(payload_keys: Mapping[str, str], alias: str) -> str:
    pairs = ", ".join(f"{s(k)}, COALESCE({alias}.{q(h)}, '')" for h, k in payload_keys.items())
    return f"JSON_OBJECT({pairs})"


def stamp_values(stamp: Stamp) -> str:
    """`extracted_at, _dlt_load_id, _dlt_id` of the member's rows. Literals, not query parameters:
    bqemulator binds none in a multi-statement query, and both values are ours. `_dlt_id` is
    filled because dlt's tables have it NOT NULL (and would otherwise add it to ours)."""
    moment = stamp.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    return f"TIMESTAMP '{moment}', {s(stamp.load_id)}, GENERATE_UUID()"


def lifted(column: Column, expression: str | None) -> str:
    """A lifted column from its text: dates parsed (NULL if not a date), text NULL where empty."""
    if expression is None:
        return "NULL"
    if column.data_type == "date":
        return f"SAFE.PARSE_DATE('%Y-%m-%d', LEFT({expression}, 10))"
    return f"NULLIF({expression}, '')"


def _columns(table: RawTable) -> str:
    """The columns an insert fills, in the order of its values: key, lifted, stamped, dlt's."""
    lifted_names = [c.name for c in table.columns[1:] if c.name not in STAMPED]
    return ", ".join([table.key, *lifted_names, "payload", "extracted_at", LOAD_ID.name, ROW_ID.name])


def _replace(table: str, key: str, stage_keys: str, load_id: str) -> str:
    return f"DELETE FROM {q(table)} WHERE _dlt_load_id <> {s(load_id)} AND {key} IN ({stage_keys});"


def keyed_script(table: str, stage: str, member: CsvRecords | Documents, stamp: Stamp) -> str:
    """Insert the stage's rows (a key repeated in the member kept once), drop the rows they replace.
    `WHERE TRUE`: BigQuery has accepted QUALIFY only beside a WHERE, GROUP BY or HAVING."""
    if isinstance(member, CsvRecords):
        key, text = member.key_column, {c: f"r.{q(h)}" for c, h in member.lifted.items()}
        payload, order = csv_payload(member.payload_keys, "r"), "TO_JSON_STRING(r)"
    else:
        doc = f"r.{q(member.document_field)}"
        key = member.key_field
        text = {
            c: "COALESCE(" + ", ".join(f"JSON_VALUE({doc}, '$.{'.'.join(p)}')" for p in paths) + ")"
            for c, paths in member.lifted.items()
        }
        payload, order = doc, f"TO_JSON_STRING({doc})"
    values = [lifted(c, text.get(c.name)) for c in member.table.columns[1:] if c.name not in STAMPED]
    return f"""BEGIN TRANSACTION;
INSERT INTO {q(table)} ({_columns(member.table)})
SELECT COALESCE(r.{q(key)}, ''), {", ".join(values)}, {payload}, {stamp_values(stamp)}
FROM {q(stage)} AS r
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY r.{q(key)} ORDER BY {order}) = 1;
{_replace(table, member.table.key, f"SELECT {q(key)} FROM {q(stage)}", stamp.load_id)}
COMMIT TRANSACTION;"""


def children_script(table: str, parent: str, stage: str, member: CsvChildren, stamp: Stamp) -> str:
    """Records with their parent's lifted columns; a parent's earlier set is replaced as a whole
    (they have no key of their own), as on the API path."""
    inherited = ", ".join(f"c.{c.name}" for c in member.table.columns[1:] if c.name not in STAMPED)
    key = q(member.key_column)
    return f"""BEGIN TRANSACTION;
INSERT INTO {q(table)} ({_columns(member.table)})
SELECT COALESCE(r.{key}, ''), {inherited}, {csv_payload(member.payload_keys, "r")},
    {stamp_values(stamp)}
FROM {q(stage)} AS r LEFT JOIN {q(parent)} AS c ON c.{member.parent.key} = r.{key};
{_replace(table, member.table.key, f"SELECT {key} FROM {q(stage)}", stamp.load_id)}
COMMIT TRANSACTION;"""


def stage_check(stage: str, key: str) -> str:
    """The member's rows, distinct keys and rows without a key, read before anything is written."""
    return f"SELECT COUNT(*), COUNT(DISTINCT {q(key)}), COUNTIF(COALESCE({q(key)}, '') = '') FROM {q(stage)}"


class BigQueryEngine:
    """The BigQuery engine of the bulk runner."""

    def __init__(self, settings: Settings, bucket: Bucket) -> None:
        from google.cloud import bigquery

        require_gcs_bucket(settings)
        options = (
            {"api_endpoint": os.environ["BQ_API_ENDPOINT"]} if os.environ.get("BQ_API_ENDPOINT") else None
        )
        self.bq = bigquery
        self.client = bigquery.Client(
            project=settings.project_id, location=settings.region, client_options=options
        )
        self.dataset = f"{settings.project_id}.{settings.dataset}"
        self.client.create_dataset(self.dataset, exists_ok=True)
        self.bucket = bucket
        self.max_rejected, self.rejected = settings.bulk_max_rejected, 0

    def close(self) -> None:
        self.client.close()

    def qualified(self, name: str) -> str:
        return f"{self.dataset}.{name}"

    def ensure_table(self, table: RawTable) -> None:
        self.client.query(table_ddl(self.qualified(table.name), table)).result()

    def begin(self) -> None:  # each member's script is its own transaction
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def load(
        self, member: MemberLoad, path: Path, stamp: Stamp, label: str, verify: Callable[[], None]
    ) -> int:
        name = member.table.name
        if isinstance(member, Documents):
            config, key = jsonl_load_config(member.key_field, member.document_field), member.key_field
        else:
            config, key = csv_load_config(member.header), member.key_column
        stage = self._stage(name, path, config, label, verify)
        if isinstance(member, CsvChildren):
            script = children_script(
                self.qualified(name), self.qualified(member.parent.name), stage, member, stamp
            )
        else:
            script = keyed_script(self.qualified(name), stage, member, stamp)
        return self._apply(stage, key, not isinstance(member, CsvChildren), script, label)

    def _stage(
        self, name: str, source: Path, config: dict[str, Any], label: str, verify: Callable[[], None]
    ) -> str:
        """Streams the member into the bucket, checks it was whole, loads it into a staging table."""
        suffix = "csv" if config["sourceFormat"] == "CSV" else "jsonl"
        key = f"epc/bulk/stage/{name}.{suffix}"
        with source.open("rb") as member, self.bucket.fs.open(self.bucket.path(key), "wb") as out:
            while block := member.read(BLOCK):
                out.write(block)
        verify()
        stage = self.qualified(f"_bulk_stage_{name}")
        # malformed lines: the load job skips up to BULK_MAX_REJECTED and counts them, else fails
        job = self.bq.LoadJobConfig.from_api_repr({"load": config | {"maxBadRecords": self.max_rejected}})
        try:
            done = self.client.load_table_from_uri(self.bucket.uri(key), stage, job_config=job).result()
        except Exception as exc:  # the load job's own message names the bad line
            raise SourceDataError(
                f"{label}: BigQuery could not load it (more than BULK_MAX_REJECTED={self.max_rejected} "
                f"malformed lines?): {str(exc).splitlines()[0]}"
            ) from None
        finally:
            self.bucket.delete(key)
        statistics = done._properties.get("statistics", {}).get("load", {})  # no public accessor
        self.rejected = int(statistics.get("badRecords") or 0)
        return stage

    def _apply(self, stage: str, key: str, keyed: bool, script: str, label: str) -> int:
        """Checks the staged member's keys, runs its transaction, drops the stage. Returns the rows
        it leaves: distinct keys for keyed records (a repeated key is kept once), rows otherwise."""
        try:
            rows, keys, blank = next(iter(self.client.query(stage_check(stage, key)).result())).values()
            if blank:
                raise SourceDataError(f"{label}: {blank} rows have no {key}")
            self.client.query(script).result()
        finally:
            self.client.delete_table(stage, not_found_ok=True)
        return int(keys if keyed else rows)
