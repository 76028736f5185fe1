"""The raw tables of the v1 source: the original design's names, keyed by LMK key."""

from __future__ import annotations

from extract.kinds import KINDS, Kind
from extract.raw_tables import RawTable, certificates_table

NAME = "odc"
KEY = "lmk_key"
SERVED_KINDS = ("domestic", "non-domestic")  # by the API; the v1 display search is not extracted
BULK_KINDS = ("domestic", "non-domestic", "display")  # display from the bulk files


def certificates(kind: Kind) -> RawTable:
    """`domestic_raw_json`: one row per certificate."""
    return certificates_table(f"{kind.slug}_raw_json", KEY, kind)


def recommendations(kind: Kind) -> RawTable:
    """`domestic_recommendations_raw_json`: one row per recommendation, a certificate's set
    replaced as a whole."""
    return RawTable(f"{kind.slug}_recommendations_raw_json", KEY)


TABLES = tuple(t for name in BULK_KINDS for t in (certificates(KINDS[name]), recommendations(KINDS[name])))
