"""The official v1 sample bodies (tests/fixtures/odc_v1) as something the double can serve."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "odc_v1"


class SampleRows:
    """Domestic rows of `sample_search_response*.json`, exactly as published (duplicates
    included), and `sample_epc_recommendations_response.json` for the key it names."""

    def __init__(self, directory: Path = FIXTURES) -> None:
        self._by_month: dict[str, list[dict[str, str]]] = defaultdict(list)
        for name in ("sample_search_response.json", "sample_search_response_with_multiple_epc.json"):
            for row in json.loads((directory / name).read_text())["rows"]:
                self._by_month[row["lodgement-date"][:7]].append(row)
        recs = json.loads((directory / "sample_epc_recommendations_response.json").read_text())["rows"]
        self._recs = {recs[0]["lmk-key"]: recs}

    def months(self) -> list[str]:
        return sorted(self._by_month)

    def rows(self, kind: str, month: str) -> tuple[dict[str, str], ...]:
        return tuple(self._by_month.get(month, ())) if kind == "domestic" else ()

    def certificate(self, kind: str, lmk_key: str) -> dict[str, str] | None:
        rows = (r for m in self.months() for r in self.rows(kind, m) if r["lmk-key"] == lmk_key)
        return next(rows, None)

    def recommendations(self, kind: str, lmk_key: str) -> list[dict[str, str]]:
        return list(self._recs.get(lmk_key, [])) if kind == "domestic" else []
