"""The v1 bulk files behind `/api/v1/files`, made from the double's data (epc-api.md 1.1).

Each zip holds `certificates.csv` and `recommendations.csv` with the bulk files' UPPER_SNAKE
headers (the API's names upper-cased, `-` → `_`, in API order) and the API's values (every value
the string the API serves, `""` for missing). Names and layout:
- `all-{kind}-certificates.zip`: one folder per local authority,
  `{kind}-{ONS code}-{Name-With-Hyphens}/certificates.csv` and `…/recommendations.csv`;
- `{kind}-{YYYY}.zip`: the year's certificates, both CSVs at the root;
- `{kind}-{ONS code}-{Name-With-Hyphens}.zip`: one authority, both CSVs at the root.
The double's own choices: rows in API order (lodgement time, then key) within each CSV, every
field quoted only where CSV needs it, `\\n` line ends, and ZIP entries dated 2024-01-01 so a file's
bytes are the same on every build (downloads resume across requests).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from typing import Protocol

from tests.doubles.odc_v1 import fields

KINDS = ("domestic", "non-domestic")
ENTRY_DATE = (2024, 1, 1, 0, 0, 0)


class Rows(Protocol):
    def months(self) -> list[str]: ...
    def rows(self, kind: str, month: str) -> tuple[dict[str, str], ...]: ...
    def recommendations(self, kind: str, lmk_key: str) -> list[dict[str, str]]: ...


def column(name: str) -> str:
    """`lmk-key` → `LMK_KEY`: the bulk CSV header of an API field."""
    return name.upper().replace("-", "_")


def authority_folder(kind: str, row: dict[str, str]) -> str:
    """`domestic-E07000223-Adur`: the folder (and per-authority file) name of a row's authority."""
    return f"{kind}-{row['local-authority']}-{row['local-authority-label'].replace(' ', '-')}"


def csv_bytes(names: tuple[str, ...], rows: Iterable[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([column(n) for n in names])
    writer.writerows([r.get(n, "") for n in names] for r in rows)
    return out.getvalue().encode()


def _kind_of(name: str) -> tuple[str, str] | None:
    """(kind, rest) of a file name, `non-domestic` matched before `domestic`."""
    stem = name.removesuffix(".zip")
    if stem == name:
        return None
    for kind in ("non-domestic", "domestic"):
        if stem == f"all-{kind}-certificates":
            return kind, "all"
        if stem.startswith(f"{kind}-"):
            return kind, stem[len(kind) + 1 :]
    return None


def names(data: Rows) -> list[str]:
    """Every file the double lists: the two all-in-one zips, one per year, one per authority."""
    out = []
    for kind in KINDS:
        rows = [r for m in data.months() for r in data.rows(kind, m)]
        if not rows:
            continue
        out.append(f"all-{kind}-certificates.zip")
        out += sorted({f"{kind}-{r['lodgement-date'][:4]}.zip" for r in rows})
        out += sorted({f"{authority_folder(kind, r)}.zip" for r in rows})
    return out


def members(data: Rows, name: str) -> dict[str, bytes] | None:
    """The zip's members by path, or None for a file the double does not have."""
    found = _kind_of(name)
    if found is None or name not in names(data):
        return None
    kind, rest = found
    rows = [r for m in data.months() for r in data.rows(kind, m)]
    if rest == "all":
        groups: dict[str, list[dict[str, str]]] = {}
        for row in rows:
            groups.setdefault(authority_folder(kind, row) + "/", []).append(row)
    elif rest.isdigit():
        groups = {"": [r for r in rows if r["lodgement-date"][:4] == rest]}
    else:
        groups = {"": [r for r in rows if authority_folder(kind, r) == f"{kind}-{rest}"]}
    out = {}
    for folder, group in sorted(groups.items()):
        recs = [x for r in group for x in data.recommendations(kind, r["lmk-key"])]
        out[f"{folder}certificates.csv"] = csv_bytes(fields.CERTIFICATES[kind], group)
        out[f"{folder}recommendations.csv"] = csv_bytes(fields.RECOMMENDATIONS[kind], recs)
    return out


def build(data: Rows, name: str) -> bytes | None:
    """The zip's bytes, the same on every call."""
    parts = members(data, name)
    if parts is None:
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in parts.items():
            info = zipfile.ZipInfo(path, date_time=ENTRY_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()
