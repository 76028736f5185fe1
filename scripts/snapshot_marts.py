"""Dumps what a demo run produced, in a form two runs can be compared with `diff -r`.

    python scripts/snapshot_marts.py DATA_DIR OUT_DIR

Writes `OUT_DIR/warehouse/{table}.csv` for every curated model (`enr_*`) and raw table
(`*_raw_json`) in the DuckDB file, rows sorted, and `OUT_DIR/bucket/{key}` for every file in the
bucket, decompressed, lines sorted. Values that differ between two runs of the same data by
nature (load ids, extraction and finish times, the bucket's absolute path) are left out or
replaced by a placeholder, so a difference that remains is a difference in behaviour.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import sys
from pathlib import Path

import duckdb

VOLATILE_COLUMNS = {"extracted_at", "load_id", "_dlt_load_id", "_dlt_id", "updated_at", "finished_at"}
VOLATILE_KEYS = VOLATILE_COLUMNS | {"tag", "version"}
TIMESTAMP = re.compile(r'"extracted_at":"[^"]*"')


def dump_warehouse(path: Path, schema: str, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "and (table_name like 'enr\\_%' escape '\\' or table_name like '%\\_raw\\_json' escape '\\') "
                "order by 1",
                [schema],
            ).fetchall()
        ]
        for table in tables:
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? "
                    "and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if name not in VOLATILE_COLUMNS
            ]
            select = ", ".join(f'cast("{c}" as varchar)' for c in columns)
            rows = con.execute(f'select {select} from "{schema}"."{table}"').fetchall()
            rows.sort(key=lambda row: tuple("" if v is None else v for v in row))
            with (out / f"{table}.csv").open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(columns)
                writer.writerows(rows)
    return len(tables)


def _stable_json(text: str, root: str) -> str:
    value = json.loads(text)
    if isinstance(value, dict):
        for key in VOLATILE_KEYS & value.keys():
            value[key] = "<volatile>"
        if isinstance(value.get("files"), list):
            value["files"] = sorted(f.replace(root, "<bucket>") for f in value["files"])
    return json.dumps(value, sort_keys=True, indent=1)


def dump_bucket(bucket: Path, out: Path) -> int:
    root = bucket.resolve().as_uri()
    count = 0
    for path in sorted(p for p in bucket.rglob("*") if p.is_file()):
        key = path.relative_to(bucket)
        target = out / key.with_suffix("") if path.suffix == ".gz" else out / key
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".gz":
            with gzip.open(path, "rt") as handle:
                lines = sorted(TIMESTAMP.sub('"extracted_at":"<volatile>"', line) for line in handle)
            target.write_text("".join(lines))
        elif path.suffix == ".json":
            target.write_text(_stable_json(path.read_text(), root))
        else:
            target.write_bytes(path.read_bytes())
        count += 1
    return count


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python scripts/snapshot_marts.py DATA_DIR OUT_DIR", file=sys.stderr)
        return 2
    data, out = Path(argv[0]), Path(argv[1])
    tables = dump_warehouse(data / "epc.duckdb", "dame_epc", out / "warehouse")
    files = dump_bucket(data / "bucket", out / "bucket")
    print(f"{tables} tables and {files} bucket files written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
