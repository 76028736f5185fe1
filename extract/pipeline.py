"""The one place that builds a dlt pipeline for a destination, with the settings that matter."""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass

import dlt
from dlt.common.configuration.container import Container
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext
from dlt.common.runtime.telemetry import stop_telemetry
from dlt.destinations.adapters import bigquery_adapter
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.destinations.impl.bigquery.bigquery_adapter import PartitionTransformation
from dlt.extract.resource import DltResource

from extract.months import Month
from extract.raw_tables import PARTITION_COLUMN, RawTable
from extract.settings import Settings

# dlt settings this project depends on, applied unless the user configured them otherwise
DLT_DEFAULTS = {
    "runtime.dlthub_telemetry": "false",  # nothing may leave the machine unasked
    "runtime.log_level": "WARNING",
    "normalize.parquet_normalizer.add_dlt_load_id": "true",  # arrow items get _dlt_load_id too
    "load.truncate_staging_dataset": "true",  # merge leaves no copy behind in <dataset>_staging
    "load.delete_completed_jobs": "true",  # loaded files are in the bucket; keep no second copy
    # BigQuery reads uncompressed JSONL in parallel (a gzip file by one worker); the bucket copy
    # is compressed by the extractor itself
    "data_writer.disable_compression": "true",
}


class _ArrowPayloadHintFilter(logging.Filter):
    """Arrow pages carry `payload` as JSON text for a JSON column by design; dlt warns about
    that difference on every page, so that one message is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "when merging arrow schema with dlt schema" not in record.getMessage()


def apply_dlt_defaults() -> None:
    # reading query results needs no BigQuery Storage API client (not installed); say so once
    warnings.filterwarnings("ignore", message="Cannot create BigQuery Storage client")
    dlt_logger = logging.getLogger("dlt")
    if not any(isinstance(f, _ArrowPayloadHintFilter) for f in dlt_logger.filters):
        dlt_logger.addFilter(_ArrowPayloadHintFilter())
    unset = []
    for key, value in DLT_DEFAULTS.items():
        try:
            configured = dlt.config.get(key)
        except ConfigFieldMissingException:
            configured = None
        if configured is None and key.upper().replace(".", "__") not in os.environ:
            os.environ[key.upper().replace(".", "__")] = value
            unset.append(key)
    if any(key.startswith("runtime.") for key in unset):
        # dlt resolved its runtime settings, telemetry among them, on the first config read above
        # (or earlier): resolve them again so that the defaults just set take effect
        stop_telemetry()
        Container()[PluggableRunContext].initialize_runtime()


@dataclass(frozen=True)
class Warehouse:
    """A pipeline plus how items must be shaped and hinted for its destination."""

    pipeline: dlt.Pipeline
    item_format: str  # "arrow" (parquet loads) or "dicts" (jsonl loads, JSON-typed payload)
    loader_file_format: str

    def hint(self, resource: DltResource, table: RawTable) -> None:
        """Destination-specific table hints: BigQuery partitions dated records by lodgement month
        and clusters every table."""
        if self.pipeline.destination.destination_name == "bigquery":
            partition = PartitionTransformation("DATE_TRUNC({column_name}, MONTH)", PARTITION_COLUMN)
            bigquery_adapter(
                resource, partition=partition if table.partitioned else None, cluster=list(table.clustering)
            )

    def query(self, sql: str, table: str) -> list[tuple] | None:
        """`sql` with `{table}` as the qualified raw table; None while that table does not exist."""
        if not self.pipeline.default_schema_name:
            return None
        with self.pipeline.sql_client() as client:
            try:
                rows = client.execute_sql(sql.format(table=client.make_qualified_table_name(table)))
            except DatabaseUndefinedRelation:
                return None
        return list(rows or [])

    def drop_replaced(self, table: RawTable, load_id: str) -> None:
        """Deletes the rows of `table` from other loads whose key load `load_id` brought: what a
        merge on the key replaces, after an append."""
        with self.pipeline.sql_client() as client:
            name, key = client.make_qualified_table_name(table.name), table.key
            client.execute_sql(
                f"delete from {name} where _dlt_load_id <> '{load_id}' "
                f"and {key} in (select {key} from {name} where _dlt_load_id = '{load_id}')"
            )

    def json_text(self, column: str) -> str:
        """SQL giving a JSON column as its text."""
        if self.pipeline.destination.destination_name == "bigquery":
            return f"to_json_string({column})"
        return f"cast({column} as varchar)"

    def month_filter(self, month: Month) -> str:
        """SQL condition selecting rows lodged in `month` (both engines take DATE literals)."""
        first, last = month.first_day.isoformat(), month.last_day.isoformat()
        return f"lodgement_date between date '{first}' and date '{last}'"

    def rows_in_month(self, table: str, month: Month) -> int:
        found = self.query(f"select count(*) from {{table}} where {self.month_filter(month)}", table)
        return int(found[0][0]) if found else 0

    def landed_in_month(self, table: str, month: Month, columns: tuple[str, ...]) -> list[tuple]:
        """`columns` (text) of the rows of `table` lodged in `month`, in the order of the first."""
        select = ", ".join(f"cast({c} as string)" for c in columns)
        sql = f"select {select} from {{table}} where {self.month_filter(month)} order by {columns[0]}"
        return self.query(sql, table) or []


def schema_name(source: str) -> str:
    """The dlt source (and schema) name of an API source's resources: `epc_odc`, `epc_mhclg`."""
    return f"epc_{source}"


def build_pipeline(settings: Settings, name: str) -> dlt.Pipeline:
    """The dlt pipeline `epc_<name>_<destination>` loading into `settings.destination`'s raw dataset."""
    apply_dlt_defaults()
    settings.pipelines_dir.mkdir(parents=True, exist_ok=True)
    if settings.destination == "bigquery":
        # credentials: Application Default Credentials, or the key file GOOGLE_APPLICATION_CREDENTIALS
        destination = dlt.destinations.bigquery(project_id=settings.project_id, location=settings.region)
    else:
        settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        destination = dlt.destinations.duckdb(str(settings.duckdb_path))
    return dlt.pipeline(
        pipeline_name=f"epc_{name}_{settings.destination}",
        destination=destination,
        dataset_name=settings.dataset,
        pipelines_dir=str(settings.pipelines_dir),
    )


def build_warehouse(settings: Settings, source: str) -> Warehouse:
    """The raw tables of API source `source`, through its own pipeline.

    Both destinations get the month's NDJSON written into the bucket by the extractor rather than
    by dlt's filesystem staging, which always nests files under `<bucket>/<dataset>/` and so cannot
    give the `{BUCKET}/epc/json/{kind}/{YYYYMM}/` layout.
    """
    pipeline = build_pipeline(settings, source)
    if settings.destination == "bigquery":
        return Warehouse(
            pipeline, item_format="dicts", loader_file_format="jsonl"
        )  # JSON columns: no parquet
    return Warehouse(pipeline, item_format="arrow", loader_file_format="parquet")
