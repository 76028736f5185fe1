"""The certificate kinds, as the APIs name them."""

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


DOMESTIC = Kind("domestic", cluster_extra=("postcode", "uprn"))
NON_DOMESTIC = Kind("non-domestic")
DISPLAY = Kind("display")
KINDS = {kind.name: kind for kind in (DOMESTIC, NON_DOMESTIC, DISPLAY)}
DEFAULT_KINDS = ("domestic", "non-domestic")  # the two kinds every source serves


def parse_kinds(text: str | None, source: str, allowed: tuple[str, ...]) -> list[Kind]:
    """`domestic,non-domestic` → kinds, in the order given; default (no `--kinds`): the two kinds
    every source serves. `allowed` are the kinds `source` serves. An empty list or name, a kind
    given twice, or one the source does not serve is a ConfigError."""
    if text is None:
        return [KINDS[n] for n in DEFAULT_KINDS]
    choices = ", ".join(allowed)
    names = [n.strip() for n in text.split(",")]
    if not any(names):
        raise ConfigError(f"--kinds is empty: choose from {choices}")
    if "" in names:
        raise ConfigError(f"--kinds {text!r} has an empty name: choose from {choices}")
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ConfigError(f"unknown kind {unknown[0]!r} for source {source}: choose from {choices}")
    repeated = next((n for n in names if names.count(n) > 1), None)
    if repeated:
        raise ConfigError(f"--kinds names {repeated!r} twice")
    return [KINDS[n] for n in names]
