"""Makes the API path's dlt pipeline know the raw tables a bulk load created.

The API runner appends (rather than merges) a month it believes empty, and it asks its dlt
pipeline; a pipeline that has never loaded has no schema and sees nothing. One dlt run with no
rows, under the API source's schema name and the tables' hints, records the tables (and leaves
their rows alone), so a later API load of the same certificates merges into the bulk rows.
"""

from __future__ import annotations

import dlt

from extract.pipeline import build_warehouse, schema_name
from extract.raw_tables import RawTable
from extract.settings import Settings


def register(settings: Settings, source: str, tables: list[RawTable]) -> None:
    warehouse = build_warehouse(settings, source)
    pipeline, schema = warehouse.pipeline, schema_name(source)
    known = pipeline.schemas[schema].tables if schema in pipeline.schemas else {}
    missing = [t for t in tables if t.name not in known]
    if not missing:
        return

    @dlt.source(name=schema, max_table_nesting=0)
    def empty() -> list:
        return [
            dlt.resource([], name=t.name, write_disposition="merge", merge_key=t.key, columns=t.dlt_columns())
            for t in missing
        ]

    pipeline.run(empty(), loader_file_format=warehouse.loader_file_format)
