"""The MHCLG double against its contract (api.yml and ../shared/reference/epc-api.md 3, 3.1), over HTTP.

Expected values come from the generated `Dataset` (what the double should serve), from the official
sample documents in tests/fixtures/mhclg/json_samples and from the spec's texts, never from the
server's own code. Every answer of the endpoints the extractor uses (search for each kind,
certificate, deltas, file info and redirects) is validated against tests/fixtures/mhclg/api.yml with
openapi-core. Where spec and code differ the tests check the reading the double documents in its
server module docstring, and the switch for the other one.
"""

from __future__ import annotations

import copy
import csv
import inspect
import io
import json
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_schema_validator import OAS30Validator
from rfc3339_validator import validate_rfc3339

from tests.doubles.mhclg import Dataset, MhclgDouble
from tests.support import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "mhclg"
SPEC = yaml.safe_load((FIXTURES / "api.yml").read_text())
KINDS = ("domestic", "non-domestic", "display")
TOKEN = "test-token-4f1c2a"
TODAY = date(2025, 3, 10)
START, END = date(2025, 1, 1), date(2025, 2, 28)
INVALID = "The search query was invalid - "
# the spec's example texts (api.yml, 400/404 examples of /api/*/search and /api/deltas)
MISSING = INVALID + "please provide a valid date range or search parameter"
BAD_DATES = INVALID + "please provide a valid date range"
TODAY_ERROR = INVALID + "the date cannot include today"
BAD_POSTCODE = INVALID + "please provide a valid postcode"
BAD_UPRN = INVALID + "the uprn should be an integer greater than 0"
BAD_COUNCIL = INVALID + "provide valid council name(s)"
BAD_CONSTITUENCY = INVALID + "provide valid constituency name(s)"
BAD_PAGE_SIZE = INVALID + "provide valid page_size between 1 and 5000"
NO_CERTIFICATES = "No certificates could be found for that query"
SUMMARY_KEYS = [
    "certificateNumber", "addressLine1", "addressLine2", "addressLine3", "addressLine4", "postcode",
    "postTown", "council", "constituency", "currentEnergyEfficiencyBand", "registrationDate", "uprn",
    "schemaType",
]  # fmt: skip
PAGINATION_KEYS = {"totalRecords", "currentPage", "totalPages", "nextPage", "prevPage", "pageSize"}
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")
NUMBER = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{4}-\d{4}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# fields the dataset writes over a sample (dataset.py docstring); the rest must stay as published
WRITTEN = {
    "registration_date", "created_at", "uprn", "postcode", "post_town", "address_line_1",
    "address_line_2", "address_line_3", "address_line_4", "energy_rating_current",
    "energy_rating_potential", "current_energy_efficiency_band", "potential_energy_efficiency_band",
    "total_floor_area", "asset_rating", "this_assessment", "technical_information",
    "sap_building_parts", "related_certificate_number",
}  # fmt: skip


# --- the contract's own tables, written out here rather than taken from the double ------------------
def sample_files(kind: str) -> set[str]:
    """`folder/file` of the official samples a kind's certificates are made from (SOURCES.md)."""
    root = FIXTURES / "json_samples"
    names = {
        "domestic": ("epc.json", "rdsap.json", "sap.json"),
        "non-domestic": ("cepc.json", "cepc+rr.json"),
        "display": ("dec.json", "dec+rr.json"),
    }[kind]
    return {
        f"{p.parent.name}/{p.name}"
        for p in root.glob("*/*.json")
        if p.name in names and (kind != "domestic" or p.parent.name.startswith(("RdSAP", "SAP")))
    }


def sample(path: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "json_samples" / path).read_text())


def without_dates(value: object) -> object:
    """The value with every `YYYY-MM-DD` string, however deep, replaced by a marker."""
    if isinstance(value, dict):
        return {k: without_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_dates(v) for v in value]
    return "<date>" if isinstance(value, str) and DATE.match(value) else value


def domestic_band(rating: int) -> str:
    """SAP rating → band: A 92+, B 81-91, C 69-80, D 55-68, E 39-54, F 21-38, G 1-20."""
    for band, low in (("A", 92), ("B", 81), ("C", 69), ("D", 55), ("E", 39), ("F", 21)):
        if rating >= low:
            return band
    return "G"


def building_band(rating: int) -> str:
    """Asset / operational rating → band: A+ below 0, then A-F in steps of 25, G above 150."""
    for band, high in (("A+", -1), ("A", 25), ("B", 50), ("C", 75), ("D", 100), ("E", 125), ("F", 150)):
        if rating <= high:
            return band
    return "G"


# --- fixtures -----------------------------------------------------------------------------------
class FakeClock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def data() -> Dataset:
    return Dataset(seed=11, start=START, end=END, per_day={"domestic": 3, "non-domestic": 1, "display": 1})


@pytest.fixture(scope="module")
def shared(data: Dataset) -> Iterator[MhclgDouble]:
    with MhclgDouble(data, token=TOKEN, today=TODAY) as api:
        yield api


@pytest.fixture
def api(shared: MhclgDouble) -> Iterator[MhclgDouble]:
    shared.clear()
    yield shared
    shared.clear()


@pytest.fixture(scope="module")
def spec(shared: MhclgDouble) -> OpenAPI:
    """api.yml as published, its server swapped for the double's. `registrationDate` is typed
    `date-time` although the spec's own example (and the code) give a full-date, so `date-time`
    also admits `YYYY-MM-DD`; the tests check the real date-times (deltas, file info) strictly."""
    document = copy.deepcopy(SPEC) | {"servers": [{"url": shared.base_url}]}

    def date_time(value: object) -> bool:
        return not isinstance(value, str) or bool(DATE.match(value)) or validate_rfc3339(value)

    return OpenAPI(
        SchemaPath.from_dict(document), config=Config(extra_format_validators={"date-time": date_time})
    )


def valid(spec: OpenAPI, response: requests.Response) -> requests.Response:
    """Fails the test unless the answer matches api.yml for its path, method and status, and,
    when it is not an error, the request did too (parameters, bearer token)."""
    request = RequestsOpenAPIRequest(response.request)
    spec.validate_response(request, RequestsOpenAPIResponse(response))
    if response.status_code < 400:
        spec.validate_request(request)
    return response


def error_shape(body: object) -> None:
    """Bodies of statuses api.yml does not list (401, 403, 429) against its ErrorResponse schema."""
    OAS30Validator(SPEC["components"]["schemas"]["ErrorResponse"]).validate(body)


def get(
    api: MhclgDouble, path: str, params: object = None, token: str | None = TOKEN, **kwargs
) -> requests.Response:
    headers = {"Accept": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    return requests.get(f"{api.base_url}{path}", params=params, headers=headers, timeout=10, **kwargs)


def search(api: MhclgDouble, kind: str = "domestic", **params: object) -> requests.Response:
    return get(api, f"/api/{kind}/search", params)


def walk(api: MhclgDouble, spec: OpenAPI, kind: str, params: dict) -> list[dict]:
    """Every row of a search, following `nextPage`; checks each page's pagination on the way."""
    rows, page, pages = [], 1, None
    while page is not None:
        response = valid(spec, search(api, kind, **params, current_page=page))
        assert response.status_code == 200, response.text
        body = response.json()
        pagination = body["pagination"]
        assert set(pagination) == PAGINATION_KEYS
        pages = pages or pagination["totalPages"]
        assert pagination["currentPage"] == page and pagination["totalPages"] == pages
        assert pagination["prevPage"] == (page - 1 if page > 1 else None)
        rows += body["data"]
        page = pagination["nextPage"]
        assert len(rows) <= pagination["totalRecords"]
    assert len(rows) == pagination["totalRecords"]
    return rows


def numbers(rows: list[dict]) -> list[str]:
    return [row["certificateNumber"] for row in rows]


# --- the data -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_every_official_sample_of_a_kind_becomes_certificates(data: Dataset, kind: str) -> None:
    made = Counter(cert.sample for cert in data.all_certificates(kind))
    assert set(made) == sample_files(kind)
    assert max(made.values()) - min(made.values()) <= 1  # cycled through, not picked at random
    schema_types = {path.split("/")[0] for path in sample_files(kind)}
    assert data.schema_types(kind) == schema_types


@pytest.mark.parametrize("kind", KINDS)
def test_documents_keep_the_sample_and_carry_generated_values_under_each_schemas_names(
    data: Dataset, kind: str
) -> None:
    areas, ratings = set(), set()
    for cert in data.all_certificates(kind):
        doc, original = cert.lodged, sample(cert.sample)
        assert doc["registration_date"] == cert.registration_date.isoformat()
        assert START <= cert.registration_date <= END
        assert POSTCODE.match(doc["postcode"]), doc["postcode"]
        assert doc["address_line_1"] and doc["post_town"]
        assert doc["schema_type"] == original["schema_type"] == cert.schema_type
        for key in set(original) - WRITTEN:  # dates move with the registration date
            assert without_dates(doc[key]) == without_dates(original[key]), (cert.sample, key)
        if kind == "domestic":
            current, potential = doc["energy_rating_current"], doc["energy_rating_potential"]
            assert doc["current_energy_efficiency_band"] == domestic_band(current)
            assert doc["potential_energy_efficiency_band"] == domestic_band(potential)
            assert current <= potential
            if "total_floor_area" in original:
                area = doc["total_floor_area"]
            else:  # SAP-Schema 11.x / 12.0 keep areas per floor only
                dims = [d for part in doc["sap_building_parts"] for d in part.get("sap_floor_dimensions", [])]
                area = round(sum(d["total_floor_area"] for d in dims))
            assert doc.get("suggested_improvements") == original.get("suggested_improvements")
        else:
            current = (
                doc["asset_rating"] if kind == "non-domestic" else doc["this_assessment"]["energy_rating"]
            )
            assert doc["current_energy_efficiency_band"] == building_band(current)
            area = doc["technical_information"]["floor_area"]
        areas.add(area)
        ratings.add(current)
    assert len(areas) > 10 and len(ratings) > 10


def test_certificate_numbers_are_unique_and_uprns_repeat_or_go_missing(data: Dataset) -> None:
    every = [c for kind in KINDS for c in data.all_certificates(kind) + data.reports(kind)]
    assert len({c.certificate_number for c in every}) == len(every)
    assert all(NUMBER.match(c.certificate_number) for c in every)
    domestic = data.all_certificates("domestic")
    uprns = Counter(c.lodged.get("uprn", "absent") for c in domestic)
    assert uprns["absent"] > 0 and uprns[None] > 0
    assert any(n > 1 for uprn, n in uprns.items() if isinstance(uprn, int))


def test_reports_hang_off_plus_rr_samples_only(data: Dataset) -> None:
    for kind in ("non-domestic", "display"):
        for cert in data.all_certificates(kind):
            if cert.sample.split("/")[1].startswith(("cepc+rr", "dec+rr")):
                report = data.certificate(cert.related_rrn)
                assert report is not None and report.report
                assert cert.lodged["related_certificate_number"] == report.certificate_number
                assert report.sample == cert.sample.replace("+rr", "-rr")
                assert report.document["postcode"] == cert.lodged["postcode"]
                if "related_certificate_number" in sample(report.sample):
                    assert report.document["related_certificate_number"] == cert.certificate_number
            else:
                assert cert.related_rrn is None
                assert cert.lodged.get("related_certificate_number") is None
    assert {"CEPC-RR", "DEC-RR"} == {r.document["assessment_type"] for k in KINDS for r in data.reports(k)}


def test_the_same_seed_makes_the_same_data_and_another_seed_other_data() -> None:
    def numbers_of(seed: int) -> list[str]:
        made = Dataset(seed=seed, start=START, end=START + timedelta(3))
        return [c.certificate_number for c in made.all_certificates("domestic")]

    assert numbers_of(3) == numbers_of(3)
    assert numbers_of(3) != numbers_of(4)


# --- search -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_a_date_range_search_pages_through_the_certificates_in_registration_order(
    api: MhclgDouble, spec: OpenAPI, data: Dataset, kind: str
) -> None:
    first, last = date(2025, 1, 10), date(2025, 2, 3)
    rows = walk(
        api, spec, kind, {"date_start": first.isoformat(), "date_end": last.isoformat(), "page_size": 7}
    )
    expected = data.certificates(kind, first, last)
    assert numbers(rows) == [c.certificate_number for c in expected]
    assert rows == [data.search_summary(c) for c in expected]
    keys = SUMMARY_KEYS + (["relatedRrn"] if kind != "domestic" else [])
    assert all(list(row) == keys for row in rows)
    assert [row["registrationDate"] for row in rows] == sorted(row["registrationDate"] for row in rows)
    for row, cert in zip(rows, expected, strict=True):
        doc = cert.document
        assert row["registrationDate"] == doc["registration_date"]
        assert row["postcode"] == doc["postcode"] and row["uprn"] == doc.get("uprn")
        assert row["currentEnergyEfficiencyBand"] == doc["current_energy_efficiency_band"]
        assert row["schemaType"] == doc["schema_type"]
        assert row["addressLine1"] == doc["address_line_1"]
        if kind != "domestic":
            assert row["relatedRrn"] == doc.get("related_certificate_number")


def test_search_defaults_to_one_page_of_up_to_5000(api: MhclgDouble, spec: OpenAPI, data: Dataset) -> None:
    body = valid(spec, search(api, date_start=START.isoformat(), date_end=END.isoformat())).json()
    assert body["pagination"] == {
        "totalRecords": data.count("domestic", START, END),
        "currentPage": 1,
        "totalPages": 1,
        "nextPage": None,
        "prevPage": None,
        "pageSize": 5000,
    }
    assert len(body["data"]) == data.count("domestic")


def test_a_lone_date_start_runs_to_yesterday_as_the_spec_says(
    api: MhclgDouble, spec: OpenAPI, data: Dataset
) -> None:
    rows = valid(spec, search(api, "display", date_start="2025-02-20")).json()["data"]
    assert numbers(rows) == [c.certificate_number for c in data.certificates("display", "2025-02-20", TODAY)]
    assert valid(spec, search(api, date_end="2025-02-20")).json() == {"error": MISSING}


def test_the_codes_reading_ignores_a_lone_date_start(data: Dataset) -> None:
    with MhclgDouble(data, token=TOKEN, today=TODAY, default_date_end=False) as api:
        response = search(api, date_start="2025-02-20")
        assert response.status_code == 400 and response.json() == {"error": MISSING}


def test_filters_match_as_the_service_does_and_combine(
    api: MhclgDouble, spec: OpenAPI, data: Dataset
) -> None:
    every = data.certificates("domestic")
    target = next(c for c in every if isinstance(c.document.get("uprn"), int))
    doc = target.document

    def found(**params: object) -> list[str]:
        response = valid(spec, search(api, **params))
        assert response.status_code in (200, 404), response.text
        return numbers(response.json()["data"]) if response.status_code == 200 else []

    def expect(keep) -> list[str]:
        return [c.certificate_number for c in every if keep(c)]

    # postcode: case and spacing do not matter, the match is exact
    squeezed = doc["postcode"].replace(" ", "").lower()
    assert found(postcode=squeezed) == expect(lambda c: c.document["postcode"] == doc["postcode"])
    # uprn: exact, leading zeros allowed (the docs pad to 12 digits); several certificates share one
    shared = Counter(c.document.get("uprn") for c in every if isinstance(c.document.get("uprn"), int))
    uprn = next(u for u, n in shared.most_common() if n > 1)
    assert len(found(uprn=str(uprn).zfill(12))) == shared[uprn] > 1
    # council[] and constituency[]: names, any case, any of several
    assert found(**{"council[]": ["manchester", "ADUR"]}) == expect(
        lambda c: c.council in ("Manchester", "Adur")
    )
    assert found(**{"constituency[]": [target.constituency.upper()]}) == expect(
        lambda c: c.constituency == target.constituency
    )
    # efficiency_rating[]: the current band, capitalised
    assert found(**{"efficiency_rating[]": ["c", "d"]}) == expect(
        lambda c: c.document["current_energy_efficiency_band"] in "CD"
    )
    # address: part of the lines and post town, punctuation and case ignored
    street = doc["address_line_1"].split(",")[-1].strip()  # "12 Acacia Avenue" or the line after "12, "
    query = street.upper().replace(" ", "  ") + "!"
    words = " ".join(re.sub(r"[^0-9a-z]", " ", query.lower()).split())

    def lines(c) -> str:
        keys = ("address_line_1", "address_line_2", "address_line_3", "address_line_4", "post_town")
        return " ".join(str(c.document[k]) for k in keys if c.document.get(k)).lower()

    assert target.certificate_number in found(address=query)
    assert found(address=query) == expect(lambda c: words in lines(c))
    # filters AND together, and with the date range
    both = found(
        **{"council[]": [target.council], "efficiency_rating[]": [doc["current_energy_efficiency_band"]]}
    )
    assert target.certificate_number in both
    assert both == expect(
        lambda c: (
            c.council == target.council
            and c.document["current_energy_efficiency_band"] == doc["current_energy_efficiency_band"]
        )
    )
    day = target.registration_date.isoformat()
    assert found(postcode=doc["postcode"], date_start=day, date_end=day) == [
        c.certificate_number
        for c in data.certificates("domestic", day, day)
        if c.document["postcode"] == doc["postcode"]
    ]


def test_address_search_does_not_see_past_a_comma_as_the_code_does(api: MhclgDouble, data: Dataset) -> None:
    comma = next(
        c for c in data.certificates("domestic") if re.match(r"^\d+, ", c.document["address_line_1"])
    )
    number, street = comma.document["address_line_1"].split(", ")
    assert comma.certificate_number not in numbers(
        search(api, address=f"{number} {street}").json().get("data", [])
    )
    assert comma.certificate_number in numbers(search(api, address=street).json()["data"])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, MISSING),
        ({"page_size": "10", "current_page": "1"}, MISSING),
        ({"council": "Manchester"}, MISSING),  # arrays need the [] form
        ({"date_start": "2025-02-01", "date_end": "2025-01-01"}, BAD_DATES),
        ({"date_start": "2025-13-01", "date_end": "2025-01-01"}, BAD_DATES),
        ({"date_start": "last week", "date_end": "2025-01-01"}, BAD_DATES),
        ({"date_start": "2025-01-01", "date_end": TODAY.isoformat()}, TODAY_ERROR),
        ({"date_start": "2025-01-01", "date_end": "2030-01-01"}, TODAY_ERROR),
        ({"date_start": TODAY.isoformat()}, BAD_DATES),  # runs to yesterday: reversed
        ({"postcode": "SW1A"}, BAD_POSTCODE),
        ({"postcode": "not a postcode"}, BAD_POSTCODE),
        ({"uprn": "abc"}, BAD_UPRN),
        ({"uprn": "0"}, BAD_UPRN),
        ({"uprn": "-12"}, BAD_UPRN),
        ({"council[]": ["Manchester", "Atlantis"]}, BAD_COUNCIL),
        ({"constituency[]": ["Nowhere North"]}, BAD_CONSTITUENCY),
        ({"date_start": "2025-01-01", "date_end": "2025-01-31", "page_size": "0"}, BAD_PAGE_SIZE),
        ({"date_start": "2025-01-01", "date_end": "2025-01-31", "page_size": "5001"}, BAD_PAGE_SIZE),
        ({"date_start": "2025-01-01", "date_end": "2025-01-31", "page_size": "many"}, BAD_PAGE_SIZE),
    ],
)
@pytest.mark.parametrize("kind", KINDS)
def test_invalid_searches_are_400_with_the_specs_message(
    api: MhclgDouble, spec: OpenAPI, kind: str, params: dict, message: str
) -> None:
    response = valid(spec, search(api, kind, **params))
    assert (response.status_code, response.json()) == (400, {"error": message})


@pytest.mark.parametrize(
    ("page", "size", "expected"),
    [("4", "25", 4), ("0", "25", 0), ("next", "25", 0), ("2", "5000", 2)],
)
def test_a_page_past_the_last_is_400_naming_the_total(
    api: MhclgDouble, spec: OpenAPI, data: Dataset, page: str, size: str, expected: int
) -> None:
    pages = -(-data.count("domestic", "2025-01-01", "2025-01-20") // int(size))
    response = valid(
        spec, search(api, date_start="2025-01-01", date_end="2025-01-20", current_page=page, page_size=size)
    )
    message = f"The requested page number {expected} is out of range. Total pages: {pages}"
    assert (response.status_code, response.json()) == (400, {"error": message})


def test_the_largest_page_size_is_allowed(api: MhclgDouble, spec: OpenAPI) -> None:
    response = valid(
        spec, search(api, "non-domestic", date_start="2025-01-01", date_end="2025-01-31", page_size=5000)
    )
    assert response.status_code == 200 and response.json()["pagination"]["pageSize"] == 5000


@pytest.mark.parametrize(
    "params",
    [
        {"date_start": "2024-01-01", "date_end": "2024-12-31"},
        {"council[]": ["Birmingham"]},  # a real council the data does not cover
        {"postcode": "AB1 0AA"},
        {"uprn": "1"},
        {"efficiency_rating[]": ["Q"]},
        {"date_start": START.isoformat(), "date_end": END.isoformat(), "address": "no such street anywhere"},
    ],
)
@pytest.mark.parametrize("kind", KINDS)
def test_a_search_that_finds_nothing_is_404(api: MhclgDouble, spec: OpenAPI, kind: str, params: dict) -> None:
    response = valid(spec, search(api, kind, **params))
    assert (response.status_code, response.json()) == (404, {"error": NO_CERTIFICATES})


def test_removed_certificates_vanish_and_updated_uprns_show(
    api: MhclgDouble, spec: OpenAPI, data: Dataset
) -> None:
    events = data.events()
    removed = [e for e in events if e.event_type == "removed"]
    updated = [e for e in events if e.event_type == "uprn_updated"]
    assert removed and updated
    served = {
        row["certificateNumber"]: row
        for kind in KINDS
        for row in valid(
            spec, search(api, kind, date_start=START.isoformat(), date_end=END.isoformat())
        ).json()["data"]
    }
    for event in removed:
        assert event.certificate_number not in served
        response = valid(spec, get(api, "/api/certificate", {"certificate_number": event.certificate_number}))
        assert (response.status_code, response.json()) == (404, {"error": "Certificate not found"})
    for event in updated:
        cert = data.certificate(event.certificate_number)
        assert event.new_uprn != cert.lodged.get("uprn")
        assert served[event.certificate_number]["uprn"] == event.new_uprn
        document = get(api, "/api/certificate", {"certificate_number": event.certificate_number}).json()[
            "data"
        ]
        assert document == cert.lodged | {"uprn": event.new_uprn}


def test_search_leaves_out_certificates_registered_today_or_later(data: Dataset) -> None:
    with MhclgDouble(data, token=TOKEN, today=date(2025, 2, 1)) as api:
        rows = search(api, "display", **{"council[]": [c for c in ("Adur", "Cardiff", "Manchester")]}).json()[
            "data"
        ]
        assert rows and max(row["registrationDate"] for row in rows) < "2025-02-01"


# --- certificates -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_a_certificate_is_its_full_document(
    api: MhclgDouble, spec: OpenAPI, data: Dataset, kind: str
) -> None:
    for cert in data.certificates(kind)[:40:3] + data.reports(kind)[:3]:
        response = valid(spec, get(api, "/api/certificate", {"certificate_number": cert.certificate_number}))
        assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
        assert response.json() == {"data": cert.document}


def test_an_unknown_certificate_is_404_and_a_missing_number_a_500(api: MhclgDouble, spec: OpenAPI) -> None:
    response = valid(spec, get(api, "/api/certificate", {"certificate_number": "0000-0000-0000-0000-0000"}))
    assert (response.status_code, response.json()) == (404, {"error": "Certificate not found"})
    response = valid(spec, get(api, "/api/certificate"))
    assert response.status_code == 500 and set(response.json()) == {"errors"}


# --- deltas -------------------------------------------------------------------------------------
def test_deltas_are_the_events_from_start_midnight_to_the_day_after_end(
    api: MhclgDouble, spec: OpenAPI, data: Dataset
) -> None:
    events = data.events()
    assert 0.01 < len(events) / sum(len(data.all_certificates(k)) for k in KINDS) < 0.1
    for event in events:
        registered = data.certificate(event.certificate_number).registration_date
        assert event.timestamp > datetime.combine(registered, datetime.min.time(), UTC)
    first, last = date(2025, 1, 15), date(2025, 2, 10)
    body = valid(
        spec, get(api, "/api/deltas", {"date_start": first.isoformat(), "date_end": last.isoformat()})
    ).json()
    low = datetime(2025, 1, 15, tzinfo=UTC)
    high = datetime(2025, 2, 11, tzinfo=UTC)
    expected = [e for e in events if low <= e.timestamp < high]
    assert [row["certificateNumber"] for row in body["data"]] == [e.certificate_number for e in expected]
    for row, event in zip(body["data"], expected, strict=True):
        assert list(row) == ["certificateNumber", "eventType", "timestamp"]
        assert row["eventType"] == event.event_type in ("removed", "uprn_updated")
        assert validate_rfc3339(row["timestamp"]) and row["timestamp"].endswith("Z")
        assert datetime.fromisoformat(row["timestamp"]) == event.timestamp
    one_day = next(e for e in events if e.timestamp.hour >= 1)
    day = one_day.timestamp.date().isoformat()
    same_day = get(api, "/api/deltas", {"date_start": day, "date_end": day}).json()["data"]
    assert one_day.certificate_number in [row["certificateNumber"] for row in same_day]
    assert all(row["timestamp"].startswith(day) for row in same_day)


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({}, 400, BAD_DATES),
        ({"date_start": "2025-01-01"}, 400, BAD_DATES),
        ({"date_start": "2025-02-01", "date_end": "2025-01-01"}, 400, BAD_DATES),
        ({"date_start": "yesterday", "date_end": "2025-01-01"}, 400, BAD_DATES),
        ({"date_start": "2025-03-01", "date_end": TODAY.isoformat()}, 400, TODAY_ERROR),
        (
            {"date_start": "2024-01-01", "date_end": "2024-06-30"},
            404,
            "No audit logs could be found for that query",
        ),
    ],
)
def test_deltas_errors_follow_the_spec(
    api: MhclgDouble, spec: OpenAPI, params: dict, status: int, message: str
) -> None:
    response = valid(spec, get(api, "/api/deltas", params))
    assert (response.status_code, response.json()) == (status, {"error": message})


# --- authentication and the rate limit ----------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer"},
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "/api/domestic/search?date_start=2025-01-01&date_end=2025-01-02",
        "/api/deltas",
        "/api/certificate?certificate_number=1",
        "/api/files/domestic/csv",
    ],
)
def test_a_missing_or_wrong_token_is_401_and_never_echoed(api: MhclgDouble, headers: dict, path: str) -> None:
    response = requests.get(f"{api.base_url}{path}", headers=headers, timeout=10, allow_redirects=False)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    error_shape(response.json())
    assert TOKEN not in response.text and TOKEN not in str(response.headers)
    assert api.log[-1].authorised is False


def test_the_codes_reading_answers_403_and_wraps_errors_in_data(data: Dataset) -> None:
    with MhclgDouble(data, token=TOKEN, today=TODAY, auth_failure_status=403, wrap_errors=True) as api:
        response = search(api, date_start="2025-01-01", date_end="2025-01-02")
        assert response.status_code == 200 and "data" in response.json()
        denied = get(api, "/api/domestic/search", {"date_start": "2025-01-01"}, token="nope")
        assert denied.status_code == 403
        assert denied.json() == {"errors": [{"code": "UNAUTHORISED", "title": "You are not authenticated"}]}
        assert search(api).json() == {"data": {"error": MISSING}}
        assert search(api, postcode="AB1 0AA").json() == {"data": {"error": NO_CERTIFICATES}}


def test_beyond_the_rate_limit_is_429_with_retry_after_until_the_window_frees(data: Dataset) -> None:
    assert inspect.signature(MhclgDouble).parameters["rate_limit"].default == (6000, 300)
    clock = FakeClock()
    with MhclgDouble(data, token=TOKEN, today=TODAY, rate_limit=(3, 10), clock=clock) as api:
        params = {"date_start": "2025-01-01", "date_end": "2025-01-01"}
        for _ in range(2):
            assert get(api, "/api/display/search", params).status_code == 200
        clock.now += 4
        assert get(api, "/api/display/search", params, token="wrong").status_code == 401  # counted too
        limited = get(api, "/api/display/search", params)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "6"
        error_shape(limited.json())
        clock.now += 5.5
        assert get(api, "/api/display/search", params).headers["Retry-After"] == "1"
        clock.now += 0.5  # the first two requests leave the window
        assert [get(api, "/api/display/search", params).status_code for _ in range(3)] == [200, 200, 429]


# --- scripted faults and the log ----------------------------------------------------------------
def test_scripted_faults_fire_after_skip_for_times_then_stop(api: MhclgDouble, spec: OpenAPI) -> None:
    params = {"date_start": "2025-01-01", "date_end": "2025-01-02"}
    api.add_fault(match="/api/non-domestic/search", status=503, retry_after="2", skip=1, times=2)
    codes = [search(api, "non-domestic", **params) for _ in range(4)]
    assert [r.status_code for r in codes] == [200, 503, 503, 200]
    assert codes[1].headers["Retry-After"] == "2" and "error" in codes[1].json()
    api.add_fault(match="/api/deltas", status=500)
    failed = valid(spec, get(api, "/api/deltas", {"date_start": "2025-01-01", "date_end": "2025-01-31"}))
    assert failed.status_code == 500 and set(failed.json()) == {"errors"}
    api.add_fault(match="current_page=2", status=429, retry_after="7", times=-1)
    assert all(search(api, **params, current_page=2, page_size=1).status_code == 429 for _ in range(3))
    assert search(api, **params, current_page=3, page_size=1).status_code == 200


def test_broken_bodies_not_json_cut_and_truncated(api: MhclgDouble) -> None:
    params = {"date_start": "2025-01-01", "date_end": "2025-01-05"}
    whole = search(api, **params).content
    api.add_fault(match="domestic/search", body="not_json")
    response = search(api, **params)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    api.add_fault(match="domestic/search", body="cut")
    cut = search(api, **params)
    assert cut.content == whole[: len(whole) // 2] and int(cut.headers["Content-Length"]) == len(cut.content)
    api.add_fault(match="domestic/search", body="truncated")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        search(api, **params)


def test_the_log_records_every_request_and_clear_forgets(api: MhclgDouble) -> None:
    before = time.time()
    search(api, "display", **{"date_start": "2025-01-01", "date_end": "2025-01-02", "council[]": ["Adur"]})
    get(api, "/api/deltas", {"date_start": "2025-01-01"})
    entries = list(api.log)
    assert [(e.path, e.status) for e in entries] == [("/api/display/search", 200), ("/api/deltas", 400)]
    assert entries[0].query == {
        "date_start": ["2025-01-01"],
        "date_end": ["2025-01-02"],
        "council[]": ["Adur"],
    }
    assert all(before <= e.at <= time.time() and e.authorised for e in entries)
    api.clear()
    assert api.log == []


# --- bulk files ---------------------------------------------------------------------------------
FILES = [f"{kind}/{fmt}" for kind in KINDS for fmt in ("csv", "json")] + [
    "non-domestic-recommendations/json",
    "display-recommendations/json",
]


def download(api: MhclgDouble, spec: OpenAPI, name: str, **kwargs) -> requests.Response:
    redirect = valid(spec, get(api, f"/api/files/{name}", allow_redirects=False))
    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    assert location.startswith(f"{api.base_url}/_s3/") and "X-Amz-Expires=30" in location
    return requests.get(location, timeout=10, **kwargs)


@pytest.mark.parametrize("name", FILES)
def test_file_info_gives_the_size_and_date_of_the_zip_behind_the_redirect(
    api: MhclgDouble, spec: OpenAPI, name: str
) -> None:
    info = valid(spec, get(api, f"/api/files/{name}/info")).json()["data"]
    assert set(info) == {"fileSize", "lastUpdated"}
    assert info["lastUpdated"] == "2025-03-01T00:31:19.000+00:00" and validate_rfc3339(info["lastUpdated"])
    response = download(api, spec, name)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    assert len(response.content) == info["fileSize"]
    assert zipfile.ZipFile(io.BytesIO(response.content)).testzip() is None


def test_an_unknown_file_is_404(api: MhclgDouble) -> None:
    for path in (
        "/api/files/domestic/xml",
        "/api/files/domestic-recommendations/json/info",
        "/api/files/x/csv",
    ):
        response = get(api, path, allow_redirects=False)
        assert (response.status_code, response.json()) == (404, {"error": "File not found"})


def test_the_presigned_url_expires_30_seconds_after_issue(data: Dataset) -> None:
    clock = FakeClock()
    with MhclgDouble(data, token=TOKEN, today=TODAY, clock=clock) as api:
        location = get(api, "/api/files/display/json", allow_redirects=False).headers["Location"]
        clock.now += 30
        assert requests.get(location, timeout=10).status_code == 200
        clock.now += 1
        expired = requests.get(location, timeout=10)
        assert expired.status_code == 403 and b"<Code>AccessDenied</Code>" in expired.content
        assert b"expired" in expired.content
        fresh = get(api, "/api/files/display/json", allow_redirects=False).headers["Location"]
        assert requests.get(fresh, timeout=10).status_code == 200
        for tampered in (
            fresh.replace("X-Amz-Expires=30", "X-Amz-Expires=3000"),
            fresh[:-2] + "00",
            fresh.split("?")[0],
        ):
            denied = requests.get(tampered, timeout=10)
            assert denied.status_code == 403 and denied.headers["Content-Type"] == "application/xml"
        assert not any(e.path.startswith("/_s3/") and e.authorised for e in api.log[-3:])


def test_downloads_resume_with_range_requests(api: MhclgDouble, spec: OpenAPI) -> None:
    whole = download(api, spec, "domestic/json").content
    size = len(whole)
    api.add_fault(match="/_s3/", body="truncated")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        download(api, spec, "domestic/json")
    parts, offset = [], 0
    while offset < size:
        part = download(api, spec, "domestic/json", headers={"Range": f"bytes={offset}-{offset + 99_999}"})
        assert part.status_code == 206
        assert part.headers["Content-Range"] == f"bytes {offset}-{min(offset + 99_999, size - 1)}/{size}"
        parts.append(part.content)
        offset += len(part.content)
    assert b"".join(parts) == whole
    assert (
        download(api, spec, "domestic/json", headers={"Range": f"bytes={size - 10}-"}).content == whole[-10:]
    )
    assert download(api, spec, "domestic/json", headers={"Range": "bytes=-10"}).content == whole[-10:]
    location = get(api, "/api/files/domestic/json", allow_redirects=False).headers["Location"]
    head = requests.head(location, timeout=10)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == size and head.content == b""
    assert head.headers["Accept-Ranges"] == "bytes" and head.headers["ETag"]
    beyond = download(api, spec, "domestic/json", headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{size}"


def test_csv_full_loads_hold_one_member_per_year_with_lower_case_headers() -> None:
    years = Dataset(seed=5, start=date(2024, 12, 28), end=date(2025, 1, 3))
    with MhclgDouble(years, token=TOKEN, today=date(2025, 2, 14)) as api:
        spec = OpenAPI(SchemaPath.from_dict(copy.deepcopy(SPEC) | {"servers": [{"url": api.base_url}]}))
        for kind in KINDS:
            archive = zipfile.ZipFile(io.BytesIO(download(api, spec, f"{kind}/csv").content))
            expected = ["certificates-2024.csv", "certificates-2025.csv"]
            if kind == "domestic":
                expected = ["certificates-2024.csv", "recommendations-2024.csv"]
                expected += ["certificates-2025.csv", "recommendations-2025.csv"]
            assert archive.namelist() == expected
            for year in (2024, 2025):
                reader = csv.DictReader(io.StringIO(archive.read(f"certificates-{year}.csv").decode()))
                assert reader.fieldnames[0] == "certificate_number"
                assert all(re.fullmatch(r"[a-z0-9_]+", name) for name in reader.fieldnames)
                rows = list(reader)
                certs = [c for c in years.certificates(kind) if c.registration_date.year == year]
                assert [r["certificate_number"] for r in rows] == [c.certificate_number for c in certs]
                for row, cert in zip(rows, certs, strict=True):
                    assert row["postcode"] == cert.document["postcode"]
                    assert row["uprn"] == str(cert.document.get("uprn") or "")
                    assert row["lodgement_date"] == cert.registration_date.isoformat()
                band = {"domestic": "current_energy_rating", "non-domestic": "asset_rating_band"}
                band_column = band.get(kind, "operational_rating_band")
                assert [r[band_column] for r in rows] == [
                    c.document["current_energy_efficiency_band"] for c in certs
                ]
            if kind == "domestic":
                recs = list(csv.DictReader(io.StringIO(archive.read("recommendations-2025.csv").decode())))
                assert list(recs[0]) == [
                    "certificate_number", "improvement_item", "indicative_cost", "improvement_summary_text",
                    "improvement_descr_text", "improvement_id",
                ]  # fmt: skip
                made = Counter(r["certificate_number"] for r in recs)
                for cert in years.certificates(kind):
                    if cert.registration_date.year == 2025:
                        assert made[cert.certificate_number] == len(
                            cert.document.get("suggested_improvements") or []
                        )


def test_files_hold_what_was_registered_before_the_first_of_the_month(data: Dataset) -> None:
    with MhclgDouble(data, token=TOKEN, today=date(2025, 2, 14)) as api:
        spec = OpenAPI(SchemaPath.from_dict(copy.deepcopy(SPEC) | {"servers": [{"url": api.base_url}]}))
        archive = zipfile.ZipFile(io.BytesIO(download(api, spec, "display/json").content))
        lines = [json.loads(line) for line in archive.read("certificates-2025.jsonl").splitlines()]
        assert [line["certificate_number"] for line in lines] == [
            c.certificate_number for c in data.certificates("display", START, date(2025, 1, 31))
        ]


@pytest.mark.parametrize("kind", KINDS)
def test_json_full_loads_are_json_lines_of_the_served_documents(
    api: MhclgDouble, spec: OpenAPI, data: Dataset, kind: str
) -> None:
    archive = zipfile.ZipFile(io.BytesIO(download(api, spec, f"{kind}/json").content))
    assert archive.namelist() == ["certificates-2025.jsonl"]
    lines = [json.loads(line) for line in archive.read("certificates-2025.jsonl").splitlines()]
    assert all(list(line) == ["certificate_number", "document"] for line in lines)
    assert [line["certificate_number"] for line in lines] == [
        c.certificate_number for c in data.certificates(kind)
    ]
    assert [line["document"] for line in lines] == data.documents(kind)
    if kind != "domestic":
        archive = zipfile.ZipFile(io.BytesIO(download(api, spec, f"{kind}-recommendations/json").content))
        lines = [json.loads(line) for line in archive.read("recommendations-2025.jsonl").splitlines()]
        assert [line["certificate_number"] for line in lines] == [
            r.certificate_number for r in data.reports(kind)
        ]
        assert all(line["document"]["assessment_type"].endswith("-RR") for line in lines)


# --- standalone ---------------------------------------------------------------------------------
def test_the_module_runs_standalone_with_url_file_token_and_rate_limit(tmp_path: Path) -> None:
    url_file = tmp_path / "url"
    command = [sys.executable, "-m", "tests.doubles.mhclg", "--port", "0", "--url-file", str(url_file)]
    command += [
        "--token",
        "cli-token",
        "--rate-limit",
        "3/60",
        "--today",
        "2025-04-01",
        "--end",
        "2025-01-31",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not (url_file.exists() and url_file.read_text().endswith("\n")):
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.05)
        base = url_file.read_text().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
        url = f"{base}/api/non-domestic/search?date_start=2025-01-01&date_end=2025-01-31"
        headers = {"Authorization": "Bearer cli-token"}
        codes = [requests.get(url, headers=headers, timeout=10).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        limited = requests.get(url, headers=headers, timeout=10)
        assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


def test_concurrent_clients_are_all_answered(api: MhclgDouble, data: Dataset) -> None:
    numbers_ = [c.certificate_number for c in data.certificates("domestic")[:60]]
    answers: dict[str, int] = {}

    def fetch(chunk: list[str]) -> None:
        with requests.Session() as session:
            for number in chunk:
                response = session.get(
                    f"{api.base_url}/api/certificate",
                    params={"certificate_number": number},
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    timeout=10,
                )
                answers[number] = response.status_code

    threads = [threading.Thread(target=fetch, args=(numbers_[i::6],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == dict.fromkeys(numbers_, 200)


def test_a_client_hanging_up_mid_request_is_not_printed_and_the_double_goes_on(
    api: MhclgDouble, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, met = api._server, threading.Semaphore(0)
    handle_error = server.handle_error

    def counted(request: Any, address: Any) -> None:
        handle_error(request, address)
        met.release()

    monkeypatch.setattr(server, "handle_error", counted)
    port = int(api.base_url.rsplit(":", 1)[1])
    for _ in range(3):  # an extractor stopping with connections open: a reset before the request ends
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(b"GET /api/certificate?certificate_number=")
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    assert all(met.acquire(timeout=10) for _ in range(3)), "the server never met the resets"
    answer = get(api, "/api/deltas", {"date_start": "2025-01-01", "date_end": "2025-01-02"})
    assert answer.status_code in (200, 404)
    assert capsys.readouterr().err == ""
