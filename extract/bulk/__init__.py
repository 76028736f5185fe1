"""Bulk backfill from the published ZIP files: the v1 bulk files (`/api/v1/files/{name}`) and
the live service's monthly full loads (`/api/files/{kind}/json`).

A file is downloaded with resume (HTTP Range) into DATA_DIR/bulk, its size checked against what
the source announced, then streamed member by member into the same raw tables the API path fills,
the warehouse engine doing the parsing and the JSON building (DuckDB `read_csv`/`read_json`;
BigQuery load jobs + SQL). Each member is one transaction that replaces the rows of its keys, so
bulk and API loads of a certificate merge into one row. Checkpoints in the bucket make a finished
file a no-op and let a killed run continue.
"""
