"""The raw tables of the live service, keyed by certificate number, and its change feed."""

from __future__ import annotations

from extract.kinds import DISPLAY, DOMESTIC, KINDS, NON_DOMESTIC, Kind
from extract.raw_tables import RawTable, certificates_table

NAME = "mhclg"
KEY = "certificate_number"
SERVED_KINDS = ("domestic", "non-domestic", "display")
DOCUMENT_KINDS = (DOMESTIC, NON_DOMESTIC, DISPLAY)  # the kinds whose documents a change refetches
CERTIFICATE_EXTRA = ("schema_type", "related_certificate_number")
DELTA_EXTRA = ("event_type", "event_timestamp")
DELTAS = RawTable("mhclg_deltas_raw_json", KEY, DELTA_EXTRA)  # one row per event


def certificates(kind: Kind) -> RawTable:
    """`mhclg_domestic_raw_json`: one row per certificate, the payload its full document."""
    return certificates_table(f"{NAME}_{kind.slug}_raw_json", KEY, kind, CERTIFICATE_EXTRA)


TABLES = (*(certificates(KINDS[name]) for name in SERVED_KINDS), DELTAS)
