"""The official certificate documents (tests/fixtures/mhclg/json_samples), one per schema version.

Every generated certificate starts as a copy of one of these. Which kind each file serves:
- domestic: `RdSAP-Schema-*/epc.json`, `SAP-Schema-1x/{rdsap,sap}.json` (SAP schemas 11-16 carried
  both assessment types) and `SAP-Schema-17+/epc.json`;
- non-domestic: `CEPC-*/cepc.json` and `CEPC-*/cepc+rr.json`, the latter with a recommendation report
  made from `cepc-rr.json` of the same folder;
- display: `CEPC-8.0.0/dec.json` and `CEPC-*/dec+rr.json`, the latter with a report from `dec-rr.json`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mhclg" / "json_samples"
KINDS = ("domestic", "non-domestic", "display")


@dataclass(frozen=True)
class Sample:
    """One official document: `path` like `CEPC-8.0.0/cepc+rr.json`; `report` is the sample its
    recommendation report is made from (non-domestic and display `+rr` samples only)."""

    path: str
    kind: str
    raw: bytes
    report: Sample | None = None

    @property
    def schema_type(self) -> str:
        return self.path.split("/")[0]

    def document(self) -> dict[str, Any]:
        """A fresh copy of the document."""
        return orjson.loads(self.raw)


def _version_key(folder: str) -> tuple:
    family, _, version = folder.rpartition("-")
    return (family, tuple(int(p) for p in re.findall(r"\d+", version)))


def _load(path: Path, kind: str, report: Sample | None = None) -> Sample:
    raw = orjson.dumps(orjson.loads(path.read_bytes()))
    return Sample(f"{path.parent.name}/{path.name}", kind, raw, report)


@functools.lru_cache(maxsize=4)
def load_samples(directory: Path = FIXTURES) -> dict[str, tuple[Sample, ...]]:
    """Samples by kind, in schema-version order."""
    out: dict[str, list[Sample]] = {kind: [] for kind in KINDS}
    for folder in sorted((p for p in directory.iterdir() if p.is_dir()), key=lambda p: _version_key(p.name)):
        if folder.name.startswith(("RdSAP-", "SAP-")):
            for name in ("epc.json", "rdsap.json", "sap.json"):
                if (folder / name).exists():
                    out["domestic"].append(_load(folder / name, "domestic"))
            continue
        for kind, stem in (("non-domestic", "cepc"), ("display", "dec")):
            if (folder / f"{stem}.json").exists():
                out[kind].append(_load(folder / f"{stem}.json", kind))
            if (folder / f"{stem}+rr.json").exists():
                report = _load(folder / f"{stem}-rr.json", kind)
                out[kind].append(_load(folder / f"{stem}+rr.json", kind, report))
    return {kind: tuple(samples) for kind, samples in out.items()}
