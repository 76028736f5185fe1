"""The extractor against the v1 double over real HTTP, into a real DuckDB file and bucket folder."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

from extract.months import Month
from tests.doubles.odc_v1 import Dataset, OdcV1Double
from tests.doubles.odc_v1.samples import SampleRows
from tests.support import V1_LANDING_COLUMNS, ndjson_rows

WINDOW = ("--start", "2023-04", "--end", "2023-08")
MONTHS = ["2023-04", "2023-05", "2023-06", "2023-07", "2023-08"]


def bucket(env: dict[str, str]) -> Path:
    return Path(env["DATA_DIR"]) / "bucket"


def test_first_run_lands_every_row_of_every_kind_and_month(extract, double, warehouse, env):
    result = extract("--kinds", "domestic,non-domestic", *WINDOW)
    assert result.code == 0, result.err
    for kind, table in (("domestic", "domestic_raw_json"), ("non-domestic", "non_domestic_raw_json")):
        for month in MONTHS:
            expected = double.data.count(kind, month)
            assert warehouse.count(table, month) == expected, (kind, month)
            landed = bucket(env) / f"epc/json/{kind}/{month.replace('-', '')}/{table}.jsonl.gz"
            assert (len(ndjson_rows(landed)) if landed.exists() else 0) == expected
    assert double.data.count("domestic", "2023-06") == 0  # the empty month is part of the window
    assert f"{double.data.count('domestic', '2023-05'):>9}" in result.out  # summary per month


def test_payload_is_the_source_record_with_every_key_as_returned(extract, double, warehouse):
    assert extract("--kinds", "domestic", *WINDOW).code == 0
    source = {r["lmk-key"]: r for m in MONTHS for r in double.data.rows("domestic", m)}
    landed = {p["lmk-key"]: p for p in warehouse.payloads("domestic_raw_json")}
    assert landed == source
    assert all(len(p) == 92 and all(isinstance(v, str) for v in p.values()) for p in landed.values())


def test_landing_columns_have_the_original_schema(extract, warehouse):
    assert extract("--kinds", "domestic", *WINDOW).code == 0
    columns = warehouse.columns("domestic_raw_json")
    assert columns[:5] == V1_LANDING_COLUMNS
    assert {"extracted_at", "_dlt_load_id"} <= {c[0] for c in columns}
    lifted = warehouse.query(
        "select count(*) from {ds}.domestic_raw_json where lmk_key <> (payload->>'$.\"lmk-key\"') "
        "or coalesce(uprn, '') <> (payload->>'$.uprn') "
        "or strftime(lodgement_date, '%Y-%m-%d') <> (payload->>'$.\"lodgement-date\"')"
    )
    assert lifted == [(0,)]


def test_rerun_of_a_finished_window_sends_no_requests(extract, double, warehouse):
    assert extract("--kinds", "domestic", *WINDOW, "--with-recs").code == 0
    before = warehouse.query("select lmk_key, _dlt_load_id from {ds}.domestic_raw_json order by 1")
    double.clear()
    result = extract("--kinds", "domestic", *WINDOW, "--with-recs")
    assert result.code == 0, result.err
    assert double.log == []
    assert "already done" in result.out
    assert warehouse.query("select lmk_key, _dlt_load_id from {ds}.domestic_raw_json order by 1") == before


def test_each_page_is_fetched_once_and_the_empty_body_ends_the_month(extract, double, monkeypatch):
    monkeypatch.setenv("PAGE_SIZE", "7")
    assert extract("--kinds", "domestic", *WINDOW).code == 0
    for month in MONTHS:
        year, mon = month.split("-")
        searches = [r for r in double.searches() if r.query["from-month"] == [str(int(mon))]]
        cursors = [r.query.get("search-after", [None])[0] for r in searches]
        assert len(cursors) == len(set(cursors)), month  # no page asked for twice
        # every page with rows, then the one empty 200 that ends the month
        assert len(searches) == math.ceil(double.data.count("domestic", month) / 7) + 1
        assert all(r.query["size"] == ["7"] and r.query["from-year"] == [year] for r in searches)
        assert all(r.status == 200 for r in searches)


def test_empty_month_is_recorded_and_not_asked_for_again(extract, double, env):
    assert extract("--kinds", "domestic", "--start", "2023-06", "--end", "2023-06").code == 0
    state = bucket(env) / "state/dame_epc/odc/domestic/202306/certs.json"
    assert json.loads(state.read_text())["rows"] == 0
    double.clear()
    assert extract("--kinds", "domestic", "--start", "2023-06", "--end", "2023-06").code == 0
    assert double.log == []


def test_current_month_is_fetched_again_on_every_run(extract, warehouse, env, monkeypatch):
    today = date.today()
    current = str(Month.current())
    data = Dataset(seed=3, start="2024-01", end=current, rows_per_month={"domestic": 9})
    with OdcV1Double(data, today=today) as api:
        monkeypatch.setenv("EPC_API_BASE_URL", api.base_url)
        for _ in range(2):
            api.clear()
            assert extract("--kinds", "domestic", "--start", current, "--end", current).code == 0
            assert len(api.searches()) == 2  # one page with rows, one empty end
        assert warehouse.count("domestic_raw_json", current) == data.count("domestic", current)
    assert not (bucket(env) / f"state/dame_epc/odc/domestic/{current.replace('-', '')}").exists()


def test_recommendations_land_one_row_each_for_the_months_certificates(extract, double, warehouse):
    result = extract("--kinds", "domestic,non-domestic", *WINDOW, "--with-recs")
    assert result.code == 0, result.err
    for kind, slug in (("domestic", "domestic"), ("non-domestic", "non_domestic")):
        certs = [r["lmk-key"] for m in MONTHS for r in double.data.rows(kind, m)]
        expected = [rec for key in certs for rec in double.data.recommendations(kind, key)]
        landed = warehouse.payloads(f"{slug}_recommendations_raw_json")
        assert sorted(map(json.dumps, landed)) == sorted(map(json.dumps, expected))
        assert any(not double.data.recommendations(kind, k) for k in certs)  # some 404s were met
        orphans = warehouse.query(
            f"select count(*) from {{ds}}.{slug}_recommendations_raw_json r "
            f"left join {{ds}}.{slug}_raw_json c using (lmk_key) where c.lmk_key is null"
        )
        assert orphans == [(0,)]
    rec_calls = [r for r in double.log if "/recommendations/" in r.path]
    assert len(rec_calls) == sum(
        double.data.count(k, m) for k in ("domestic", "non-domestic") for m in MONTHS
    )
    assert {r.status for r in rec_calls} == {200, 404}


def test_recommendations_alone_use_certificates_loaded_by_an_earlier_run(extract, double, warehouse):
    assert extract("--kinds", "domestic", *WINDOW).code == 0
    double.clear()
    assert extract("--kinds", "domestic", *WINDOW, "--with-recs").code == 0
    assert double.searches() == []  # certificates were done: only recommendations are asked for
    certs = [r["lmk-key"] for m in MONTHS for r in double.data.rows("domestic", m)]
    expected = sum(len(double.data.recommendations("domestic", k)) for k in certs)
    assert warehouse.count("domestic_recommendations_raw_json") == expected


def test_dry_run_prints_the_plan_and_sends_no_request(extract, double, monkeypatch):
    assert extract("--kinds", "domestic", "--start", "2023-04", "--end", "2023-05").code == 0
    double.clear()
    monkeypatch.delenv("EPC_API_KEY")
    result = extract("--source", "odc", "--kinds", "domestic,non-domestic", *WINDOW, "--dry-run")
    assert result.code == 0, result.err
    assert double.log == []
    lines = result.err.splitlines()
    count = double.data.count("domestic", "2023-04")
    assert any("domestic 2023-04 certs" in line and f"done ({count} rows)" in line for line in lines)
    assert any("domestic 2023-07 certs: pending" in line for line in lines)
    assert any("non-domestic 2023-04 certs: pending" in line for line in lines)


def test_reset_clears_the_window_so_it_is_fetched_again(extract, double, warehouse):
    assert extract("--kinds", "domestic", *WINDOW).code == 0
    double.clear()
    assert (
        extract("--kinds", "domestic", "--start", "2023-05", "--end", "2023-05", "--reset", "certs").code == 0
    )
    assert {r.query["from-month"][0] for r in double.searches()} == {"5"}
    assert warehouse.count("domestic_raw_json") == sum(double.data.count("domestic", m) for m in MONTHS)


def test_official_sample_bodies_land_unchanged(extract, warehouse, monkeypatch, env):
    samples = SampleRows()
    with OdcV1Double(samples) as api:
        monkeypatch.setenv("EPC_API_BASE_URL", api.base_url)
        monkeypatch.setenv("START_YEAR", "2010")
        result = extract("--kinds", "domestic", "--start", "2010-07", "--end", "2016-09", "--with-recs")
        assert result.code == 0, result.err
    published = {r["lmk-key"]: r for m in samples.months() for r in samples.rows("domestic", m)}
    landed = {p["lmk-key"]: p for p in warehouse.payloads("domestic_raw_json")}
    assert landed == published  # a key repeated across pages merges into one row
    assert warehouse.count("domestic_recommendations_raw_json") == 7
