"""`--bulk` with the live service's monthly JSON full loads: `/api/files/{kind}/json` answers 302
to a pre-signed URL that expires; over real HTTP from the MHCLG double, into a real DuckDB file."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from extract.bulk.download import Downloader
from tests.doubles.mhclg import Dataset, MhclgDouble
from tests.integration.test_dbt_models import dbt
from tests.support import LOOPBACK_ENV, Warehouse

TOKEN = "bulk-token"
TODAY = date(2025, 3, 10)  # files made on 2025-03-01: January and February are in them
KINDS = {"domestic": "domestic", "non-domestic": "non_domestic", "display": "display"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def live(clock: Clock) -> Iterator[MhclgDouble]:
    data = Dataset(
        seed=5, start="2025-01-01", end="2025-03-09", per_day={"domestic": 3, "non-domestic": 1, "display": 1}
    )
    with MhclgDouble(data, token=TOKEN, today=TODAY, clock=clock) as api:
        yield api


@pytest.fixture
def live_env(live: MhclgDouble, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.delenv("EPC_EMAIL")
    monkeypatch.delenv("EPC_API_KEY")
    monkeypatch.setenv("EPC_API_TOKEN", TOKEN)
    monkeypatch.setenv("EPC_API_BASE_URL", live.base_url)
    return env


def in_file(live: MhclgDouble, kind: str) -> list:
    """The certificates the full load holds: registered before the 1st of TODAY's month."""
    return [c for c in live.data.certificates(kind) if c.registration_date < date(2025, 3, 1)]


def test_full_load_lands_each_document_as_the_certificate_endpoint_serves_it(
    extract, live, live_env, warehouse
):
    result = extract("--source", "mhclg", "--bulk", "domestic,non-domestic-json,display")
    assert result.code == 0, result.err
    for kind, slug in KINDS.items():
        certs = in_file(live, kind)
        assert certs
        landed = {
            n: json.loads(p)
            for n, p in warehouse.query(
                f"select certificate_number, payload from {{ds}}.mhclg_{slug}_raw_json"
            )
        }
        assert landed == {c.certificate_number: live.data.document(c.certificate_number) for c in certs}
        lifted = warehouse.query(
            "select certificate_number, strftime(lodgement_date, '%Y-%m-%d'), postcode, uprn, schema_type, "
            f"related_certificate_number from {{ds}}.mhclg_{slug}_raw_json"
        )
        expected = []
        for cert in certs:
            summary = live.data.search_summary(cert)
            uprn = summary["uprn"]
            uprn = None if uprn in (None, "") else str(uprn)
            expected.append(
                (cert.certificate_number, summary["registrationDate"], summary["postcode"], uprn,
                 summary["schemaType"], summary.get("relatedRrn"))
            )  # fmt: skip
        assert sorted(lifted) == sorted(expected)


def test_expired_link_is_renewed_and_the_download_continues(
    extract, live, live_env, warehouse, clock, monkeypatch
):
    live.add_fault(match="/_s3/", body="truncated")
    real = Downloader._request

    def slow_client(self, remote, link, part, have):  # 60 s pass before the first resume
        if have and clock.now == 1_750_000_000.0:
            clock.now += 60
        return real(self, remote, link, part, have)

    monkeypatch.setattr(Downloader, "_request", slow_client)
    assert extract("--source", "mhclg", "--bulk", "domestic").code == 0
    asked = live.requests_to("/api/files/domestic/json")
    downloads = [r for r in live.log if r.path.startswith("/_s3/")]
    assert len(asked) >= 2  # a fresh pre-signed URL after the first one expired
    assert [r.status for r in downloads][:2] == [200, 403]
    assert downloads[-1].status == 206
    assert warehouse.count("mhclg_domestic_raw_json") == len(in_file(live, "domestic"))


def test_size_is_checked_against_info(extract, live, live_env, warehouse, monkeypatch):
    made = live.export("domestic-json")
    served = iter([made])  # `…/info` sees the file as made; the download a longer one
    monkeypatch.setattr(
        live, "export", lambda name: next(served, replace(made, content=made.content + b"\0" * 10))
    )
    result = extract("--source", "mhclg", "--bulk", "domestic")
    assert result.code == 4 and "announced" in result.err
    assert not warehouse.path.exists()  # nothing landed


def test_rerun_of_this_months_file_downloads_nothing(extract, live, live_env):
    assert extract("--source", "mhclg", "--bulk", "domestic").code == 0
    live.clear()
    result = extract("--source", "mhclg", "--bulk", "domestic")
    assert result.code == 0 and "skipped" in result.out
    assert [r.path for r in live.log] == ["/api/files/domestic/json/info"]


def test_bulk_then_api_merge_into_one_row_per_certificate(extract, live, live_env, warehouse):
    assert extract("--source", "mhclg", "--bulk", "domestic").code == 0
    result = extract("--source", "mhclg", "--kinds", "domestic", "--start", "2025-02", "--end", "2025-02")
    assert result.code == 0, result.err
    rows, keys = warehouse.query(
        "select count(*), count(distinct certificate_number) from {ds}.mhclg_domestic_raw_json"
    )[0]
    assert rows == keys  # February came by both ways: one row each
    numbers = {n for (n,) in warehouse.query("select certificate_number from {ds}.mhclg_domestic_raw_json")}
    assert {c.certificate_number for c in in_file(live, "domestic")} <= numbers


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [("domestic-csv", 2, "use domestic-json"), ("garden", 2, "unknown live bulk file")],
)
def test_files_the_raw_tables_cannot_take_are_refused_with_one_line(extract, live_env, name, code, words):
    result = extract("--source", "mhclg", "--bulk", name)
    assert result.code == code and words in result.err


def test_refused_token_fails_with_one_line(extract, live_env, monkeypatch):
    monkeypatch.setenv("EPC_API_TOKEN", "wrong")
    result = extract("--source", "mhclg", "--bulk", "domestic")
    assert result.code == 3 and "EPC_API_TOKEN" in result.err
    assert not (Path(live_env["DATA_DIR"]) / "epc.duckdb").exists()


def test_a_certificate_gives_the_same_mart_rows_through_the_api_and_through_the_full_load(
    extract, live, live_env, tmp_path, monkeypatch
):
    """Every certificate in both warehouses (the API's window, the full loads' month) has the same
    row in every certificate and recommendation mart, decoded alike (the bulk run lands the code
    tables too). Only the search row's place names differ: a full load carries no search row."""
    through = {"api": tmp_path / "api", "bulk": tmp_path / "bulk"}
    monkeypatch.setenv("DATA_DIR", str(through["api"]))
    window = ("--start", "2025-01", "--end", "2025-02")
    assert extract("--source", "mhclg", "--kinds", "domestic,non-domestic,display", *window).code == 0
    monkeypatch.setenv("DATA_DIR", str(through["bulk"]))
    files = "domestic,non-domestic,display,non-domestic-recommendations,display-recommendations"
    result = extract("--source", "mhclg", "--bulk", files)
    assert result.code == 0, result.err
    for data_dir in through.values():
        dbt(["build", "--quiet"], {**os.environ, **LOOPBACK_ENV, "DATA_DIR": str(data_dir),
                                   "DBT_TARGET_PATH": str(data_dir / "target")})  # fmt: skip
    search_only = {"local_authority_label", "constituency_label", "extracted_at", "load_id"}
    compared = 0
    for mart, key in [
        *((f"enr_{k}_certificates_v", "certificate_id") for k in KINDS.values()),
        ("enr_domestic_recommendations_v", "certificate_id, improvement_item"),
        ("enr_non_domestic_recommendations_v", "certificate_id, recommendation_item"),
        ("enr_display_recommendations_v", "certificate_id, recommendation_item"),
    ]:
        warehouses = {way: Warehouse(d) for way, d in through.items()}
        columns = [c for c, *_ in warehouses["api"].columns(mart) if c not in search_only]
        sql = f"select {', '.join(columns)} from {{ds}}.{mart} order by {key}"
        at = [columns.index(k) for k in key.split(", ")]
        rows = {way: {tuple(r[i] for i in at): r for r in w.query(sql)} for way, w in warehouses.items()}
        both = rows["api"].keys() & rows["bulk"].keys()
        assert len(both) > len(rows["api"]) / 2, mart
        assert [rows["api"][k] for k in sorted(both)] == [rows["bulk"][k] for k in sorted(both)], mart
        compared += len(both)
    assert compared > 100
    labels = Warehouse(through["bulk"]).query(
        "select count(local_authority_label) from {ds}.enr_domestic_certificates_v"
    )
    assert labels == [(0,)]  # the documented limit of full loads


def test_a_truncated_json_line_is_counted_and_fails_the_member_above_bulk_max_rejected(
    extract, live, live_env, warehouse, monkeypatch
):
    made = live.export("domestic-json")
    with zipfile.ZipFile(io.BytesIO(made.content)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    member = next(name for name in parts if name.startswith("certificates-"))
    lines = parts[member].splitlines(keepends=True)
    cut = json.loads(lines[1])["certificate_number"]
    lines[1] = lines[1][: len(lines[1]) // 2] + b"\n"  # a document cut short
    parts[member] = b"".join(lines)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    live._files[(made.name, live.last_updated())] = replace(made, content=buffer.getvalue(), etag='"cut"')
    failed = extract("--source", "mhclg", "--bulk", "domestic-json")
    assert failed.code == 4, failed.err
    assert f"{member}: 1 malformed lines (the first, line 2: not a JSON object)" in failed.err
    assert not warehouse.path.exists() or warehouse.count("mhclg_domestic_raw_json") == 0
    monkeypatch.setenv("BULK_MAX_REJECTED", "1")
    allowed = extract("--source", "mhclg", "--bulk", "domestic-json")
    assert allowed.code == 0, allowed.err
    assert "1 malformed lines skipped" in allowed.err
    landed = {n for (n,) in warehouse.query("select certificate_number from {ds}.mhclg_domestic_raw_json")}
    assert landed == {c.certificate_number for c in in_file(live, "domestic")} - {cut}
