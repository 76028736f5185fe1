"""The daily job's audit: one record per run, as a row of `pipeline_runs` in the raw dataset
(loaded by dlt like every raw table) and as JSON at `{BUCKET}/runs/YYYY/MM/DD/{run_id}.json`."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import dlt
from dlt.destinations.exceptions import DatabaseTerminalException, DatabaseUndefinedRelation

from extract.bucket import Bucket
from extract.pipeline import build_pipeline
from extract.settings import Settings

TABLE = "pipeline_runs"
COLUMNS: dict[str, dict[str, Any]] = {
    "run_id": {"data_type": "text", "nullable": False, "primary_key": True},
    "started_at": {"data_type": "timestamp"},
    "finished_at": {"data_type": "timestamp"},
    "run_date": {"data_type": "date"},
    "status": {"data_type": "text"},
    "source": {"data_type": "text"},
    "kinds": {"data_type": "json"},
    "run_window": {"data_type": "text"},  # `window` is reserved in SQL
    "requests_sent": {"data_type": "bigint"},
    "requests_by_path": {"data_type": "json"},
    "certificates_new": {"data_type": "bigint"},
    "certificates_pending": {"data_type": "bigint"},
    "lines_rejected": {"data_type": "bigint"},
    "rows_landed": {"data_type": "json"},
    "dbt_status": {"data_type": "text"},
    "dbt_failures": {"data_type": "json"},
    "tests_since": {"data_type": "text"},  # the load id the build's data tests read from; NULL: all rows
    "dbt_project_hash": {"data_type": "text"},  # the dbt project's files the build ran (project_fingerprint)
    "freshness_status": {"data_type": "text"},
    "freshness": {"data_type": "json"},
    "error": {"data_type": "text"},
    "version": {"data_type": "text"},
}


def project_version() -> str:
    try:
        return version("dame-epc")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class RunRecord:
    """What one run of the job did. `status` is `success` only when every step succeeded."""

    run_id: str
    started_at: datetime
    run_date: date  # the register's date the run ran on
    finished_at: datetime | None = None
    status: str = "running"
    source: str | None = None
    kinds: list[str] = field(default_factory=list)
    run_window: str | None = None
    requests_sent: int = 0
    requests_by_path: dict[str, int] = field(default_factory=dict)
    certificates_new: int = 0
    certificates_pending: int = 0
    lines_rejected: int = 0
    rows_landed: dict[str, int] = field(default_factory=dict)
    dbt_status: str = "skipped"
    dbt_failures: list[str] = field(default_factory=list)
    tests_since: str | None = None
    dbt_project_hash: str | None = None
    freshness_status: str = "skipped"
    freshness: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    version: str = field(default_factory=project_version)

    @classmethod
    def start(cls, run_date: date) -> RunRecord:
        started = datetime.now(UTC)
        return cls(f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}", started, run_date)

    def finish(self, error: str | None) -> None:
        self.finished_at = datetime.now(UTC)
        self.error = error
        self.status = "failed" if error else "success"

    def as_json(self) -> dict[str, Any]:
        record = asdict(self)
        for name in ("started_at", "finished_at"):
            record[name] = record[name].isoformat() if record[name] else None
        record["run_date"] = self.run_date.isoformat()
        return record

    @property
    def bucket_key(self) -> str:
        return f"runs/{self.run_date:%Y/%m/%d}/{self.run_id}.json"


def write_to_bucket(settings: Settings, record: RunRecord) -> str:
    bucket = Bucket(settings.bucket_url)
    bucket.write_json(record.bucket_key, record.as_json())
    return bucket.uri(record.bucket_key)


def write_to_warehouse(settings: Settings, record: RunRecord) -> None:
    """Appends the record to `pipeline_runs` (merged on `run_id`: a retried write adds nothing)."""
    pipeline = build_pipeline(settings, "audit")
    row = asdict(record)
    resource = dlt.resource(
        [row], name=TABLE, write_disposition="merge", primary_key="run_id", columns=COLUMNS
    )
    pipeline.run(resource)


def last_successful_build(settings: Settings) -> tuple[datetime, str | None] | None:
    """When the last run whose `dbt build` succeeded started, and the dbt project's fingerprint
    it built (None: no such run recorded). Every row loaded since was loaded by that run or a
    later one."""
    pipeline = build_pipeline(settings, "audit")
    with pipeline.sql_client() as client:
        table = client.make_qualified_table_name(TABLE)
        try:
            rows = client.execute_sql(
                f"select started_at, dbt_project_hash from {table} where dbt_status = 'success' "
                "order by started_at desc limit 1"
            )
        except (DatabaseUndefinedRelation, DatabaseTerminalException):  # no table yet, or an older one
            return None
    if not rows:
        return None
    started, fingerprint = rows[0]
    return (started if started.tzinfo else started.replace(tzinfo=UTC)), fingerprint
