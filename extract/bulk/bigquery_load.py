"""Bulk members into BigQuery's raw tables: each member is streamed from the zip into the bucket
(GCS), a load job puts it into a staging table with every column text (CSV) or the document as
JSON (JSON Lines), and one multi-statement transaction inserts the rows, payload built by SQL
(`JSON_OBJECT`), and deletes the rows they replace. Python never looks at a row.

The raw tables have the columns dlt's BigQuery destination gives them (`_dlt_id` included), so a
later API load merges into them and an earlier one's tables take bulk rows.

Runs on bqemulator (tests/test_bulk_bigquery.py), with one concession that costs real BigQuery
nothing: the load id and time are SQL literals, since bqemulator binds no query parameters in a
multi-statement query. What the emulator cannot prove: the JSON column type and clustering (it
keeps neither from DDL; the tests assert the DDL), and real BigQuery's transaction semantics
(snapshot isolation, conflicts with concurrent DML on the same table).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from extract.bucket import Bucket
from extract.bulk.duckdb_load import V1_KEY, api_name, require
from extract.errors import ConfigError, SourceDataError
from extract.settings import Settings

LIVE_EXTRA = ("schema_type", "related_certificate_number")
BLOCK = 8 << 20


def require_supported(settings: Settings) -> None:
    if not settings.bucket_url.startswith("gs://"):
        raise ConfigError(
            "--bulk with --destination bigquery needs BUCKET on gs:// (load jobs read from GCS)"
        )


def q(name: str) -> str:
    return "`" + name.replace("`", "") + "`"


def s(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def table_ddl(table: str, key: str, extra: Sequence[str], cluster: Sequence[str]) -> str:
    """The raw table as dlt's BigQuery destination makes it: monthly partitions, clustering."""
    columns = [f"{key} STRING NOT NULL", "lodgement_date DATE", "postcode STRING", "uprn STRING",
               *(f"{e} STRING" for e in extra), "payload JSON", "extracted_at TIMESTAMP",
               "_dlt_load_id STRING NOT NULL", "_dlt_id STRING NOT NULL"]  # fmt: skip
    return (
        f"CREATE TABLE IF NOT EXISTS {q(table)} ({', '.join(columns)}) "
        f"PARTITION BY DATE_TRUNC(lodgement_date, MONTH) CLUSTER BY {', '.join(cluster)}"
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


def jsonl_load_config() -> dict[str, Any]:
    return {
        "sourceFormat": "NEWLINE_DELIMITED_JSON",
        "writeDisposition": "WRITE_TRUNCATE",
        "ignoreUnknownValues": True,
        "schema": {
            "fields": [{"name": "certificate_number", "type": "STRING"}, {"name": "document", "type": "JSON"}]
        },
    }


def v1_payload(header: Sequence[str], alias: str) -> str:
    pairs = ", ".join(f"{s(api_name(h))}, COALESCE({alias}.{q(h)}, '')" for h in header)
    return f"JSON_OBJECT({pairs})"


def stamp(load_id: str, at: datetime) -> str:
    """`extracted_at, _dlt_load_id, _dlt_id` of the member's rows. Literals, not query parameters:
    bqemulator binds none in a multi-statement query, and both values are ours. `_dlt_id` is
    filled because dlt's tables have it NOT NULL (and would otherwise add it to ours)."""
    moment = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    return f"TIMESTAMP '{moment}', {s(load_id)}, GENERATE_UUID()"


def _replace(table: str, key: str, stage_keys: str, load_id: str) -> str:
    return f"DELETE FROM {q(table)} WHERE _dlt_load_id <> {s(load_id)} AND {key} IN ({stage_keys});"


def v1_certificates_script(table: str, stage: str, header: Sequence[str], load_id: str, at: datetime) -> str:
    """Insert the stage's rows (a key repeated in the file kept once), drop the rows they replace.
    `WHERE TRUE`: BigQuery has accepted QUALIFY only beside a WHERE, GROUP BY or HAVING."""
    lifted = [
        f"COALESCE(r.{q(V1_KEY)}, '')",
        "SAFE.PARSE_DATE('%Y-%m-%d', r.LODGEMENT_DATE)" if "LODGEMENT_DATE" in header else "NULL",
        "NULLIF(r.POSTCODE, '')" if "POSTCODE" in header else "NULL",
        "NULLIF(r.UPRN, '')" if "UPRN" in header else "NULL",
    ]
    return f"""BEGIN TRANSACTION;
INSERT INTO {q(table)} (lmk_key, lodgement_date, postcode, uprn, payload, extracted_at, _dlt_load_id, _dlt_id)
SELECT {", ".join(lifted)}, {v1_payload(header, "r")}, {stamp(load_id, at)}
FROM {q(stage)} AS r
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY r.{q(V1_KEY)} ORDER BY TO_JSON_STRING(r)) = 1;
{_replace(table, "lmk_key", f"SELECT {q(V1_KEY)} FROM {q(stage)}", load_id)}
COMMIT TRANSACTION;"""


def v1_recommendations_script(
    table: str, parent: str, stage: str, header: Sequence[str], load_id: str, at: datetime
) -> str:
    """Recommendations with their certificate's lifted columns; a certificate's earlier set is
    replaced as a whole (they have no key of their own), as on the API path."""
    return f"""BEGIN TRANSACTION;
INSERT INTO {q(table)} (lmk_key, lodgement_date, postcode, uprn, payload, extracted_at, _dlt_load_id, _dlt_id)
SELECT COALESCE(r.{q(V1_KEY)}, ''), c.lodgement_date, c.postcode, c.uprn, {v1_payload(header, "r")},
    {stamp(load_id, at)}
FROM {q(stage)} AS r LEFT JOIN {q(parent)} AS c ON c.lmk_key = r.{q(V1_KEY)};
{_replace(table, "lmk_key", f"SELECT {q(V1_KEY)} FROM {q(stage)}", load_id)}
COMMIT TRANSACTION;"""


def live_documents_script(table: str, stage: str, load_id: str, at: datetime) -> str:
    d = "r.document"
    return f"""BEGIN TRANSACTION;
INSERT INTO {q(table)} (certificate_number, lodgement_date, postcode, uprn, schema_type,
    related_certificate_number, payload, extracted_at, _dlt_load_id, _dlt_id)
SELECT r.certificate_number,
    SAFE_CAST(LEFT(COALESCE(JSON_VALUE({d}, '$.registration_date'), JSON_VALUE({d}, '$.date_of_registration')), 10) AS DATE),
    NULLIF(COALESCE(JSON_VALUE({d}, '$.postcode'), JSON_VALUE({d}, '$.address.postcode')), ''),
    NULLIF(JSON_VALUE({d}, '$.uprn'), ''),
    COALESCE(JSON_VALUE({d}, '$.schema_type'), JSON_VALUE({d}, '$.schema_version_original')),
    JSON_VALUE({d}, '$.related_certificate_number'),
    {d}, {stamp(load_id, at)}
FROM {q(stage)} AS r
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY r.certificate_number ORDER BY TO_JSON_STRING({d})) = 1;
{_replace(table, "certificate_number", f"SELECT certificate_number FROM {q(stage)}", load_id)}
COMMIT TRANSACTION;"""  # noqa: E501


def stage_check(stage: str, key: str) -> str:
    """The member's rows, distinct keys and rows without a key, read before anything is written."""
    return f"SELECT COUNT(*), COUNT(DISTINCT {q(key)}), COUNTIF(COALESCE({q(key)}, '') = '') FROM {q(stage)}"


class BigQueryBulk:
    """The BigQuery engine of `BulkRunner` (same calls as `DuckDbBulk`)."""

    def __init__(self, settings: Settings, bucket: Bucket) -> None:
        from google.cloud import bigquery

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
        self.verify: Callable[[], None] = lambda: None  # the runner's check that the member was whole

    def close(self) -> None:
        self.client.close()

    def table(self, name: str) -> str:
        return f"{self.dataset}.{name}"

    def ensure_table(self, name: str, key: str, extra: Sequence[str] = ()) -> None:
        cluster = (
            (key, "postcode", "uprn") if name in ("domestic_raw_json", "mhclg_domestic_raw_json") else (key,)
        )
        self.client.query(table_ddl(self.table(name), key, extra, cluster)).result()

    def begin(self) -> None:  # each member's script is its own transaction
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def _stage(self, name: str, source: Path, config: dict[str, Any], label: str) -> str:
        """Streams the member into the bucket, checks it was whole, loads it into a staging table."""
        suffix = "csv" if config["sourceFormat"] == "CSV" else "jsonl"
        key = f"epc/bulk/stage/{name}.{suffix}"
        with source.open("rb") as member, self.bucket.fs.open(self.bucket.path(key), "wb") as out:
            while block := member.read(BLOCK):
                out.write(block)
        self.verify()
        stage = self.table(f"_bulk_stage_{name}")
        job = self.bq.LoadJobConfig.from_api_repr({"load": config})
        try:
            self.client.load_table_from_uri(self.bucket.uri(key), stage, job_config=job).result()
        except Exception as exc:  # the load job's own message names the bad line
            raise SourceDataError(
                f"{label}: BigQuery could not load it: {str(exc).splitlines()[0]}"
            ) from None
        finally:
            self.bucket.delete(key)
        return stage

    def _apply(self, stage: str, key: str, keyed: bool, script: str, label: str) -> int:
        """Checks the staged member's keys, runs its transaction, drops the stage. Returns the rows
        it leaves: distinct keys for certificates (a repeated key is kept once), rows otherwise."""
        try:
            rows, keys, blank = next(iter(self.client.query(stage_check(stage, key)).result())).values()
            if blank:
                raise SourceDataError(f"{label}: {blank} rows have no {key}")
            self.client.query(script).result()
        finally:
            self.client.delete_table(stage, not_found_ok=True)
        return int(keys if keyed else rows)

    def insert_v1_certificates(
        self, name: str, source: Path, header: Sequence[str], load_id: str, at: datetime, label: str
    ) -> int:
        require(header, (V1_KEY,), label)
        stage = self._stage(name, source, csv_load_config(header), label)
        script = v1_certificates_script(self.table(name), stage, header, load_id, at)
        return self._apply(stage, V1_KEY, True, script, label)

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
        require(header, (V1_KEY,), label)
        stage = self._stage(name, source, csv_load_config(header), label)
        script = v1_recommendations_script(self.table(name), self.table(parent), stage, header, load_id, at)
        return self._apply(stage, V1_KEY, False, script, label)

    def insert_live_documents(self, name: str, source: Path, load_id: str, at: datetime, label: str) -> int:
        stage = self._stage(name, source, jsonl_load_config(), label)
        script = live_documents_script(self.table(name), stage, load_id, at)
        return self._apply(stage, "certificate_number", True, script, label)
