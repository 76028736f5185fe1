"""The raw tables of the live service: certificates keyed by certificate number, the recommendation
reports of non-domestic and display certificates, the change feed, and the code tables."""

from __future__ import annotations

from extract.kinds import DISPLAY, DOMESTIC, KINDS, NON_DOMESTIC, Kind
from extract.raw_tables import Column, RawTable, certificates_table

NAME = "mhclg"
KEY = "certificate_number"
SERVED_KINDS = ("domestic", "non-domestic", "display")
DOCUMENT_KINDS = (DOMESTIC, NON_DOMESTIC, DISPLAY)  # the kinds whose documents a change refetches
REPORT_KINDS = (NON_DOMESTIC, DISPLAY)  # whose recommendations are a report of their own (-RR)
SEARCH_ROW = Column("search_row", "json")  # the certificate's row in search: council, constituency
CERTIFICATE_EXTRA = ("schema_type", "related_certificate_number", SEARCH_ROW)
REPORT_EXTRA = ("schema_type", "related_certificate_number")
DELTA_EXTRA = ("event_type", "event_timestamp")
DELTAS = RawTable("mhclg_deltas_raw_json", KEY, DELTA_EXTRA)  # one row per event
# one row per code, key, schema version and assessment type: the service's lookup tables, replaced
# whole on every refresh
CODES = RawTable(
    "mhclg_codes_raw_json", "code", ("key", "schema_version", "assessment_type", "value"), lifted=()
)


def certificates(kind: Kind) -> RawTable:
    """`mhclg_domestic_raw_json`: one row per certificate, the payload its full document."""
    return certificates_table(f"{NAME}_{kind.slug}_raw_json", KEY, kind, CERTIFICATE_EXTRA)


def reports(kind: Kind) -> RawTable:
    """`mhclg_non_domestic_reports_raw_json`: one row per recommendation report (CEPC-RR, DEC-RR),
    `related_certificate_number` naming the certificate it belongs to."""
    return RawTable(f"{NAME}_{kind.slug}_reports_raw_json", KEY, REPORT_EXTRA)


TABLES = (
    *(certificates(KINDS[name]) for name in SERVED_KINDS),
    *(reports(kind) for kind in REPORT_KINDS),
    DELTAS,
    CODES,
)
