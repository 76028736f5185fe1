"""The v1 double against its contract (../shared/reference/epc-api.md sections 1, 2 and 6), over real HTTP.

Expected values come from the generated `Dataset` (what the double should serve), from the official
sample bodies in tests/fixtures/odc_v1 and from the field lists of epc-api.md, never from the
server's own code. Where the public material is silent (400s, 406s, `Retry-After`) the tests check
the behaviour the double documents in its module docstring, not a claim about the real API.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import subprocess
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import requests

from tests.doubles.odc_v1 import Dataset, OdcV1Double
from tests.support import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "odc_v1"
SAMPLE_SEARCH = json.loads((FIXTURES / "sample_search_response.json").read_text())
SAMPLE_RECOMMENDATIONS = json.loads((FIXTURES / "sample_epc_recommendations_response.json").read_text())
DOMESTIC_COLUMNS = SAMPLE_SEARCH["column-names"]
# epc-api.md 2.2-2.4
DOMESTIC_RECOMMENDATION_KEYS = [
    "lmk-key", "improvement-item", "improvement-summary-text", "improvement-descr-text",
    "improvement-id", "improvement-id-text", "indicative-cost",
]  # fmt: skip
NON_DOMESTIC_RECOMMENDATION_KEYS = [
    "lmk-key", "payback-type", "recommendation-item", "recommendation-code", "recommendation", "co2-impact",
]  # fmt: skip
NON_DOMESTIC_COLUMNS = [
    "lmk-key", "address1", "address2", "address3", "postcode", "building-reference-number",
    "asset-rating", "asset-rating-band", "property-type", "inspection-date", "local-authority",
    "constituency", "county", "lodgement-date", "transaction-type", "new-build-benchmark",
    "existing-stock-benchmark", "building-level", "main-heating-fuel", "other-fuel-desc",
    "special-energy-uses", "renewable-sources", "floor-area", "standard-emissions",
    "target-emissions", "typical-emissions", "building-emissions", "aircon-present",
    "aircon-kw-rating", "estimated-aircon-kw-rating", "ac-inspection-commissioned",
    "building-environment", "address", "local-authority-label", "constituency-label",
    "posttown", "lodgement-datetime", "primary-energy-value", "uprn", "uprn-source",
]  # fmt: skip
COLUMNS = {"domestic": DOMESTIC_COLUMNS, "non-domestic": NON_DOMESTIC_COLUMNS}
RECOMMENDATION_KEYS = {
    "domestic": DOMESTIC_RECOMMENDATION_KEYS,
    "non-domestic": NON_DOMESTIC_RECOMMENDATION_KEYS,
}
JSON = "application/json"
CSV = "text/csv"
ZIP = "application/zip"
EXCEL = ("application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
LINK = re.compile(r'/api/v1/(?P<kind>[a-z-]+)/search\?(?P<query>[^\s<>;]+); rel="next"')


# --- fixtures: one shared server (stopping a double takes half a second), reset for every test ---
@pytest.fixture(scope="module")
def shared_double() -> Iterator[OdcV1Double]:
    """The conftest `double` on the conftest `dataset` (seed 11, 2023-01..2024-12, 2023-06 empty)."""
    with OdcV1Double(Dataset(seed=11, start="2023-01", end="2024-12")) as api:
        yield api


@pytest.fixture
def double(shared_double: OdcV1Double) -> Iterator[OdcV1Double]:
    shared_double.clear()
    yield shared_double
    shared_double.clear()


@pytest.fixture
def dataset(double: OdcV1Double) -> Dataset:
    return double.data


# --- helpers ------------------------------------------------------------------------------------
def get(
    api: OdcV1Double, path: str, params: object = None, accept: str | None = JSON, auth: object = True
) -> requests.Response:
    """GET `path` under the base URL; `auth=True` sends the double's own credentials."""
    headers = {"Accept": accept} if accept else {}
    credentials = (api.email, api.api_key) if auth is True else auth
    return requests.get(f"{api.base_url}{path}", params=params, headers=headers, auth=credentials, timeout=10)


def search(api: OdcV1Double, kind: str = "domestic", params: object = None, **kwargs) -> requests.Response:
    return get(api, f"/{kind}/search", params, **kwargs)


def served(data: Dataset, kind: str, months: list[str] | None = None) -> list[dict[str, str]]:
    """The rows the double should serve for `months` (all by default), in API order."""
    return [row for month in months or data.months() for row in data.rows(kind, month)]


def walk(api: OdcV1Double, kind: str, params: dict[str, str]) -> list[requests.Response]:
    """Follow `X-Next-Search-After` until the empty page; returns every response, the empty one last."""
    pages: list[requests.Response] = []
    token = None
    for _ in range(1000):
        page = search(api, kind, params | ({"search-after": token} if token else {}))
        assert page.status_code == 200, page.text
        pages.append(page)
        if not page.content:
            return pages
        token = page.headers["X-Next-Search-After"]
    raise AssertionError("pagination never ended")


def keys(response: requests.Response) -> list[str]:
    return [row["lmk-key"] for row in response.json()["rows"]]


def csv_records(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return header, [dict(zip(header, values, strict=True)) for values in reader]


def logged(api: OdcV1Double, count: int) -> list:
    """The request log once it holds `count` entries (the double logs just after answering)."""
    deadline = time.monotonic() + 5
    while len(api.log) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return list(api.log)


# --- authentication -----------------------------------------------------------------------------
WRONG_KEY = "wrong-key-5d1e9a"


@pytest.mark.parametrize(
    "credentials",
    [
        None,
        ("analyst@example.org", WRONG_KEY),
        ("someone@example.org", "double-api-key"),
        {"Authorization": "Basic !!!not-base64!!!"},
        {"Authorization": "Bearer double-api-key"},
    ],
    ids=["none", "wrong-key", "wrong-email", "garbled-basic", "bearer"],
)
def test_missing_or_bad_credentials_get_401_with_a_basic_challenge_that_echoes_no_key(double, credentials):
    headers = {"Accept": JSON}
    auth = None
    if isinstance(credentials, dict):
        headers |= credentials
    else:
        auth = credentials
    response = requests.get(f"{double.base_url}/domestic/search", headers=headers, auth=auth, timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    everything = response.text + " ".join(f"{k}: {v}" for k, v in response.headers.items())
    assert double.api_key not in everything
    assert WRONG_KEY not in everything


@pytest.mark.parametrize(
    "path", ["/domestic/search", "/domestic/certificate/x", "/non-domestic/recommendations/x"]
)
def test_every_data_endpoint_requires_credentials(double, path):
    assert get(double, path, auth=None).status_code == 401


def test_basic_credentials_of_email_and_key_are_accepted(double):
    token = base64.b64encode(f"{double.email}:{double.api_key}".encode()).decode()
    response = requests.get(
        f"{double.base_url}/domestic/search",
        headers={"Authorization": f"Basic {token}", "Accept": JSON},
        timeout=10,
    )
    assert response.status_code == 200
    assert len(response.json()["rows"]) == 25


def test_info_answers_without_credentials_with_latest_and_updated_dates(dataset):
    with OdcV1Double(dataset, today=date(2025, 1, 20)) as api:
        response = requests.get(f"{api.base_url}/info", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(JSON)
    latest = max(r["lodgement-date"] for kind in ("domestic", "non-domestic") for r in served(dataset, kind))
    assert response.json() == {"latestDate": latest, "updatedDate": "2025-01-20"}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", latest) and latest.startswith("2024-12")


# --- Accept negotiation -------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["domestic", "non-domestic"])
def test_json_search_is_an_envelope_of_column_names_and_string_rows(double, dataset, kind):
    response = search(double, kind, {"size": 200})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(JSON)
    body = response.json()
    assert list(body) == ["column-names", "rows"]
    assert body["column-names"] == COLUMNS[kind]
    assert body["rows"] == served(dataset, kind)[:200]
    for row in body["rows"]:
        assert list(row) == COLUMNS[kind]  # every key, in column order, even when empty
        assert all(isinstance(value, str) for value in row.values())
    assert all(row["address3"] == "" for row in body["rows"] if kind == "domestic")  # missing is ""
    assert sum(value == "" for row in body["rows"] for value in row.values()) > len(body["rows"])


@pytest.mark.parametrize("kind", ["domestic", "non-domestic"])
def test_csv_pages_have_the_json_column_names_as_their_header_and_the_same_values(double, kind):
    params = {"size": 120, "from-year": 2024}
    as_json = search(double, kind, params).json()
    response = search(double, kind, params, accept=CSV)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    header, records = csv_records(response.text)
    assert header == as_json["column-names"]
    assert all(name == name.lower() and "_" not in name for name in header)
    assert records == as_json["rows"]
    token = response.headers["X-Next-Search-After"]
    second = search(double, kind, params | {"search-after": token}, accept=CSV)
    second_header, second_records = csv_records(second.text)  # every page repeats the header
    assert second_header == header
    assert second_records == search(double, kind, params | {"search-after": token}).json()["rows"]


def test_zip_search_holds_certificates_csv_and_recommendations_csv(double, dataset):
    page = search(double, "domestic", {"size": 40}).json()["rows"]
    response = search(double, "domestic", {"size": 40}, accept=ZIP)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == ZIP
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == ["certificates.csv", "recommendations.csv"]
        cert_header, certificates = csv_records(archive.read("certificates.csv").decode())
        rec_header, recommendations = csv_records(archive.read("recommendations.csv").decode())
    assert cert_header == DOMESTIC_COLUMNS
    assert certificates == page
    assert rec_header == DOMESTIC_RECOMMENDATION_KEYS
    expected = sum(dataset.recommendation_count("domestic", row["lmk-key"]) for row in page)
    assert len(recommendations) == expected > 0
    assert {r["lmk-key"] for r in recommendations} <= {row["lmk-key"] for row in page}


def test_zip_on_recommendations_is_406(double, dataset):
    key = next(
        r["lmk-key"] for r in served(dataset, "domestic") if dataset.recommendations("domestic", r["lmk-key"])
    )
    assert get(double, f"/domestic/recommendations/{key}").status_code == 200
    assert get(double, f"/domestic/recommendations/{key}", accept=ZIP).status_code == 406


@pytest.mark.parametrize("accept", EXCEL)
@pytest.mark.parametrize("path", ["/domestic/search", "/non-domestic/search", "/domestic/certificate/{key}"])
def test_excel_types_are_406(double, dataset, accept, path):
    url = path.format(key=served(dataset, "domestic")[0]["lmk-key"])
    assert get(double, url).status_code == 200
    assert get(double, url, accept=accept).status_code == 406


# --- search parameters --------------------------------------------------------------------------
def test_default_page_size_is_25(double, dataset):
    response = search(double)
    assert keys(response) == [r["lmk-key"] for r in served(dataset, "domestic")[:25]]


def test_size_5000_is_accepted(double, dataset):
    response = search(double, "domestic", {"size": 5000})
    assert response.status_code == 200
    assert len(response.json()["rows"]) == len(served(dataset, "domestic")) < 5000


@pytest.mark.parametrize(
    "params",
    [
        {"size": "5001"},
        {"size": "0"},
        {"size": "-1"},
        {"size": "ten"},
        {"from-month": "13"},
        {"to-month": "0"},
        {"from-year": "2007"},
        {"to-year": str(date.today().year + 1)},
        {"colour": "green"},
        {"page": "2"},
    ],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()),
)
def test_out_of_range_or_unknown_parameters_are_400_with_a_short_text_body(double, params):
    response = search(double, "domestic", params)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")
    assert 0 < len(response.text) < 200
    assert "X-Next-Search-After" not in response.headers


@pytest.mark.parametrize(
    ("window", "months"),
    [
        (
            {"from-month": 3, "from-year": 2023, "to-month": 5, "to-year": 2023},
            ["2023-03", "2023-04", "2023-05"],
        ),
        (
            {"from-month": 11, "from-year": 2023, "to-month": 2, "to-year": 2024},
            ["2023-11", "2023-12", "2024-01", "2024-02"],
        ),
        ({"from-year": 2024}, [f"2024-{m:02d}" for m in range(1, 13)]),
        ({"to-year": 2023, "to-month": 1}, ["2023-01"]),
    ],
)
def test_month_and_year_window_filters_on_lodgement_date(double, dataset, window, months):
    rows = search(double, "domestic", {"size": 5000} | window).json()["rows"]
    assert rows == served(dataset, "domestic", months)
    assert rows and {r["lodgement-date"][:7] for r in rows} <= set(months)


def test_default_window_is_january_2008_to_december_of_the_current_year():
    data = Dataset(seed=3, start="2007-11", end="2025-02", rows_per_month={"domestic": 2, "non-domestic": 1})
    with OdcV1Double(data, today=date(2024, 6, 15)) as api:
        rows = search(api, "domestic", {"size": 5000}).json()["rows"]
        assert search(api, "domestic", {"to-year": 2025}).status_code == 400
    inside = [m for m in data.months() if "2008-01" <= m <= "2024-12"]
    assert rows == served(data, "domestic", inside)
    assert min(r["lodgement-date"] for r in rows)[:7] == "2008-01"
    assert max(r["lodgement-date"] for r in rows)[:7] == "2024-12"  # after "today", still in the window
    assert data.count("domestic", "2007-12") > 0 and data.count("domestic", "2025-01") > 0


@pytest.mark.parametrize("prefix", ["M1", "m1", "CF", "C", "DL14", "BN15 "])
def test_postcode_filter_matches_a_prefix(double, dataset, prefix):
    rows = search(double, "domestic", {"size": 5000, "postcode": prefix}).json()["rows"]
    wanted = prefix.replace(" ", "").upper()
    expected = [r for r in served(dataset, "domestic") if r["postcode"].replace(" ", "").startswith(wanted)]
    assert rows == expected
    assert 0 < len(rows) < len(served(dataset, "domestic"))


def test_full_postcode_finds_that_postcode_only(double, dataset):
    postcode = served(dataset, "domestic")[100]["postcode"]
    rows = search(double, "domestic", {"size": 5000, "postcode": postcode.replace(" ", "")}).json()["rows"]
    assert rows and {r["postcode"] for r in rows} == {postcode}


def test_repeated_uprn_returns_the_union(double, dataset):
    counts = Counter(int(r["uprn"]) for r in served(dataset, "domestic") if r["uprn"])
    (a, _), (b, _) = counts.most_common(2)
    one = search(double, "domestic", {"size": 5000, "uprn": str(a)}).json()["rows"]
    both = search(double, "domestic", [("size", 5000), ("uprn", str(a)), ("uprn", str(b))]).json()["rows"]
    assert len(one) == counts[a] >= 2
    assert len(both) == counts[a] + counts[b]
    assert [r for r in served(dataset, "domestic") if r["uprn"] and int(r["uprn"]) in (a, b)] == both


def test_filters_and_together(double, dataset):
    filters = {"local-authority": "E07000223", "energy-band": "d", "property-type": "house"}
    combined = search(double, "domestic", {"size": 5000} | filters).json()["rows"]
    expected = [
        r
        for r in served(dataset, "domestic")
        if r["local-authority"] == "E07000223"
        and r["current-energy-rating"].upper() == "D"
        and r["property-type"] == "House"
    ]
    assert combined == expected and combined
    for name, value in filters.items():
        alone = search(double, "domestic", {"size": 5000, name: value}).json()["rows"]
        assert len(alone) > len(combined)


def test_repeated_energy_band_is_an_or_on_the_non_domestic_asset_band(double, dataset):
    rows = search(double, "non-domestic", [("size", 5000), ("energy-band", "a+"), ("energy-band", "g")])
    expected = [r for r in served(dataset, "non-domestic") if r["asset-rating-band"].upper() in ("A+", "G")]
    assert rows.json()["rows"] == expected
    assert {r["asset-rating-band"].upper() for r in expected} == {"A+", "G"}


# --- pagination ---------------------------------------------------------------------------------
def test_every_page_with_rows_has_a_cursor_header_and_a_relative_next_link(double):
    params = {"size": "40", "postcode": "M1", "from-year": "2023", "to-year": "2023"}
    pages = walk(double, "domestic", params)
    assert len(pages) >= 3
    for page in pages[:-1]:
        token = page.headers["X-Next-Search-After"]
        link = page.headers["Link"]
        assert not link.startswith("<") and ">" not in link
        match = LINK.fullmatch(link)
        assert match, link
        assert match["kind"] == "domestic"
        query = parse_qsl(match["query"])
        assert query[-1] == ("search-after", token)
        assert dict(query[:-1]) == params


def test_following_the_link_header_gives_the_same_page_as_the_cursor(double):
    first = search(double, "non-domestic", {"size": 30, "from-year": 2024})
    origin = double.base_url.removesuffix("/api/v1")
    path = first.headers["Link"].split(";")[0]
    by_link = requests.get(
        origin + path, headers={"Accept": JSON}, auth=(double.email, double.api_key), timeout=10
    )
    token = first.headers["X-Next-Search-After"]
    by_cursor = search(double, "non-domestic", {"size": 30, "from-year": 2024, "search-after": token})
    assert by_link.status_code == 200
    assert keys(by_link) == keys(by_cursor)
    assert set(keys(by_link)).isdisjoint(keys(first))


def test_cursor_is_opaque_and_the_same_query_gives_the_same_tokens(double):
    query = {"size": "80", "from-year": "2024"}
    first = [p.headers.get("X-Next-Search-After") for p in walk(double, "domestic", query)]
    again = [p.headers.get("X-Next-Search-After") for p in walk(double, "domestic", query)]
    assert first == again
    tokens = first[:-1]
    assert len(set(tokens)) == len(tokens) >= 5
    for page, token in enumerate(tokens, start=1):
        assert not token.isdigit()
        assert token not in {str(page), str(page * 80), str(page * 80 - 1)}
    assert first[-1] is None


def test_a_numeric_offset_is_not_a_cursor(double):
    response = search(double, "domestic", {"size": 100, "search-after": 100})
    assert response.status_code == 400


@pytest.mark.parametrize(("kind", "size"), [("domestic", 97), ("non-domestic", 23)])
def test_following_cursors_visits_every_row_of_the_window_exactly_once_in_order(double, dataset, kind, size):
    window = {"from-month": "4", "from-year": "2023", "to-month": "9", "to-year": "2024"}
    pages = walk(double, kind, {"size": str(size)} | window)
    seen = [key for page in pages[:-1] for key in keys(page)]
    months = [m for m in dataset.months() if "2023-04" <= m <= "2024-09"]
    assert seen == [r["lmk-key"] for r in served(dataset, kind, months)]
    assert len(seen) == len(set(seen)) == sum(dataset.count(kind, m) for m in months)
    assert all(len(page.json()["rows"]) == size for page in pages[:-2])
    stamps = [r["lodgement-datetime"] for page in pages[:-1] for r in page.json()["rows"]]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize("accept", [JSON, CSV])
def test_request_after_the_last_page_is_an_empty_200(double, dataset, accept):
    total = dataset.count("domestic", "2024-03")
    window = {"from-month": 3, "to-month": 3, "from-year": 2024, "to-year": 2024}
    last = search(double, "domestic", {"size": total} | window, accept=accept)
    assert last.status_code == 200 and last.content
    token = last.headers["X-Next-Search-After"]  # the last page with rows still has a cursor
    after = search(double, "domestic", {"size": total, "search-after": token} | window, accept=accept)
    assert after.status_code == 200
    assert after.content == b""
    assert after.headers["Content-Length"] == "0"
    assert "X-Next-Search-After" not in after.headers
    assert "Link" not in after.headers


@pytest.mark.parametrize(
    "params",
    [
        {"from-year": 2008, "to-year": 2008},
        {"from-month": 6, "to-month": 6, "from-year": 2023, "to-year": 2023},  # the empty month
        {"postcode": "ZZ99"},
    ],
)
def test_an_empty_window_is_an_empty_200_at_once(double, params):
    response = search(double, "domestic", params)
    assert response.status_code == 200
    assert response.content == b""
    assert "X-Next-Search-After" not in response.headers


@pytest.mark.parametrize("token", ["0123456789abcdef", "", "not-a-cursor"])
def test_an_unknown_cursor_is_400(double, token):
    assert search(double, "domestic", {"search-after": token}).status_code == 400


def test_a_cursor_from_another_query_is_400(double):
    token = search(double, "domestic", {"size": 10}).headers["X-Next-Search-After"]
    assert search(double, "domestic", {"size": 10, "search-after": token}).status_code == 200
    assert (
        search(double, "domestic", {"size": 10, "postcode": "M1", "search-after": token}).status_code == 400
    )
    assert search(double, "non-domestic", {"size": 10, "search-after": token}).status_code == 400


def test_deprecated_from_offsets_the_results(double, dataset):
    response = search(double, "domestic", {"from": 30, "size": 10})
    assert keys(response) == [r["lmk-key"] for r in served(dataset, "domestic")[30:40]]
    following = search(
        double, "domestic", {"size": 10, "search-after": response.headers["X-Next-Search-After"]}
    )
    assert keys(following) == [r["lmk-key"] for r in served(dataset, "domestic")[40:50]]


@pytest.mark.parametrize(
    ("offset", "size", "status"),
    [(0, 5000, 200), (5000, 5000, 200), (9990, 10, 200), (9991, 10, 400), (5001, 5000, 400), (10001, 1, 400)],
)
def test_from_plus_size_beyond_10000_is_400(double, offset, size, status):
    response = search(double, "domestic", {"from": offset, "size": size})
    assert response.status_code == status


# --- certificate and recommendations ------------------------------------------------------------
@pytest.mark.parametrize("kind", ["domestic", "non-domestic"])
def test_certificate_endpoint_returns_one_row_in_the_json_envelope(double, dataset, kind):
    row = served(dataset, kind)[17]
    response = get(double, f"/{kind}/certificate/{row['lmk-key']}")
    assert response.status_code == 200
    assert response.json() == {"column-names": COLUMNS[kind], "rows": [row]}


@pytest.mark.parametrize(
    "path",
    [
        "/domestic/certificate/{unknown}",
        "/domestic/recommendations/{unknown}",
        "/non-domestic/certificate/{domestic}",
        "/non-domestic/recommendations/{unknown}",
    ],
)
def test_an_unknown_key_is_404(double, dataset, path):
    url = path.format(unknown="0" * 64, domestic=served(dataset, "domestic")[0]["lmk-key"])
    assert get(double, url).status_code == 404


@pytest.mark.parametrize("kind", ["domestic", "non-domestic"])
def test_a_certificate_without_recommendations_gives_404_on_recommendations(double, dataset, kind):
    key = next(r["lmk-key"] for r in served(dataset, kind) if not dataset.recommendations(kind, r["lmk-key"]))
    assert get(double, f"/{kind}/certificate/{key}").status_code == 200
    assert get(double, f"/{kind}/recommendations/{key}").status_code == 404


@pytest.mark.parametrize("kind", ["domestic", "non-domestic"])
def test_recommendations_have_the_documented_keys_in_order(double, dataset, kind):
    key = next(
        r["lmk-key"] for r in served(dataset, kind) if dataset.recommendation_count(kind, r["lmk-key"]) > 2
    )
    body = get(double, f"/{kind}/recommendations/{key}").json()
    assert body["column-names"] == RECOMMENDATION_KEYS[kind]
    assert len(body["rows"]) == dataset.recommendation_count(kind, key)
    for number, row in enumerate(body["rows"], start=1):
        assert list(row) == RECOMMENDATION_KEYS[kind]
        assert all(isinstance(value, str) for value in row.values())
        assert row["lmk-key"] == key
        assert row["improvement-item" if kind == "domestic" else "recommendation-item"] == str(number)


def test_domestic_recommendation_keys_match_the_official_sample():
    assert SAMPLE_RECOMMENDATIONS["column-names"] == DOMESTIC_RECOMMENDATION_KEYS
    assert all(list(row) == DOMESTIC_RECOMMENDATION_KEYS for row in SAMPLE_RECOMMENDATIONS["rows"])


def test_lmk_keys_are_long_digit_strings_before_october_2020_and_64_hex_after():
    data = Dataset(seed=5, start="2020-08", end="2020-12")
    with OdcV1Double(data) as api:
        rows = search(api, "domestic", {"size": 5000}).json()["rows"]
        old = [r["lmk-key"] for r in rows if r["lodgement-date"] < "2020-10"]
        new = [r["lmk-key"] for r in rows if r["lodgement-date"] >= "2020-10"]
        assert old and new
        assert all(re.fullmatch(r"\d{20,}", key) for key in old)
        assert all(re.fullmatch(r"[0-9a-f]{64}", key) for key in new)
        for key in (old[0], new[0]):
            assert keys(get(api, f"/domestic/certificate/{key}")) == [key]


# --- data realism -------------------------------------------------------------------------------
def test_domestic_search_has_the_92_keys_of_the_official_sample_in_order(double):
    assert len(DOMESTIC_COLUMNS) == 92
    body = search(double).json()
    assert body["column-names"] == DOMESTIC_COLUMNS
    assert all(list(row) == DOMESTIC_COLUMNS for row in body["rows"])
    header, _ = csv_records(search(double, accept=CSV).text)
    assert header == DOMESTIC_COLUMNS


def test_rows_carry_the_sentinels_of_real_data(double):
    rows = search(double, "domestic", {"size": 5000}).json()["rows"]
    values = {name: {row[name] for row in rows} for name in DOMESTIC_COLUMNS}
    everything = set().union(*values.values())
    assert {"NO DATA!", "INVALID!", "N/A", ""} <= everything
    assert "NO DATA!" in values["built-form"] | values["energy-tariff"] | values["construction-age-band"]
    assert "INVALID!" in values["energy-tariff"] | values["construction-age-band"] | values["main-fuel"]
    assert "N/A" in values["floor-energy-eff"] | values["roof-energy-eff"]
    assert any(re.fullmatch(r"\d{4}", band) for band in values["construction-age-band"])  # bare years
    assert any(rating.islower() for rating in values["current-energy-rating"])  # case drift


def test_several_certificates_share_a_uprn_and_some_uprns_are_empty(double):
    rows = search(double, "domestic", {"size": 5000}).json()["rows"]
    counts = Counter(row["uprn"] for row in rows)
    assert counts[""] > 0
    assert sum(1 for uprn, n in counts.items() if uprn and n > 1) >= 10
    assert all(re.fullmatch(r"\d+", uprn) for uprn in counts if uprn)
    assert all(row["uprn-source"] == "" for row in rows if not row["uprn"])


def test_the_dataset_is_deterministic_for_a_seed():
    def rows(seed: int) -> list[dict[str, str]]:
        for cached in (Dataset._rows, Dataset.key_index, Dataset._uprn_pool):
            cached.cache_clear()  # equal datasets share these caches; make each run generate afresh
        with OdcV1Double(Dataset(seed=seed, start="2023-01", end="2023-04")) as api:
            return search(api, "domestic", {"size": 5000}).json()["rows"]

    first, second, other = rows(5), rows(5), rows(6)
    assert first and first == second
    assert [r["lmk-key"] for r in other] != [r["lmk-key"] for r in first]


@pytest.mark.parametrize("kind", ["domestic", "non-domestic"])
def test_dataset_count_matches_what_search_returns_for_each_month(double, dataset, kind):
    for month in dataset.months():
        year, number = month.split("-")
        window = {"from-year": year, "to-year": year, "from-month": number, "to-month": number}
        response = search(double, kind, {"size": 5000} | window)
        found = len(response.json()["rows"]) if response.content else 0
        assert found == dataset.count(kind, month), month
    assert dataset.count(kind, "2023-06") == 0 and dataset.count(kind, "2023-07") > 0


# --- faults -------------------------------------------------------------------------------------
def test_a_429_fault_carries_retry_after_and_then_the_api_answers_normally(double):
    double.add_fault(status=429, retry_after="1")
    limited = search(double)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert search(double).status_code == 200


def test_a_503_fault_is_transient(double):
    double.add_fault(status=503)
    failed = search(double)
    assert failed.status_code == 503
    assert "Retry-After" not in failed.headers
    assert len(search(double).json()["rows"]) == 25


def test_not_json_fault_is_a_200_that_does_not_parse(double):
    double.add_fault(body="not_json")
    broken = search(double)
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        broken.json()
    assert len(search(double).json()["rows"]) == 25


def test_cut_fault_is_half_the_json_with_an_honest_length(double):
    double.add_fault(body="cut")
    cut = search(double)
    whole = search(double)
    assert cut.status_code == 200
    assert int(cut.headers["Content-Length"]) == len(cut.content)
    assert whole.content.startswith(cut.content) and len(cut.content) < len(whole.content)
    with pytest.raises(ValueError):
        cut.json()


def test_truncated_fault_closes_the_connection_before_the_announced_length(double):
    double.add_fault(body="truncated")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        search(double)
    assert len(search(double).json()["rows"]) == 25


def test_missing_key_fault_drops_lmk_key_from_every_row(double):
    double.add_fault(body="missing_key")
    body = search(double).json()
    assert len(body["rows"]) == 25
    assert all("lmk-key" not in row and row["postcode"] for row in body["rows"])
    assert all("lmk-key" in row for row in search(double).json()["rows"])


def test_no_rows_fault_drops_the_rows_member(double):
    double.add_fault(body="no_rows")
    body = search(double).json()
    assert "rows" not in body and body["column-names"] == DOMESTIC_COLUMNS
    assert len(search(double).json()["rows"]) == 25


def test_a_fault_skips_the_first_matches_then_hits_times_and_ignores_other_requests(double, dataset):
    key = served(dataset, "domestic")[0]["lmk-key"]
    double.add_fault(match="/certificate/", status=500, skip=1, times=2)
    certificate = f"/domestic/certificate/{key}"
    statuses = [
        get(double, certificate).status_code,
        search(double).status_code,
        get(double, certificate).status_code,
        search(double).status_code,
        get(double, certificate).status_code,
        get(double, certificate).status_code,
    ]
    assert statuses == [200, 200, 500, 200, 500, 200]


def test_a_fault_with_times_minus_one_hits_every_match(double):
    double.add_fault(match="size=7", status=503, times=-1)
    assert [search(double, "domestic", {"size": 7}).status_code for _ in range(4)] == [503] * 4
    assert search(double, "domestic", {"size": 8}).status_code == 200


def test_the_log_records_path_query_status_and_authorisation(dataset):
    with OdcV1Double(dataset) as api:  # its own server: no stray entries from other tests
        search(api, "domestic", [("size", "3"), ("uprn", "1"), ("uprn", "2")])
        search(api, "non-domestic", {"size": "3"}, auth=None)
        get(api, "/domestic/certificate/nope")
        api.add_fault(status=429)
        search(api, "domestic", {"from-year": "2024"})
        entries = logged(api, 4)
        assert [(e.method, e.path, e.query, e.status, e.authorised) for e in entries] == [
            ("GET", "/api/v1/domestic/search", {"size": ["3"], "uprn": ["1", "2"]}, 200, True),
            ("GET", "/api/v1/non-domestic/search", {"size": ["3"]}, 401, False),
            ("GET", "/api/v1/domestic/certificate/nope", {}, 404, True),
            ("GET", "/api/v1/domestic/search", {"from-year": ["2024"]}, 429, True),
        ]
        assert [e.status for e in api.searches("domestic")] == [200, 429]


# --- standalone ---------------------------------------------------------------------------------
def test_the_module_runs_standalone_and_serves_until_terminated(tmp_path: Path, dataset):
    url_file = tmp_path / "url"
    command = [sys.executable, "-m", "tests.doubles.odc_v1", "--port", "0", "--url-file", str(url_file)]
    process = subprocess.Popen(
        [*command, "--seed", "11"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 20
        while not (url_file.exists() and url_file.read_text().endswith("\n")):
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the double never wrote its URL"
            time.sleep(0.05)
        base_url = url_file.read_text().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/v1", base_url)
        response = requests.get(
            f"{base_url}/domestic/search",
            params={"size": 5},
            headers={"Accept": JSON},
            auth=("analyst@example.org", "double-api-key"),
            timeout=10,
        )
        assert response.status_code == 200
        assert response.json()["rows"] == served(dataset, "domestic")[:5]  # same seed, same rows
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0
