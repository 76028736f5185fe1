"""dlt resources of the live service: the full documents of a month's certificates (search
summaries by registration day, then one `/api/certificate` call each), or the month's change feed
with the current documents of the certificates whose UPRN changed. Nothing is deleted from raw
history: removals are applied downstream, in dbt.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import dlt
import orjson

from extract.checkpoints import Unit
from extract.concurrency import bounded_map
from extract.kinds import DISPLAY, DOMESTIC, NON_DOMESTIC, Kind
from extract.landing import Batch
from extract.pipeline import schema_name
from extract.progress import UnitStats
from extract.sources.base import Landing
from extract.sources.mhclg.client import MhclgApi, Row
from extract.sources.mhclg.tables import DELTA_EXTRA, DOCUMENT_KINDS, KEY, NAME, certificates


def kind_of(document: Row) -> Kind:
    """The kind of a certificate from its document. DECs are lodged under the CEPC schemas
    (`CEPC-8.0.0` …), so the schema type alone cannot tell display from non-domestic: the document's
    `assessment_type` (`RdSAP`, `SAP`, `CEPC`, `DEC`, `CEPC-RR`, `DEC-RR`) can, and failing that its
    `report_type` (1 and 2 are a DEC and its report under a CEPC schema)."""
    assessment = str(document.get("assessment_type") or "").upper()
    if not assessment:
        schema = str(document.get("schema_type") or "").upper()
        if not schema.startswith("CEPC") and "DEC" not in schema:
            return DOMESTIC
        dec = "DEC" in schema or str(document.get("report_type")) in ("1", "2")
        return DISPLAY if dec else NON_DOMESTIC
    if assessment.startswith("DEC"):
        return DISPLAY
    return NON_DOMESTIC if assessment.startswith("CEPC") else DOMESTIC


def summary_of(number: str, document: Row) -> Row:
    """The search summary of a document fetched on its own (after a UPRN change), with the fields
    that `document_batch` lifts, as `/api/{kind}/search` would give them."""
    address = document.get("address") if isinstance(document.get("address"), dict) else document
    summary = {
        "certificateNumber": number,
        "registrationDate": document.get("registration_date") or document.get("date_of_registration"),
        "postcode": address.get("postcode"),
        "uprn": document.get("uprn"),
        "schemaType": document.get("schema_type") or document.get("schema_version_original"),
    }
    if kind_of(document) != DOMESTIC:  # only non-domestic and display search rows carry `relatedRrn`
        summary["relatedRrn"] = document.get("related_certificate_number")
    return summary


def document_batch(summaries: Sequence[Row], documents: Sequence[Row], extracted_at: datetime) -> Batch:
    """Certificates → landing batch keyed by `certificate_number`: the lifted columns come from the
    search summary (the same in every schema version), the payload is the full document
    `/api/certificate` returned."""
    return Batch(
        key=KEY,
        keys=[s["certificateNumber"] for s in summaries],
        dates=[(s.get("registrationDate") or "")[:10] or None for s in summaries],
        postcodes=[s.get("postcode") or None for s in summaries],
        uprns=[str(s["uprn"]) if s.get("uprn") not in (None, "") else None for s in summaries],
        payloads=[orjson.dumps(d) for d in documents],
        extracted_at=extracted_at,
        extra={
            "schema_type": [s.get("schemaType") for s in summaries],
            "related_certificate_number": [s.get("relatedRrn") for s in summaries],
        },
    )


def delta_batch(events: list[Row], extracted_at: datetime) -> Batch:
    """Change-feed events → landing batch; `lodgement_date` is the event's date."""
    return Batch(
        key=KEY,
        keys=[e["certificateNumber"] for e in events],
        dates=[(e.get("timestamp") or "")[:10] or None for e in events],
        postcodes=[None] * len(events),
        uprns=[None] * len(events),
        payloads=[orjson.dumps(e) for e in events],
        extracted_at=extracted_at,
        extra={
            "event_type": [e.get("eventType") for e in events],
            "event_timestamp": [e.get("timestamp") for e in events],
        },
    )


@dlt.source(name=schema_name(NAME), max_table_nesting=0)
def mhclg_source(
    api: MhclgApi,
    unit: Unit,
    stats: UnitStats,
    pages: Iterable[list[Row]],
    item_format: str = "arrow",
    max_concurrency: int = 8,
    landing: Landing | None = None,
) -> list[Any]:
    """For `certs`, the full documents of the certificates on the search `pages`; for `deltas`,
    the events on `pages`, plus the current documents of the certificates whose UPRN changed.
    `landing` sees every batch as it passes, with its table, to write it to the bucket."""
    extracted_at = datetime.now(UTC)

    def emit(batch: Batch, table: str = unit.table.name) -> Any:
        if landing:
            landing(table, batch)
        return batch.to_arrow() if item_format == "arrow" else batch.to_dicts()

    def fetch(summary: Row) -> tuple[Row, Row | None]:
        return summary, api.certificate(summary["certificateNumber"])

    def documents(summary_pages: Iterable[list[Row]]) -> Iterator[tuple[list[Row], list[Row]]]:
        seen: set[str] = set()  # paging inside a busy day can repeat a certificate
        for page in summary_pages:
            fresh = [
                s for s in page if s["certificateNumber"] not in seen and not seen.add(s["certificateNumber"])
            ]
            pairs = [(s, d) for s, d in bounded_map(fetch, fresh, max_concurrency) if d is not None]
            stats.add(len(pairs))
            if pairs:
                yield [s for s, _ in pairs], [d for _, d in pairs]

    def certificate_documents() -> Iterator[Any]:
        for summaries, docs in documents(pages):
            yield emit(document_batch(summaries, docs, extracted_at))

    if unit.part == "certs":
        return [
            dlt.resource(
                certificate_documents,
                name=unit.table.name,
                write_disposition="merge",
                merge_key=KEY,
                columns=unit.table.dlt_columns(),
            )
        ]

    events = [event for page in pages for event in page]
    changed = sorted({e["certificateNumber"] for e in events if e.get("eventType") != "removed"})
    current = [
        (n, d) for n, d in bounded_map(lambda n: (n, api.certificate(n)), changed, max_concurrency) if d
    ]

    def deltas() -> Iterator[Any]:
        stats.add(len(events))
        if events:
            yield emit(delta_batch(events, extracted_at))

    resources = [
        dlt.resource(
            deltas,
            name=unit.table.name,
            write_disposition="merge",
            primary_key=[KEY, *DELTA_EXTRA],
            columns=unit.table.dlt_columns(),
        )
    ]
    for kind in DOCUMENT_KINDS:  # the current documents of changed certificates
        mine = [(summary_of(n, d), d) for n, d in current if kind_of(d) == kind]
        if mine:
            table = certificates(kind)
            batch = document_batch([s for s, _ in mine], [d for _, d in mine], extracted_at)
            resources.append(
                dlt.resource(
                    [emit(batch, table.name)],
                    name=table.name,
                    write_disposition="merge",
                    merge_key=KEY,
                    columns=table.dlt_columns(),
                )
            )
    return resources
