"""How complete the live service's rows are next to the v1 API's, column by column.

    python scripts/null_shares.py [DUCKDB_PATH] [--schema dame_epc] [--mart enr_domestic_latest_by_uprn]

For every column of each mart that v1 rows fill (less than 100 % NULL among them), prints the
share of NULL among v1 rows and among live rows, and the gap in points. A gap above 10 points is
marked: either the mapping misses something, or the service does not carry the field, which
`dbt_project/models/_epc__docs.md` (`live_service_gaps`) must then say. Exit 1 when a marked
column is not listed there, so the check can run in CI.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
MARTS = ("enr_domestic_latest_by_uprn", "enr_non_domestic_latest_by_uprn")
THRESHOLD = 10.0


def documented_gaps() -> set[str]:
    """Column names the docs list as gaps of the live service (`live_service_gaps` doc block)."""
    text = (ROOT / "dbt_project" / "models" / "_epc__docs.md").read_text()
    block = re.search(r"{% docs live_service_gaps %}(.*?){% enddocs %}", text, re.S)
    if not block:
        return set()
    items = [line[2:].split(": ", 1)[0] for line in block.group(1).splitlines() if line.startswith("- ")]
    return {name for item in items for name in re.findall(r"`([a-z0-9_]+)`", item)}


def shares(con: duckdb.DuckDBPyConnection, schema: str, mart: str) -> list[tuple[str, float, float]]:
    columns = [
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [schema, mart],
        ).fetchall()
    ]
    selects = ", ".join(
        f"avg(case when \"{c}\" is null then 100.0 else 0 end) filter (where source_system = 'odc'), "
        f"avg(case when \"{c}\" is null then 100.0 else 0 end) filter (where source_system = 'mhclg')"
        for c in columns
    )
    row = con.execute(f'select {selects} from "{schema}"."{mart}"').fetchone()
    return [(c, row[2 * i], row[2 * i + 1]) for i, c in enumerate(columns)]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(ROOT / "data" / "epc.duckdb"))
    parser.add_argument("--schema", default="dame_epc")
    parser.add_argument("--mart", action="append", help="a mart (default: both latest-by-UPRN marts)")
    args = parser.parse_args(argv)
    gaps, undocumented = documented_gaps(), []
    with duckdb.connect(args.path, read_only=True) as con:
        for mart in args.mart or MARTS:
            print(f"\n{mart}: share of NULL, v1 rows vs live rows")
            print(f"{'column':<40}{'v1 %':>8}{'live %':>9}{'gap':>8}  note")
            for column, v1, live in shares(con, args.schema, mart):
                if v1 is None or live is None or v1 >= 100.0:
                    continue  # v1 leaves it empty, or one source has no rows here
                gap = live - v1
                note = ""
                if gap > THRESHOLD:
                    note = "documented gap" if column in gaps else "UNDOCUMENTED GAP"
                    if column not in gaps:
                        undocumented.append(f"{mart}.{column}")
                print(f"{column:<40}{v1:>8.1f}{live:>9.1f}{gap:>+8.1f}  {note}")
    if undocumented:
        print(
            f"\n{len(undocumented)} columns more than {THRESHOLD:g} points emptier on live rows and not "
            f"documented: {', '.join(undocumented)}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
