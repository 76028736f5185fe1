"""The certificate kinds and the raw tables each one lands in."""

from __future__ import annotations

from dataclasses import dataclass

from extract.errors import ConfigError


@dataclass(frozen=True)
class Kind:
    """A certificate kind as the APIs name it, with its raw tables and BigQuery clustering."""

    name: str
    cluster: tuple[str, ...]

    @property
    def slug(self) -> str:
        """`non_domestic`: the kind as a table-name prefix."""
        return self.name.replace("-", "_")

    @property
    def certificates_table(self) -> str:
        return f"{self.slug}_raw_json"

    @property
    def recommendations_table(self) -> str:
        return f"{self.slug}_recommendations_raw_json"


KINDS = {
    kind.name: kind
    for kind in (
        Kind("domestic", cluster=("lmk_key", "postcode", "uprn")),
        Kind("non-domestic", cluster=("lmk_key",)),
    )
}


def parse_kinds(text: str) -> list[Kind]:
    """`domestic,non-domestic` → kinds, in the order given, without repeats."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ConfigError("--kinds is empty: choose from " + ", ".join(KINDS))
    unknown = [n for n in names if n not in KINDS]
    if unknown:
        raise ConfigError(f"unknown kind {unknown[0]!r}: choose from " + ", ".join(KINDS))
    return [KINDS[n] for n in dict.fromkeys(names)]
