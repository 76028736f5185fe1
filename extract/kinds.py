"""The certificate kinds, which source serves each, and the raw tables they land in."""

from __future__ import annotations

from dataclasses import dataclass

from extract.errors import ConfigError


@dataclass(frozen=True)
class Kind:
    """A certificate kind as the APIs name it (`non-domestic`), with BigQuery clustering columns
    beyond the key (the original design clusters domestic certificates by postcode and UPRN)."""

    name: str
    cluster_extra: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        """`non_domestic`: the kind as a table-name prefix."""
        return self.name.replace("-", "_")

    def table(self, source: str, part: str) -> str:
        """The raw table of a source's part: `domestic_raw_json` (v1 keeps the original names),
        `mhclg_domestic_raw_json`, `domestic_recommendations_raw_json`, `mhclg_deltas_raw_json`."""
        prefix = "" if source == "odc" else f"{source}_"
        middle = "recommendations_" if part == "recs" else ""
        return f"{prefix}{self.slug}_{middle}raw_json"

    @property
    def certificates_table(self) -> str:
        return self.table("odc", "certs")

    @property
    def recommendations_table(self) -> str:
        return self.table("odc", "recs")


DOMESTIC = Kind("domestic", cluster_extra=("postcode", "uprn"))
NON_DOMESTIC = Kind("non-domestic")
DISPLAY = Kind("display")
DELTAS = Kind("deltas")  # the live service's change feed: not a kind of certificate
KINDS = {kind.name: kind for kind in (DOMESTIC, NON_DOMESTIC, DISPLAY)}
SOURCE_KINDS = {"odc": ("domestic", "non-domestic"), "mhclg": ("domestic", "non-domestic", "display")}


def parse_kinds(text: str | None, source: str) -> list[Kind]:
    """`domestic,non-domestic` → kinds, in the order given, without repeats; default: the two
    kinds both sources serve."""
    allowed = SOURCE_KINDS[source]
    names = [n.strip() for n in (text or "domestic,non-domestic").split(",") if n.strip()]
    if not names:
        raise ConfigError("--kinds is empty: choose from " + ", ".join(allowed))
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ConfigError(
            f"unknown kind {unknown[0]!r} for source {source}: choose from " + ", ".join(allowed)
        )
    return [KINDS[n] for n in dict.fromkeys(names)]
