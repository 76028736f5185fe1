"""Runs every SQL block of the README's "Query the data" section on a DuckDB file.

    python scripts/readme_queries.py DATABASE [README]

Blocks that start with `-- BigQuery` are BigQuery's versions and are skipped. Each other block
must run and return at least one row; exits 1 naming the first that does not.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]


def duckdb_blocks(readme: str) -> list[str]:
    """The DuckDB SQL blocks of the section "## Query the data"."""
    section = readme.split("## Query the data", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)```", section, flags=re.DOTALL)
    return [block for block in blocks if not block.lstrip().startswith("-- BigQuery")]


def main(database: str, readme: Path = ROOT / "README.md") -> int:
    blocks = duckdb_blocks(readme.read_text())
    with duckdb.connect(database, read_only=True) as con:
        for number, sql in enumerate(blocks, start=1):
            try:
                rows = con.execute(sql).fetchall()
            except duckdb.Error as exc:
                print(f"README query {number} failed: {str(exc).splitlines()[0]}\n{sql}", file=sys.stderr)
                return 1
            if not rows:
                print(f"README query {number} returned no row:\n{sql}", file=sys.stderr)
                return 1
    print(f"{len(blocks)} README queries ran on {database}, each returning rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], *(Path(a) for a in sys.argv[2:])))
