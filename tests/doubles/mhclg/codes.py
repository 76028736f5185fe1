"""The code tables the MHCLG double serves at `/api/codes` and `/api/codes/info`.

The rows are the real lookup tables, derived from the public schemas exactly as the service's
importer does (tests/fixtures/mhclg/codes/: codes.json, derive_codes.py, SOURCE.md with the
repositories and commits). The answers follow the service's code (epb-data-warehouse@3c9ad536,
lib/controller/codes_controller.rb): `/api/codes` lists the code names, sorted; `/api/codes/info`
takes `code` and, optionally, exact `key` and `schemaVersion` filters (no assessment-type filter),
and groups the matching rows by key, keys in order of first appearance; nothing matching is a 404.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "mhclg" / "codes" / "codes.json"


@cache
def rows() -> tuple[dict[str, str], ...]:
    """Every row: `{code, key, schema_version, assessment_type, value}`, in import order."""
    return tuple(json.loads(FIXTURE.read_text()))


def names() -> list[str]:
    return sorted({row["code"] for row in rows()})


def info(code: str, key: str | None = None, schema_version: str | None = None) -> list[dict[str, Any]]:
    """`[{key, values: [{value, schemaVersion, assessmentType}]}]` for `code`; empty when nothing
    matches (the service's 404)."""
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in rows():
        if row["code"] != code or (key is not None and row["key"] != key):
            continue
        if schema_version is not None and row["schema_version"] != schema_version:
            continue
        grouped.setdefault(row["key"], []).append(
            {
                "value": row["value"],
                "schemaVersion": row["schema_version"],
                "assessmentType": row["assessment_type"],
            }
        )
    return [{"key": k, "values": v} for k, v in grouped.items()]
