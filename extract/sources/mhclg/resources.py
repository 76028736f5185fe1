"""dlt resources of the live service: the full documents of a month's certificates (search
summaries by registration day, then one `/api/certificate` call each), or the month's change feed
with the current documents of the certificates whose UPRN changed. Nothing is deleted from raw
history: removals are applied downstream, in dbt.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dlt
import orjson
import pyarrow as pa

from extract.checkpoints import Unit
from extract.concurrency import bounded_map
from extract.kinds import DISPLAY, DOMESTIC, NON_DOMESTIC, Kind
from extract.landing import Batch
from extract.pipeline import schema_name
from extract.progress import UnitStats
from extract.raw_tables import RawTable
from extract.sources.base import Landing
from extract.sources.mhclg.client import MhclgApi, Row
from extract.sources.mhclg.tables import (
    CODES,
    DELTA_EXTRA,
    DELTAS,
    DOCUMENT_KINDS,
    KEY,
    NAME,
    REPORT_KINDS,
    SEARCH_ROW,
    certificates,
    reports,
)


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


def is_report(document: Row) -> bool:
    """Whether the document is a recommendation report (CEPC-RR, DEC-RR) rather than a certificate."""
    return str(document.get("assessment_type") or "").upper().endswith("-RR")


def table_of(document: Row) -> RawTable:
    """The raw table a document fetched on its own belongs in."""
    kind = kind_of(document)
    return reports(kind) if is_report(document) and kind in REPORT_KINDS else certificates(kind)


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


def document_batch(
    table: RawTable,
    summaries: Sequence[Row],
    documents: Sequence[Row],
    extracted_at: datetime,
    search_rows: Sequence[bytes | None] | None = None,
) -> Batch:
    """Documents → landing batch keyed by `certificate_number`: the lifted columns come from the
    search summary (the same in every schema version), the payload is the full document
    `/api/certificate` returned. A certificates table also keeps the search row (`search_rows`,
    else the summaries themselves, as search returned them)."""
    values = {
        KEY: [s["certificateNumber"] for s in summaries],
        "lodgement_date": [(s.get("registrationDate") or "")[:10] or None for s in summaries],
        "postcode": [s.get("postcode") or None for s in summaries],
        "uprn": [str(s["uprn"]) if s.get("uprn") not in (None, "") else None for s in summaries],
        "schema_type": [s.get("schemaType") for s in summaries],
        # display search rows never carry `relatedRrn`: the document names the report too
        "related_certificate_number": [
            s.get("relatedRrn") or d.get("related_certificate_number")
            for s, d in zip(summaries, documents, strict=True)
        ],
    }
    json = {"payload": [orjson.dumps(d) for d in documents]}
    if SEARCH_ROW in table.columns:
        json[SEARCH_ROW.name] = (
            list(search_rows) if search_rows is not None else [orjson.dumps(s) for s in summaries]
        )
    return Batch(table, values, json, extracted_at)


def delta_batch(events: list[Row], extracted_at: datetime) -> Batch:
    """Change-feed events → landing batch; `lodgement_date` is the event's date."""
    values = {
        KEY: [e["certificateNumber"] for e in events],
        "lodgement_date": [(e.get("timestamp") or "")[:10] or None for e in events],
        "postcode": [None] * len(events),
        "uprn": [None] * len(events),
        "event_type": [e.get("eventType") for e in events],
        "event_timestamp": [e.get("timestamp") for e in events],
    }
    return Batch(DELTAS, values, {"payload": [orjson.dumps(e) for e in events]}, extracted_at)


def code_batch(tables: dict[str, list[Row]], extracted_at: datetime) -> Batch:
    """The service's code tables (`{code: /api/codes/info rows}`) → one row per code, key, schema
    version and assessment type; the payload is the value as the service gave it."""
    rows = [
        (code, entry["key"], value)
        for code, entries in tables.items()
        for entry in entries
        for value in entry["values"]
    ]
    values = {
        "code": [code for code, _, _ in rows],
        "key": [key for _, key, _ in rows],
        "schema_version": [v.get("schemaVersion") for _, _, v in rows],
        "assessment_type": [v.get("assessmentType") for _, _, v in rows],
        "value": [v.get("value") for _, _, v in rows],
    }
    return Batch(CODES, values, {"payload": [orjson.dumps(v) for _, _, v in rows]}, extracted_at)


@dataclass(frozen=True)
class Changes:
    """A month of the change feed, and the search rows already landed for the certificates whose
    documents it fetches again (search rows are not in a document: they are kept, not lost)."""

    events: list[Row]
    search_rows: dict[str, bytes]


def related_numbers(item: Any) -> dict[str, str]:
    """The reports a page of certificates points to (Arrow table or dicts): report number →
    the number of the certificate it belongs to."""
    if isinstance(item, pa.Table):
        columns = item.column(KEY).to_pylist(), item.column("related_certificate_number").to_pylist()
        pairs = zip(*columns, strict=True)
    else:
        pairs = ((row[KEY], row.get("related_certificate_number")) for row in item)
    return {report: certificate for certificate, report in pairs if report}


@dlt.source(name=schema_name(NAME), max_table_nesting=0)
def mhclg_source(
    api: MhclgApi,
    unit: Unit,
    stats: UnitStats,
    pages: Iterable[Any],
    item_format: str = "arrow",
    max_concurrency: int = 8,
    landing: Landing | None = None,
) -> list[Any]:
    """For `certs`, the full documents of the certificates on the search `pages` (and, for kinds
    whose recommendations are a report of their own, those reports); for `deltas`, the events of
    the `Changes` on `pages`, plus the current documents of the certificates whose UPRN changed; for
    `codes`, the code tables on `pages`. `landing` sees every batch as it passes, with its table, to
    write it to the bucket."""
    extracted_at = datetime.now(UTC)

    def emit(batch: Batch) -> Any:
        if landing:
            landing(batch.table.name, batch)
        return batch.to_arrow() if item_format == "arrow" else batch.to_dicts()

    def resource(data: Any, table: RawTable, **hints: Any) -> Any:
        """A resource of `table`, merged on the certificate number unless `hints` say otherwise."""
        hints = hints or {"write_disposition": "merge", "merge_key": KEY}
        return dlt.resource(data, name=table.name, columns=table.dlt_columns(), **hints)

    def fetch(summary: Row) -> tuple[Row, Row | None]:
        return summary, api.certificate(summary["certificateNumber"])

    def documents(summary_pages: Iterable[list[Row]]) -> Iterator[tuple[list[Row], list[Row]]]:
        for page in summary_pages:  # summaries of certificates not landed yet, each once
            pairs = []
            for summary, document in bounded_map(fetch, page, max_concurrency):
                if document is None:  # listed, yet not served: pending, searched for again next run
                    stats.missing[summary["certificateNumber"]] = (summary.get("registrationDate") or "")[:10]
                else:
                    pairs.append((summary, document))
                    stats.tick()  # progress document by document
            stats.pages += 1
            if pairs:
                yield [s for s, _ in pairs], [d for _, d in pairs]

    def fetched(numbers: Iterable[str]) -> list[tuple[str, Row]]:
        return [
            (n, d)
            for n, d in bounded_map(lambda n: (n, api.certificate(n)), list(numbers), max_concurrency)
            if d
        ]

    if unit.part == "codes":
        tables = {code: api.code_table(code) for page in pages for code in page}
        batch = code_batch(tables, extracted_at)
        stats.add(len(batch))
        return [resource([emit(batch)] if len(batch) else [], CODES, write_disposition="replace")]

    if unit.part == "certs":

        def certificate_documents() -> Iterator[Any]:
            for summaries, docs in documents(pages):
                yield emit(document_batch(unit.table, summaries, docs, extracted_at))

        certs = resource(certificate_documents, unit.table)
        if unit.kind not in REPORT_KINDS:
            return [certs]
        report_table = reports(unit.kind)

        @dlt.transformer(data_from=certs, name=report_table.name)
        def recommendation_reports(item: Any) -> Iterator[Any]:
            """The report each certificate on the page points to (`related_certificate_number`),
            filed under that certificate: some reports (DEC-RR) do not point back."""
            parents = related_numbers(item)
            found = [(n, d) for n, d in fetched(parents) if is_report(d)]
            if found:
                summaries = [summary_of(n, d) | {"relatedRrn": parents[n]} for n, d in found]
                yield emit(document_batch(report_table, summaries, [d for _, d in found], extracted_at))

        recommendation_reports.apply_hints(
            write_disposition="merge", merge_key=KEY, columns=report_table.dlt_columns()
        )
        return [certs, recommendation_reports]

    changes: Changes = next(iter(pages), Changes([], {}))
    events = changes.events
    changed = sorted({e["certificateNumber"] for e in events if e.get("eventType") != "removed"})
    current = fetched(changed)

    def deltas() -> Iterator[Any]:
        stats.add(len(events))
        if events:
            yield emit(delta_batch(events, extracted_at))

    resources = [resource(deltas, DELTAS, write_disposition="merge", primary_key=[KEY, *DELTA_EXTRA])]
    by_table: dict[RawTable, list[tuple[str, Row]]] = {}
    for number, document in current:  # the current documents of changed certificates
        by_table.setdefault(table_of(document), []).append((number, document))
    for table in (*(certificates(k) for k in DOCUMENT_KINDS), *(reports(k) for k in REPORT_KINDS)):
        if mine := by_table.get(table):
            search_rows = [changes.search_rows.get(n) for n, _ in mine]
            batch = document_batch(
                table, [summary_of(n, d) for n, d in mine], [d for _, d in mine], extracted_at, search_rows
            )
            resources.append(resource([emit(batch)], table))
    return resources
