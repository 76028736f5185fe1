"""Makes the API path's dlt pipeline know the raw tables a bulk load created.

The API runner appends (rather than merges) a month it believes empty, and it asks its dlt
pipeline; a pipeline that has never loaded has no schema and sees nothing. One dlt run with no
rows, under the API source's schema name and hints, records the tables (and leaves their rows
alone), so a later API load of the same certificates merges into the bulk rows.
"""

from __future__ import annotations

import dlt

from extract.landing import landing_columns
from extract.pipeline import build_warehouse
from extract.settings import Settings

SCHEMAS = {"odc": "epc_odc", "mhclg": "epc_mhclg"}  # the API sources' dlt names
LIVE_EXTRA = ("schema_type", "related_certificate_number")


def register(settings: Settings, source: str, tables: list[str]) -> None:
    warehouse = build_warehouse(settings, source)
    pipeline = warehouse.pipeline
    known = pipeline.schemas[SCHEMAS[source]].tables if SCHEMAS[source] in pipeline.schemas else {}
    missing = [t for t in tables if t not in known]
    if not missing:
        return
    key = "lmk_key" if source == "odc" else "certificate_number"
    extra = () if source == "odc" else LIVE_EXTRA

    @dlt.source(name=SCHEMAS[source], max_table_nesting=0)
    def empty() -> list:
        return [
            dlt.resource(
                [], name=t, write_disposition="merge", merge_key=key, columns=landing_columns(key, extra)
            )
            for t in missing
        ]

    pipeline.run(empty(), loader_file_format=warehouse.loader_file_format)
