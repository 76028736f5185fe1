"""The extractor against the MHCLG double (the live service) over real HTTP, into a real DuckDB file
and bucket folder.

Expected values come from the double's `Dataset` (what the service holds and serves), never from the
double's server code or from the extractor's. The double's `today` is the real date, as the
extractor clips its windows by the real clock; the data lives in 2025.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from extract.months import Month, register_today
from tests.doubles.mhclg import Dataset, Logged, MhclgDouble, codes
from tests.support import (
    FOREIGN_ENV,
    LOOPBACK_ENV,
    ROOT,
    Result,
    Warehouse,
    ndjson_rows,
    run_subprocess,
    table_rows,
)
from tests.support import double_env as _double_env

TOKEN = "mhclg-test-token-5c9e1a"
WRONG_TOKEN = "not-the-token-0b7f3d"


def double_env(api: MhclgDouble, data_dir: Path, **extra: str) -> dict[str, str]:
    return _double_env(api, data_dir, TOKEN, **extra)


KINDS = ("domestic", "non-domestic", "display")
TABLES = {
    "domestic": "mhclg_domestic_raw_json",
    "non-domestic": "mhclg_non_domestic_raw_json",
    "display": "mhclg_display_raw_json",
}
DELTAS = "mhclg_deltas_raw_json"
CODE_ROWS = len(codes.rows())  # the service's code tables, row by row
REPORTS = {"non-domestic": "mhclg_non_domestic_reports_raw_json", "display": "mhclg_display_reports_raw_json"}
MONTHS = ("2025-01", "2025-02")
ALL_KINDS = ("--kinds", "domestic,non-domestic,display")
WINDOW = ("--start", "2025-01", "--end", "2025-02")
JANUARY = ("--start", "2025-01", "--end", "2025-01")
PAGE_SIZE = 2  # so that busy days take several pages
PER_DAY = {"domestic": 3, "non-domestic": 1, "display": 1}  # ±1 a day: display has empty (404) days


def window(month: str) -> tuple[date, date]:
    parsed = Month.parse(month)
    return parsed.first_day, parsed.last_day


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def bucket(data_dir: Path) -> Path:
    return data_dir / "bucket"


def landed_file(data_dir: Path, kind: str, month: str, table: str | None = None) -> Path:
    table = table or (DELTAS if kind == "deltas" else TABLES[kind])
    return bucket(data_dir) / f"epc/json/{kind}/{month.replace('-', '')}/{table}.jsonl.gz"


def state(data_dir: Path, kind: str, month: str, part: str = "certs") -> Path:
    return bucket(data_dir) / f"state/dame_epc/mhclg/{kind}/{month.replace('-', '')}/{part}.json"


def searched(data_dir: Path, kind: str, month: str, part: str = "certs") -> dict[str, str]:
    """The checkpoint's registration days searched, each with the newest day the run could see."""
    path = state(data_dir, kind, month, part)
    return json.loads(path.read_text())["searched"] if path.exists() else {}


def searches(log: list[Logged], kind: str | None = None) -> list[Logged]:
    return [
        e for e in log if e.path.endswith("/search") and (kind is None or e.path == f"/api/{kind}/search")
    ]


def day_of(entry: Logged) -> date:
    return date.fromisoformat(entry.query["date_start"][0])


def run_main(env: dict[str, str], *args: str) -> Result:
    """`python -m extract ARGS` in this process with exactly `env` (for module-scoped runs, where the
    function-scoped `extract` fixture cannot reach)."""
    from extract.cli import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in [*FOREIGN_ENV, *(n for n in os.environ if n.startswith(("SOURCES__", "DESTINATION__")))]:
            patch.delenv(name, raising=False)
        for name, value in {**LOOPBACK_ENV, **env}.items():
            patch.setenv(name, value)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    return Result(code, out.getvalue(), err.getvalue())


def tables_exist(warehouse: Warehouse) -> set[str]:
    if not warehouse.path.exists():
        return set()
    found = warehouse.query("select table_name from information_schema.tables where table_schema = '{ds}'")
    return {name for (name,) in found}


# --- one clean run of every kind over two months, shared by the tests that only read it ----------------
@dataclass
class Run:
    api: MhclgDouble
    data: Dataset
    env: dict[str, str]
    log: list[Logged]  # the double's log of this run alone

    @property
    def data_dir(self) -> Path:
        return Path(self.env["DATA_DIR"])

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(self.data_dir)

    def api_log(self, path: str) -> list[Logged]:
        return [e for e in self.log if e.path == path]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    data = Dataset(seed=21, start="2025-01-01", end="2025-02-28", per_day=PER_DAY, delta_rate=0.15)
    # the limit is the test's own: module runs add up, and limits are tested on their own double
    with MhclgDouble(data, token=TOKEN, rate_limit=(1_000_000, 300)) as api:
        env = double_env(api, tmp_path_factory.mktemp("clean"), PAGE_SIZE=str(PAGE_SIZE), MAX_CONCURRENCY="4")
        result = run_main(env, *ALL_KINDS, *WINDOW)
        assert result.code == 0, result.err
        yield Run(api, data, env, list(api.log))


# --- a small January for the failure tests (function-scoped: faults and logs are per test) --------------
@pytest.fixture
def data() -> Dataset:
    return Dataset(
        seed=3, start="2025-01-01", end="2025-01-31", per_day={"domestic": 2, "non-domestic": 0, "display": 0}
    )


@pytest.fixture
def api(data: Dataset, request: pytest.FixtureRequest) -> Iterator[MhclgDouble]:
    """The double on `data`; `indirect` parameters are its keyword arguments."""
    with MhclgDouble(data, token=TOKEN, **getattr(request, "param", {})) as double:
        yield double


@pytest.fixture
def env(api: MhclgDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Overrides conftest's v1 `env`: conftest's `extract` and `warehouse` then run against `api`."""
    values = double_env(api, tmp_path / "data")
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def expect_january(warehouse: Warehouse, data: Dataset) -> None:
    first, last = window("2025-01")
    landed = warehouse.query("select certificate_number, payload from {ds}.mhclg_domestic_raw_json")
    expected = {c.certificate_number: c.document for c in data.certificates("domestic", first, last)}
    assert {n: json.loads(p) for n, p in landed} == expected
    assert len(landed) == len(expected)


# === what lands ========================================================================================
def test_every_certificate_of_each_kind_and_month_lands_once_as_the_services_document(clean: Run) -> None:
    for kind in KINDS:
        rows = clean.warehouse.query(
            "select certificate_number, strftime(lodgement_date, '%Y-%m'), payload "
            f"from {{ds}}.{TABLES[kind]}"
        )
        numbers = [number for number, _, _ in rows]
        assert len(numbers) == len(set(numbers)), f"{kind}: a certificate landed twice"
        expected = {
            c.certificate_number: c for m in MONTHS for c in clean.data.certificates(kind, *window(m))
        }
        assert set(numbers) == set(expected), kind
        for number, month, payload in rows:
            assert json.loads(payload) == clean.data.document(number), number
            assert month == expected[number].registration_date.strftime("%Y-%m")
        for month in MONTHS:
            count = clean.data.count(kind, *window(month))
            assert clean.warehouse.count(TABLES[kind], month) == count, (kind, month)
            assert json.loads(state(clean.data_dir, kind, month).read_text())["rows"] == count
    # the data holds what makes this a test: display certificates whose UPRN changed (re-fetched by
    # the change feed, which must not file them as non-domestic) and removed certificates
    events = {e["certificateNumber"]: e["eventType"] for m in MONTHS for e in clean.data.deltas(*window(m))}
    kinds_changed = {clean.data.certificate(n).kind for n, t in events.items() if t == "uprn_updated"}
    assert kinds_changed == set(KINDS)
    assert "removed" in events.values()


def test_landing_columns_have_their_types_and_carry_the_search_summary(clean: Run) -> None:
    def columns(table: str) -> dict[str, tuple[str, str]]:
        found = clean.warehouse.query(
            "select column_name, data_type, is_nullable from information_schema.columns "
            f"where table_schema = '{{ds}}' and table_name = '{table}' order by ordinal_position"
        )
        return {name: (kind, nullable) for name, kind, nullable in found}

    landing = {
        "certificate_number": ("VARCHAR", "NO"),
        "lodgement_date": ("DATE", "YES"),
        "postcode": ("VARCHAR", "YES"),
        "uprn": ("VARCHAR", "YES"),
        "payload": ("JSON", "YES"),
        "extracted_at": ("TIMESTAMP WITH TIME ZONE", "YES"),
    }
    load_id = {"_dlt_load_id": ("VARCHAR", "NO")}
    extra = {"schema_type": ("VARCHAR", "YES"), "related_certificate_number": ("VARCHAR", "YES")}
    for kind in KINDS:
        search_row = {"search_row": ("JSON", "YES")}
        assert columns(TABLES[kind]) == landing | extra | search_row | load_id, kind
        rows = clean.warehouse.query(
            "select certificate_number, lodgement_date, postcode, uprn, schema_type, "
            f"related_certificate_number, extracted_at is not null, search_row from {{ds}}.{TABLES[kind]}"
        )
        for number, lodged, postcode, uprn, schema_type, related, stamped, row in rows:
            # the row search gave, council and constituency included, kept when the change feed
            # fetched the document again
            assert json.loads(row) == clean.data.search_summary(number), number
            cert = clean.data.certificate(number)
            document = clean.data.document(number)
            assert lodged == cert.registration_date, number
            assert postcode == document["postcode"], number
            assert uprn == (None if document.get("uprn") is None else str(document["uprn"])), number
            assert schema_type == cert.schema_type, number
            assert related == (None if kind == "domestic" else cert.related_rrn), number
            assert stamped
        assert any(related for *_, related, _, _ in rows) or kind == "domestic"
    for kind in ("non-domestic", "display"):
        assert columns(REPORTS[kind]) == landing | extra | load_id, kind
    events = {"event_type": ("VARCHAR", "YES"), "event_timestamp": ("VARCHAR", "YES")}
    assert columns(DELTAS) == landing | events | load_id


def test_each_report_lands_once_under_the_certificate_it_belongs_to(clean: Run) -> None:
    """CEPC-RR and DEC-RR reports are fetched through their certificate's
    `related_certificate_number`, and filed under that certificate (some reports do not point back)."""
    for kind in ("non-domestic", "display"):
        parents = {
            c.related_rrn: c
            for m in MONTHS
            for c in clean.data.certificates(kind, *window(m))
            if c.related_rrn
        }
        rows = clean.warehouse.query(
            f"select certificate_number, related_certificate_number, payload from {{ds}}.{REPORTS[kind]}"
        )
        assert parents, kind
        assert sorted(n for n, _, _ in rows) == sorted(parents), kind
        for number, related, payload in rows:
            assert related == parents[number].certificate_number
            assert json.loads(payload) == clean.data.document(number)
            assert json.loads(payload)["assessment_type"].endswith("-RR")


def test_the_change_feed_lands_every_event_of_each_month(clean: Run) -> None:
    rows = clean.warehouse.query(
        "select certificate_number, event_type, event_timestamp, lodgement_date, payload "
        f"from {{ds}}.{DELTAS}"
    )
    expected = [e for m in MONTHS for e in clean.data.deltas(*window(m))]
    assert sorted((n, t, s) for n, t, s, _, _ in rows) == sorted(
        (e["certificateNumber"], e["eventType"], e["timestamp"]) for e in expected
    )
    for number, _, stamp, lodged, payload in rows:
        assert lodged == date.fromisoformat(stamp[:10])
        assert json.loads(payload) in expected, number
    asked = sorted((e.query["date_start"][0], e.query["date_end"][0]) for e in clean.api_log("/api/deltas"))
    assert asked == [tuple(str(d) for d in window(m)) for m in MONTHS]


def test_the_bucket_holds_one_gzip_ndjson_file_per_kind_and_month_like_the_tables(clean: Run) -> None:
    expected_files = set()
    for kind in KINDS:
        for month in MONTHS:
            path = landed_file(clean.data_dir, kind, month)
            certificates = clean.data.certificates(kind, *window(month))
            if not certificates:
                assert not path.exists()
                continue
            expected_files.add(path)
            rows = ndjson_rows(path)
            assert {r["certificate_number"]: r["payload"] for r in rows} == {
                c.certificate_number: c.document for c in certificates
            }, (kind, month)
            assert len(rows) == len(certificates)
            for row in rows:
                registered = clean.data.certificate(row["certificate_number"]).registration_date
                assert row["lodgement_date"] == str(registered)
                assert row["search_row"] == clean.data.search_summary(row["certificate_number"])
            assert set(rows[0]) == {
                "certificate_number", "lodgement_date", "postcode", "uprn", "payload", "extracted_at",
                "schema_type", "related_certificate_number", "search_row",
            }  # fmt: skip
            files = [path]
            if kind in REPORTS:  # the reports of the month's certificates sit beside them
                reports = landed_file(clean.data_dir, kind, month, REPORTS[kind])
                numbers = {c.related_rrn for c in certificates if c.related_rrn}
                assert {r["certificate_number"] for r in ndjson_rows(reports)} == numbers, (kind, month)
                files.append(reports)
            done = json.loads(state(clean.data_dir, kind, month).read_text())
            assert done["files"] == [f.as_uri() for f in files]
            expected_files.update(files)
    refetched_somewhere = set()
    for month in MONTHS:
        path = landed_file(clean.data_dir, "deltas", month)
        feed = clean.data.deltas(*window(month))
        assert [r["payload"] for r in ndjson_rows(path)] == feed
        month_files = [path]
        changed = {e["certificateNumber"] for e in feed if e["eventType"] != "removed"}
        for kind in KINDS:  # the documents fetched again after a change sit beside the feed
            current = {n: clean.data.document(n) for n in changed if clean.data.certificate(n).kind == kind}
            current = {n: d for n, d in current.items() if d is not None}
            refetched = landed_file(clean.data_dir, "deltas", month, TABLES[kind])
            assert refetched.exists() == bool(current), (kind, month)
            if current:
                assert {r["certificate_number"]: r["payload"] for r in ndjson_rows(refetched)} == current
                month_files.append(refetched)
                refetched_somewhere.add(kind)
        done = json.loads(state(clean.data_dir, "deltas", month, "deltas").read_text())
        assert sorted(done["files"]) == sorted(p.as_uri() for p in month_files)
        expected_files.update(month_files)
    assert refetched_somewhere == set(KINDS)  # the window has a UPRN change of every kind
    codes_file = bucket(clean.data_dir) / "epc/json/codes/mhclg_codes_raw_json.jsonl.gz"
    assert len(ndjson_rows(codes_file)) == CODE_ROWS
    expected_files.add(codes_file)
    landed = {p for p in (bucket(clean.data_dir) / "epc/json").rglob("*") if p.is_file()}
    assert landed == expected_files  # and no partial file left behind


# === how it asks ========================================================================================
def test_search_asks_one_day_at_a_time_and_pages_through_the_pagination(clean: Run) -> None:
    asked = searches(clean.log)
    assert all(e.query["date_start"] == e.query["date_end"] for e in asked)
    assert all(e.query["page_size"] == [str(PAGE_SIZE)] for e in asked)
    pages = Counter((e.path, day_of(e), int(e.query["current_page"][0])) for e in asked)
    assert max(pages.values()) == 1, "a page was asked for twice"
    several_pages = empty_days = 0
    for kind in KINDS:
        for month in MONTHS:
            for day in days(*window(month)):
                on_day = [e for e in searches(clean.log, kind) if day_of(e) == day]
                count = clean.data.count(kind, day, day)
                total_pages = max(1, math.ceil(count / PAGE_SIZE))
                assert sorted(int(e.query["current_page"][0]) for e in on_day) == list(
                    range(1, total_pages + 1)
                )
                assert {e.status for e in on_day} == ({404} if count == 0 else {200}), (kind, day)
                several_pages += total_pages > 1
                empty_days += count == 0
    assert several_pages and empty_days  # both paging and 404 days were met, and were not errors
    assert len(asked) == len(pages)


def test_each_certificate_is_fetched_once_and_again_only_for_a_change_in_the_feed(clean: Run) -> None:
    fetched = Counter(e.query["certificate_number"][0] for e in clean.log if e.path == "/api/certificate")
    expected = Counter(
        c.certificate_number
        for kind in KINDS
        for m in MONTHS
        for c in clean.data.certificates(kind, *window(m))
    )
    expected.update(
        e["certificateNumber"]
        for m in MONTHS
        for e in clean.data.deltas(*window(m))
        if e["eventType"] != "removed"
    )
    expected.update(  # and the recommendation report of each certificate that has one
        c.related_rrn for kind in REPORTS for m in MONTHS for c in clean.data.certificates(kind, *window(m))
        if c.related_rrn
    )  # fmt: skip
    assert fetched == expected
    assert {e.status for e in clean.log} <= {200, 404}


def test_a_rerun_of_a_finished_window_sends_no_request_and_changes_nothing(clean: Run) -> None:
    tables = [*TABLES.values(), DELTAS]
    sql = "select certificate_number, _dlt_load_id, payload::varchar from {ds}.%s order by all"
    before = {t: clean.warehouse.query(sql % t) for t in tables}
    files = {p: p.stat().st_mtime_ns for p in bucket(clean.data_dir).rglob("*") if p.is_file()}
    clean.api.clear()
    result = run_main(clean.env, *ALL_KINDS, *WINDOW)
    assert result.code == 0, result.err
    assert clean.api.log == []
    assert "9 units already done" in result.out  # 8 of the window, and the code tables
    assert {t: clean.warehouse.query(sql % t) for t in tables} == before
    assert {p: p.stat().st_mtime_ns for p in bucket(clean.data_dir).rglob("*") if p.is_file()} == files


def test_dry_run_prints_the_plan_and_sends_no_request(clean: Run) -> None:
    clean.api.clear()
    env = {k: v for k, v in clean.env.items() if k != "EPC_API_TOKEN"}  # no credential needed either
    result = run_main(env, *ALL_KINDS, "--start", "2025-01", "--end", "2025-03", "--dry-run")
    assert result.code == 0, result.err
    assert clean.api.log == []
    lines = result.err.splitlines()
    count = clean.data.count("display", *window("2025-02"))
    assert any(f"display 2025-02 certs: done ({count} rows)" in line for line in lines)
    assert any("domestic 2025-03 certs: pending" in line for line in lines)
    assert any("deltas 2025-03 deltas: pending" in line for line in lines)


def test_kinds_display_alone_searches_display_only(clean: Run, tmp_path: Path) -> None:
    clean.api.clear()
    env = {**clean.env, "DATA_DIR": str(tmp_path / "display")}
    result = run_main(env, "--kinds", "display", "--start", "2025-02", "--end", "2025-02")
    assert result.code == 0, result.err
    assert {e.path for e in searches(clean.api.log)} == {"/api/display/search"}
    warehouse = Warehouse(tmp_path / "display")
    feb = window("2025-02")
    landed = dict(warehouse.query("select certificate_number, payload from {ds}.mhclg_display_raw_json"))
    changed = {e["certificateNumber"] for e in clean.data.deltas(*feb) if e["eventType"] != "removed"}
    expected = {c.certificate_number for c in clean.data.certificates("display", *feb)}
    expected |= {n for n in changed if clean.data.certificate(n).kind == "display"}
    assert set(landed) == expected
    assert all(json.loads(p) == clean.data.document(n) for n, p in landed.items())
    # the month's change feed is not per kind: certificates of other kinds it changed are kept current
    for kind in ("domestic", "non-domestic"):
        numbers = set()
        if TABLES[kind] in tables_exist(warehouse):
            numbers = {n for (n,) in warehouse.query(f"select certificate_number from {{ds}}.{TABLES[kind]}")}
        assert numbers == {n for n in changed if clean.data.certificate(n).kind == kind}
    assert not state(tmp_path / "display", "domestic", "2025-02").exists()


# === windows ===========================================================================================
def test_windows_stop_at_yesterday_and_months_after_today_send_nothing(clean: Run, tmp_path: Path) -> None:
    """The runner's `today` (the real date in the CLI) set to 2025-02-10: February up to the 9th,
    March not at all."""
    from extract.kinds import KINDS as KIND_OBJECTS
    from extract.months import month_range
    from extract.runner import Runner
    from extract.settings import load_settings
    from extract.sources.registry import SOURCES

    clean.api.clear()
    env = {**LOOPBACK_ENV, **clean.env, "DATA_DIR": str(tmp_path / "clipped")}
    settings = load_settings(environ=env, sources=SOURCES)
    months = month_range(Month(2025, 2), Month(2025, 3))
    results = Runner(settings, [KIND_OBJECTS["display"]], months, today=date(2025, 2, 10)).run()
    asked = searches(clean.api.log)
    assert sorted({day_of(e) for e in asked}) == days(date(2025, 2, 1), date(2025, 2, 9))
    assert all(date.fromisoformat(e.query["date_end"][0]) <= date(2025, 2, 9) for e in asked)
    feed = sorted(
        (e.query["date_start"][0], e.query["date_end"][0]) for e in clean.api.requests_to("/api/deltas")
    )
    assert feed == [("2025-02-01", "2025-02-09")]
    assert not any("2025-03" in str(e.query) for e in clean.api.log)
    rows = {r.unit.month: r.rows for r in results if r.unit.part == "certs"}
    assert rows == {
        Month(2025, 2): clean.data.count("display", date(2025, 2, 1), date(2025, 2, 9)),
        Month(2025, 3): 0,
    }
    # the days the service answered for are recorded, each as seen up to the 9th; March is untouched
    through = {str(d): "2025-02-09" for d in days(date(2025, 2, 1), date(2025, 2, 9))}
    assert searched(tmp_path / "clipped", "display", "2025-02") == through
    assert searched(tmp_path / "clipped", "deltas", "2025-02", "deltas") == through
    assert not state(tmp_path / "clipped", "display", "2025-03").exists()


def test_a_month_after_this_one_is_refused_before_any_request(extract, api: MhclgDouble) -> None:
    later = Month.current().next()
    result = extract("--kinds", "domestic", "--start", str(later), "--end", str(later))
    assert result.code == 2
    assert result.err.startswith("error: ") and result.err.count("\n") == 1 and "in the future" in result.err
    assert api.log == []


def test_this_month_is_searched_up_to_yesterday_and_left_open(
    extract, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    today = register_today()
    current, yesterday = Month.current(today), today - timedelta(1)
    data = Dataset(seed=5, start=current.first_day - timedelta(3), end=today + timedelta(2),
                   per_day={"domestic": 0, "non-domestic": 0, "display": 2}, delta_rate=0.3)  # fmt: skip
    with MhclgDouble(data, token=TOKEN) as live:
        monkeypatch.setenv("EPC_API_BASE_URL", live.base_url)
        result = extract("--kinds", "display", "--start", str(current), "--end", str(current))
    assert result.code == 0, result.err
    if today.day == 1:  # nothing of this month can be asked for yet
        assert live.log == []
        return
    assert [day_of(e) for e in searches(live.log)] == days(current.first_day, yesterday)
    feed = [(e.query["date_start"][0], e.query["date_end"][0]) for e in live.requests_to("/api/deltas")]
    assert feed == [(str(current.first_day), str(yesterday))]
    assert {e.status for e in live.log} <= {200, 404}  # never the 400 for a date that includes today
    warehouse = Warehouse(Path(env["DATA_DIR"]))
    expected = data.count("display", current.first_day, yesterday, as_of=live.today)
    assert warehouse.count(TABLES["display"], str(current)) == expected
    # every day up to yesterday is recorded, and none is settled yet: the next run searches them again
    assert searched(Path(env["DATA_DIR"]), "display", str(current)) == {
        str(d): str(yesterday) for d in days(current.first_day, yesterday)
    }


# === the change feed over time ==========================================================================
def test_changes_fed_after_a_month_was_loaded_reach_the_kind_tables_and_removals_stay(
    extract, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    """January loaded while nothing had changed yet; February's feed then updates UPRNs of January's
    certificates (re-fetched into their kind's table) and removes others (kept: raw history)."""
    made = {"seed": 4, "start": "2025-01-01", "end": "2025-02-28", "per_day": PER_DAY}
    before, after = Dataset(**made, delta_rate=0.0), Dataset(**made, delta_rate=0.3)
    with MhclgDouble(before, token=TOKEN) as old:
        monkeypatch.setenv("EPC_API_BASE_URL", old.base_url)
        assert extract(*ALL_KINDS, *JANUARY).code == 0
    with MhclgDouble(after, token=TOKEN) as new:  # the feed is not per kind: display alone will do
        monkeypatch.setenv("EPC_API_BASE_URL", new.base_url)
        result = extract("--kinds", "display", "--start", "2025-02", "--end", "2025-02")
        assert result.code == 0, result.err
    warehouse = Warehouse(Path(env["DATA_DIR"]))
    feed = after.deltas(*window("2025-02"))
    landed = warehouse.query(f"select certificate_number, event_type, event_timestamp from {{ds}}.{DELTAS}")
    assert sorted(landed) == sorted((e["certificateNumber"], e["eventType"], e["timestamp"]) for e in feed)
    january = [(e, after.certificate(e["certificateNumber"])) for e in feed]
    january = [(e, c) for e, c in january if c.registration_date < date(2025, 2, 1)]
    assert {(c.kind, e["eventType"]) for e, c in january} == {
        (k, t) for k in KINDS for t in ("removed", "uprn_updated")
    }
    for event, cert in january:
        number = cert.certificate_number
        (row,) = warehouse.query(
            "select uprn, payload, schema_type, related_certificate_number, lodgement_date "
            f"from {{ds}}.{TABLES[cert.kind]} where certificate_number = '{number}'"
        )
        if event["eventType"] == "removed":  # still there, as first loaded
            assert json.loads(row[1]) == before.document(number)
        else:
            new_uprn = after.document(number)["uprn"]
            assert new_uprn != before.document(number).get("uprn")
            assert row[0] == str(new_uprn) and json.loads(row[1]) == after.document(number)
            assert row[2:] == (cert.schema_type, cert.related_rrn, cert.registration_date)
    for kind in KINDS:  # each certificate once, in its own kind's table only
        numbers = [n for (n,) in warehouse.query(f"select certificate_number from {{ds}}.{TABLES[kind]}")]
        assert len(numbers) == len(set(numbers))
        assert {after.certificate(n).kind for n in numbers} == {kind}


# === interruption ======================================================================================
def _wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.005)


def _unstamped(path: Path) -> list[str]:
    """A landed file's rows without the extraction time, sorted."""
    return sorted(json.dumps({**r, "extracted_at": None}, sort_keys=True) for r in ndjson_rows(path))


def test_a_killed_run_resumed_ends_with_exactly_the_rows_of_an_uninterrupted_run(
    clean: Run, tmp_path: Path
) -> None:
    """kill -9 once half as many requests as the clean run sent have been answered (some units done,
    one under way), then run again. Pages of 5000 here, of 2 in the clean run: that changes nothing."""
    env = {**{k: v for k, v in clean.env.items() if k != "PAGE_SIZE"}, "DATA_DIR": str(tmp_path / "killed")}
    clean.api.clear()
    process = subprocess.Popen(
        [sys.executable, "-m", "extract", *ALL_KINDS, *WINDOW], cwd=ROOT,
        env={**os.environ, **LOOPBACK_ENV, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _wait_for(lambda: len(clean.api.log) >= 0.5 * len(clean.log) or process.poll() is not None)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it was killed"
    resumed = run_subprocess([*ALL_KINDS, *WINDOW], env)
    assert resumed.returncode == 0, resumed.stderr
    assert "already done" in resumed.stdout and " 0 units already done" not in resumed.stdout
    killed = Warehouse(tmp_path / "killed")
    for table in [*TABLES.values(), DELTAS]:
        assert table_rows(killed, table) == table_rows(clean.warehouse, table), table
    files = [(kind, None) for kind in [*KINDS, "deltas"]] + [("deltas", TABLES[kind]) for kind in KINDS]
    for kind, table in files:  # the feed's month also holds the documents it fetched again
        for month in MONTHS:
            ours, theirs = (
                landed_file(tmp_path / "killed", kind, month, table),
                landed_file(clean.data_dir, kind, month, table),
            )
            assert ours.exists() == theirs.exists()
            if ours.exists():
                assert _unstamped(ours) == _unstamped(theirs), (kind, month)


# === refusals, faults and limits =======================================================================
@pytest.mark.parametrize("api", [{"auth_failure_status": 401}, {"auth_failure_status": 403}], indirect=True)
def test_a_refused_token_stops_at_once_in_one_line_that_never_shows_it(
    extract, api: MhclgDouble, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    monkeypatch.setenv("EPC_API_TOKEN", WRONG_TOKEN)
    result = extract("--kinds", "domestic", *JANUARY, "--log-format", "json")
    assert result.code == 3
    (line,) = result.err.splitlines()  # with --log-format json, the error as one JSON object
    status, error = api.auth_failure_status, json.loads(line)
    assert error["level"] == "error" and error["exit_code"] == 3
    assert f"HTTP {status}" in error["message"] and "EPC_API_TOKEN" in error["message"]
    assert WRONG_TOKEN not in result.out + result.err and TOKEN not in result.out + result.err
    assert [e.status for e in api.log] == [status]  # a refusal is not retried
    assert not (bucket(Path(env["DATA_DIR"])) / "state").exists()


def test_a_token_refused_mid_run_on_a_certificate_stops_with_exit_3(extract, api: MhclgDouble, env) -> None:
    api.add_fault(match="/api/certificate", status=403, skip=3, times=-1)
    result = extract("--kinds", "domestic", *JANUARY)
    assert result.code == 3
    assert [line for line in result.err.splitlines() if line.startswith("error: ")] == [
        "error: the EPC API refused the token (HTTP 403): check EPC_API_TOKEN"
    ]
    assert TOKEN not in result.out + result.err
    assert not state(Path(env["DATA_DIR"]), "domestic", "2025-01").exists()


def test_429_is_retried_after_the_seconds_retry_after_asks_for(
    extract, api: MhclgDouble, data, warehouse
) -> None:
    api.add_fault(match="date_start=2025-01-05", status=429, retry_after="1", times=1)
    api.add_fault(match="/api/certificate", status=429, retry_after="1", skip=5, times=1)
    result = extract("--kinds", "domestic", *JANUARY)
    assert result.code == 0, result.err
    day = [e for e in searches(api.log) if day_of(e) == date(2025, 1, 5)]
    assert [e.status for e in day] == [429, 200]
    assert day[1].at - day[0].at >= 0.9
    (refused,) = [e for e in api.requests_to("/api/certificate") if e.status == 429]
    again = [e for e in api.requests_to("/api/certificate") if e.query == refused.query and e.status == 200]
    assert len(again) == 1 and again[0].at - refused.at >= 0.9
    expect_january(warehouse, data)


def test_passing_5xx_answers_are_retried_and_the_run_completes(
    extract, api: MhclgDouble, data, warehouse
) -> None:
    api.add_fault(match="date_start=2025-01-07", status=503, times=2)
    api.add_fault(match="/api/certificate", status=500, skip=4, times=2)
    api.add_fault(match="/api/deltas", status=502, times=1)
    result = extract("--kinds", "domestic", *JANUARY)
    assert result.code == 0, result.err
    assert Counter(e.status for e in api.log if e.status >= 500) == {503: 2, 500: 2, 502: 1}
    expect_january(warehouse, data)
    feed = warehouse.query(f"select certificate_number, event_type from {{ds}}.{DELTAS}")
    assert sorted(feed) == sorted(
        (e["certificateNumber"], e["eventType"]) for e in data.deltas(*window("2025-01"))
    )


@pytest.mark.parametrize(
    ("match", "where"), [("/api/certificate", "certificate "), ("/api/deltas", "deltas ")]
)
def test_an_api_down_for_good_is_exit_5_and_the_unit_is_not_marked_done(
    extract, api: MhclgDouble, env: dict[str, str], warehouse: Warehouse, match: str, where: str
) -> None:
    api.add_fault(match=match, status=503, times=-1)
    result = extract("--kinds", "domestic", *JANUARY)
    assert result.code == 5
    (error,) = [line for line in result.err.splitlines() if line.startswith("error: ")]
    assert where in error and "HTTP 503 3 times" in error
    data_dir = Path(env["DATA_DIR"])
    assert not state(data_dir, "deltas", "2025-01", "deltas").exists()
    if match == "/api/certificate":  # the first unit failed: nothing is done, nothing loaded
        # no checkpoint; what the unit was about to fetch is pending, for the next run
        marks = sorted(p.name for p in (bucket(data_dir) / "state").rglob("*.json"))
        assert marks == ["certs.pending.json"]
        assert TABLES["domestic"] not in tables_exist(warehouse)
    else:  # the certificates before it are done; the feed is asked for again next run
        assert state(data_dir, "domestic", "2025-01").exists()
        assert DELTAS not in tables_exist(warehouse)


@pytest.mark.parametrize(
    ("match", "body", "where"),
    [
        ("date_start=2025-01-10", "not_json", "domestic search 2025-01-10 page 1: the response is not JSON"),
        ("/api/certificate", "cut", ": the response is not JSON"),
        ("/api/deltas", "not_json", "deltas 2025-01-01..2025-01-31: the response is not JSON"),
    ],
)
def test_a_malformed_answer_is_exit_4_and_a_rerun_completes(
    extract, api: MhclgDouble, data: Dataset, env, warehouse, match: str, body: str, where: str
) -> None:
    api.add_fault(match=match, body=body, skip=3 if "certificate" in match else 0, times=-1)
    result = extract("--kinds", "domestic", *JANUARY)
    assert result.code == 4
    (error,) = [line for line in result.err.splitlines() if line.startswith("error: ")]
    assert where in error
    assert not state(Path(env["DATA_DIR"]), "deltas", "2025-01", "deltas").exists()
    if match != "/api/deltas":
        assert not state(Path(env["DATA_DIR"]), "domestic", "2025-01").exists()
        assert TABLES["domestic"] not in tables_exist(warehouse)
    api.clear()
    assert extract("--kinds", "domestic", *JANUARY).code == 0
    expect_january(warehouse, data)


@pytest.mark.parametrize("api", [{"rate_limit": (30, 2)}], indirect=True)
def test_the_client_side_limit_keeps_under_the_services_limit(
    extract, api: MhclgDouble, data: Dataset, monkeypatch: pytest.MonkeyPatch, warehouse
) -> None:
    monkeypatch.setenv("RATE_LIMIT", "30/2")
    result = extract("--kinds", "domestic", *JANUARY)
    assert result.code == 0, result.err
    assert [e for e in api.log if e.status == 429] == []
    stamps = sorted(e.at for e in api.log)
    assert len(stamps) > 2 * 30  # the limit was met more than once
    busiest = max(sum(1 for s in stamps[i:] if s - start < 2) for i, start in enumerate(stamps))
    assert busiest == 30  # all of the allowance is used, never more
    expect_january(warehouse, data)


# === input errors ======================================================================================
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ("--kinds", "flats"),
            "unknown kind 'flats' for source mhclg: choose from domestic, non-domestic, display",
        ),
        (("--kinds", "display", "--source", "odc"), "unknown kind 'display' for source odc"),
    ],
)
def test_an_unknown_kind_is_one_line_and_exit_2(extract, api: MhclgDouble, args, needle) -> None:
    result = extract(*args, *JANUARY)
    assert result.code == 2
    assert result.err.startswith("error: ") and result.err.count("\n") == 1 and needle in result.err
    assert api.log == []


def test_a_month_without_certificates_is_done_with_no_rows_and_no_file(
    extract, api: MhclgDouble, env
) -> None:
    result = extract("--kinds", "display", *JANUARY)
    assert result.code == 0, result.err
    assert [e.status for e in searches(api.log)] == [404] * 31  # an empty day is no error
    assert all(e.query["page_size"] == ["5000"] for e in searches(api.log))  # the largest page by default
    done = json.loads(state(Path(env["DATA_DIR"]), "display", "2025-01").read_text())
    assert done["rows"] == 0 and done["files"] == []
    assert not landed_file(Path(env["DATA_DIR"]), "display", "2025-01").exists()
    api.clear()
    assert extract("--kinds", "display", *JANUARY).code == 0
    assert api.log == []


# === the code tables ===================================================================================
def code_requests(log: list[Logged]) -> list[Logged]:
    return [e for e in log if e.path in ("/api/codes", "/api/codes/info")]


def test_the_code_tables_land_whole_and_are_refreshed_only_when_older_than_their_age(
    extract, api: MhclgDouble, env, warehouse: Warehouse
) -> None:
    """One request for the names and one per table: a few dozen requests a week at most."""
    assert extract("--kinds", "domestic", *JANUARY).code == 0
    names = codes.names()
    asked = code_requests(api.log)
    assert [e.path for e in asked] == ["/api/codes"] + ["/api/codes/info"] * len(names)
    assert sorted(e.query["code"][0] for e in asked[1:]) == names and len(asked) <= 20
    landed = warehouse.query(
        "select code, key, schema_version, assessment_type, value from {ds}.mhclg_codes_raw_json"
    )
    assert sorted(landed) == sorted(tuple(r.values()) for r in codes.rows())
    data_dir = Path(env["DATA_DIR"])
    assert (
        json.loads((bucket(data_dir) / "state/dame_epc/mhclg/codes/codes.json").read_text())["rows"]
        == CODE_ROWS
    )
    assert len(ndjson_rows(bucket(data_dir) / "epc/json/codes/mhclg_codes_raw_json.jsonl.gz")) == CODE_ROWS

    api.clear()  # fresh: a run the same week asks for none
    assert extract("--kinds", "domestic", *JANUARY).code == 0
    assert code_requests(api.log) == []

    api.clear()  # CODES_MAX_AGE_DAYS=0: every run refreshes, replacing the tables whole
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CODES_MAX_AGE_DAYS", "0")
        assert extract("--kinds", "domestic", *JANUARY).code == 0
    assert len(code_requests(api.log)) == len(names) + 1
    assert warehouse.count("mhclg_codes_raw_json") == CODE_ROWS


def test_code_tables_older_than_their_age_are_fetched_again(extract, api: MhclgDouble, env) -> None:
    from extract.runner import Runner
    from extract.settings import load_settings
    from extract.sources.registry import SOURCES

    assert extract("--kinds", "domestic", *JANUARY).code == 0
    settings = load_settings(sources=SOURCES)
    for days, asked in ((6, 0), (7, len(codes.names()) + 1)):
        api.clear()
        later = date.today() + timedelta(days=days)
        Runner(settings, [], [], today=later).run()  # only the code tables: no kind, no month
        assert len(code_requests(api.log)) == asked, days


def test_a_bulk_load_lands_the_code_tables_too(extract, api: MhclgDouble, env, warehouse: Warehouse) -> None:
    """A warehouse filled from the full loads decodes like one filled through the API."""
    assert extract("--source", "mhclg", "--bulk", "domestic").code == 0
    assert warehouse.count("mhclg_codes_raw_json") == CODE_ROWS
