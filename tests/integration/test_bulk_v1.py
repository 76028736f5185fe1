"""`--bulk` with the v1 bulk files: over real HTTP from the v1 double's `/files`, into a real
DuckDB file, the same raw tables and payloads as the API path."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.doubles.odc_v1 import Dataset, OdcV1Double, bulk
from tests.support import LOOPBACK_ENV, ROOT, V1_LANDING_COLUMNS

ALL = "all-domestic-certificates.zip"
KINDS = {"domestic": "domestic", "non-domestic": "non_domestic"}


def every_row(data: Dataset, kind: str) -> dict[str, dict]:
    return {r["lmk-key"]: r for m in data.months() for r in data.rows(kind, m)}


def downloads(double: OdcV1Double, name: str = ALL) -> list:
    return [r for r in double.log if r.path == f"/api/v1/files/{name}"]


def one_error(err: str) -> bool:
    """The run ended with exactly one `error:` line (progress lines aside), and no traceback."""
    return [line.startswith("error: ") for line in err.splitlines()].count(
        True
    ) == 1 and "Traceback" not in err


def state(env: dict[str, str], name: str = ALL) -> dict:
    return json.loads((Path(env["DATA_DIR"]) / f"bucket/state/dame_epc/bulk/odc/{name}.json").read_text())


def test_bulk_file_lands_every_certificate_with_the_payload_the_api_serves(extract, double, warehouse):
    result = extract("--source", "odc", "--bulk", f"{ALL},all-non-domestic-certificates.zip")
    assert result.code == 0, result.err
    for kind, slug in KINDS.items():
        source = every_row(double.data, kind)
        landed = {p["lmk-key"]: p for p in warehouse.payloads(f"{slug}_raw_json")}
        assert landed == source  # API names, every value the API's string, "" where empty
        recs = [x for key in source for x in double.data.recommendations(kind, key)]
        landed_recs = warehouse.payloads(f"{slug}_recommendations_raw_json")
        assert sorted(map(json.dumps, landed_recs)) == sorted(map(json.dumps, recs))
    assert f"{len(every_row(double.data, 'domestic'))}" in result.out


def test_lifted_columns_and_types_match_the_api_path(extract, warehouse):
    assert extract("--source", "odc", "--bulk", ALL).code == 0
    columns = warehouse.columns("domestic_raw_json")
    assert columns[:5] == V1_LANDING_COLUMNS
    assert {"extracted_at", "_dlt_load_id"} <= {c[0] for c in columns}
    mismatched = warehouse.query(
        "select count(*) from {ds}.domestic_raw_json where lmk_key <> (payload->>'$.\"lmk-key\"') "
        "or coalesce(uprn, '') <> (payload->>'$.uprn') or coalesce(postcode, '') <> (payload->>'$.postcode') "
        "or strftime(lodgement_date, '%Y-%m-%d') <> (payload->>'$.\"lodgement-date\"')"
    )
    assert mismatched == [(0,)]
    orphans = warehouse.query(
        "select count(*) from {ds}.domestic_recommendations_raw_json r join {ds}.domestic_raw_json c "
        "using (lmk_key) where r.lodgement_date is distinct from c.lodgement_date"
    )
    assert orphans == [(0,)]


def test_bulk_and_api_loads_of_a_certificate_merge_into_one_row(extract, double, warehouse):
    window = ("--kinds", "domestic", "--start", "2023-04", "--end", "2023-08")
    assert extract("--source", "odc", *window).code == 0
    api_loaded = warehouse.count("domestic_raw_json")
    assert extract("--source", "odc", "--bulk", ALL).code == 0
    total = len(every_row(double.data, "domestic"))
    assert warehouse.query("select count(*), count(distinct lmk_key) from {ds}.domestic_raw_json") == [
        (total, total)
    ]
    assert extract("--source", "odc", *window, "--reset", "certs").code == 0  # the API again, after bulk
    assert warehouse.query("select count(*), count(distinct lmk_key) from {ds}.domestic_raw_json") == [
        (total, total)
    ]
    assert 0 < api_loaded < total


def test_api_load_after_a_bulk_load_merges_into_the_bulk_rows(extract, double, warehouse):
    assert extract("--source", "odc", "--bulk", ALL).code == 0
    result = extract("--source", "odc", "--kinds", "domestic", "--start", "2023-04", "--end", "2023-05")
    assert result.code == 0, result.err
    total = len(every_row(double.data, "domestic"))
    assert warehouse.query("select count(*), count(distinct lmk_key) from {ds}.domestic_raw_json") == [
        (total, total)
    ]


def test_rerun_of_a_finished_file_downloads_nothing(extract, double, warehouse):
    assert extract("--source", "odc", "--bulk", ALL).code == 0
    before = warehouse.query("select lmk_key, _dlt_load_id from {ds}.domestic_raw_json order by 1")
    double.clear()
    result = extract("--source", "odc", "--bulk", ALL)
    assert result.code == 0, result.err
    assert downloads(double) == []
    assert "skipped" in result.out
    assert warehouse.query("select lmk_key, _dlt_load_id from {ds}.domestic_raw_json order by 1") == before


def test_dry_run_tells_each_files_state_without_downloading(extract, double):
    assert extract("--source", "odc", "--bulk", ALL).code == 0
    double.clear()
    result = extract("--source", "odc", "--bulk", f"{ALL},domestic-2023.zip", "--dry-run")
    assert result.code == 0, result.err
    assert downloads(double) == [] and downloads(double, "domestic-2023.zip") == []
    assert f"plan bulk {ALL}: done (" in result.err
    assert "plan bulk domestic-2023.zip: pending (" in result.err


def test_a_cut_download_is_continued_with_range_not_restarted(extract, double, warehouse):
    double.add_fault(match=f"/files/{ALL}", body="truncated")
    result = extract("--source", "odc", "--bulk", ALL)
    assert result.code == 0, result.err
    first, second = downloads(double)
    size = double.bulk_listing()["files"][ALL]["size"]
    assert first.range is None and second.range.startswith("bytes=")
    assert 0 < int(second.range[6:-1]) <= size // 2  # what arrived before the cut is kept
    assert warehouse.count("domestic_raw_json") == len(every_row(double.data, "domestic"))


def test_killed_download_resumes_where_the_partial_file_ends(env, double, warehouse, extract):
    double.file_chunk_delay = 0.4
    data_dir = Path(env["DATA_DIR"])
    process = subprocess.Popen(
        [sys.executable, "-m", "extract", "--source", "odc", "--bulk", ALL],
        cwd=ROOT, env={**os.environ, **LOOPBACK_ENV, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    parts: list[Path] = []
    while time.monotonic() < deadline and not any(p.stat().st_size for p in parts):
        parts = list((data_dir / "bulk").rglob("*.part")) if (data_dir / "bulk").exists() else []
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    kept = parts[0].stat().st_size
    assert 0 < kept < double.bulk_listing()["files"][ALL]["size"]
    double.file_chunk_delay = 0.0
    double.clear()
    assert extract("--source", "odc", "--bulk", ALL).code == 0
    (resumed,) = downloads(double)
    assert resumed.range == f"bytes={kept}-"
    total = len(every_row(double.data, "domestic"))
    assert warehouse.query("select count(*), count(distinct lmk_key) from {ds}.domestic_raw_json") == [
        (total, total)
    ]


def test_damaged_member_lands_nothing_of_itself_and_a_rerun_completes(extract, double, warehouse, env):
    double.add_fault(match=f"/files/{ALL}", body="corrupt")
    result = extract("--source", "odc", "--bulk", ALL)
    assert result.code == 4
    assert one_error(result.err) and "damaged" in result.err
    done = state(env)["members"]
    landed = warehouse.query("select count(*) from {ds}.domestic_raw_json")[0][0]
    assert landed == sum(n for m, n in done.items() if m.endswith("certificates.csv"))
    double.clear()
    assert extract("--source", "odc", "--bulk", ALL).code == 0
    assert downloads(double), "the damaged copy was dropped and fetched again"
    total = len(every_row(double.data, "domestic"))
    assert warehouse.query("select count(*), count(distinct lmk_key) from {ds}.domestic_raw_json") == [
        (total, total)
    ]


def test_interrupted_load_continues_with_the_members_not_yet_done(extract, double, warehouse, env):
    assert extract("--source", "odc", "--bulk", ALL).code == 0
    mark = state(env)
    first_two = dict(list(mark["members"].items())[:2])
    mark |= {"finished": False, "members": first_two}  # as if killed after the second member
    path = Path(env["DATA_DIR"]) / f"bucket/state/dame_epc/bulk/odc/{ALL}.json"
    path.write_text(json.dumps(mark))
    double.clear()
    assert extract("--source", "odc", "--bulk", ALL).code == 0
    total = len(every_row(double.data, "domestic"))
    assert warehouse.query("select count(*), count(distinct lmk_key) from {ds}.domestic_raw_json") == [
        (total, total)
    ]
    recs = sum(len(double.data.recommendations("domestic", k)) for k in every_row(double.data, "domestic"))
    assert warehouse.count("domestic_recommendations_raw_json") == recs
    assert len(state(env)["members"]) == len(mark["members"]) + 8  # 5 authorities × 2 CSVs


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("--bulk", "domestic-1999.zip"), 2, "unknown bulk file"),
        (("--bulk", "readme.txt"), 2, "not a v1 bulk file name"),
    ],
)
def test_bad_names_fail_with_one_line(extract, args, code, words):
    result = extract("--source", "odc", *args)
    assert result.code == code
    assert one_error(result.err) and words in result.err


def test_refused_credentials_fail_with_one_line(extract, monkeypatch):
    monkeypatch.setenv("EPC_API_KEY", "wrong")
    result = extract("--source", "odc", "--bulk", ALL)
    assert result.code == 3 and "refused the credentials" in result.err


def test_size_other_than_announced_fails_and_lands_nothing(extract, double, warehouse, env):
    listing = double.bulk_listing()
    listing["files"][ALL]["size"] += 10
    double.bulk_listing = lambda: listing
    result = extract("--source", "odc", "--bulk", ALL)
    assert result.code == 4 and "announced" in result.err
    assert not (Path(env["DATA_DIR"]) / "epc.duckdb").exists()


def test_truncated_zip_fails_with_one_line(extract, env, monkeypatch, tmp_path):
    good = Dataset(seed=5, start="2023-01", end="2023-03")
    whole = OdcV1Double(good).bulk_file("domestic-2023.zip")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole[: len(whole) - 200])  # the central directory is gone
    with OdcV1Double(good, files={"domestic-2023.zip": cut}) as api:
        monkeypatch.setenv("EPC_API_BASE_URL", api.base_url)
        result = extract("--source", "odc", "--bulk", "domestic-2023.zip")
    assert result.code == 4 and "not a readable zip" in result.err
    assert one_error(result.err)


def test_double_zip_has_the_bulk_layout_and_headers(double):
    content = double.bulk_file(ALL)
    names = zipfile.ZipFile(io.BytesIO(content)).namelist()
    assert "domestic-E07000223-Adur/certificates.csv" in names
    assert "domestic-E07000223-Adur/recommendations.csv" in names
    header = zipfile.ZipFile(io.BytesIO(content)).read(names[0]).split(b"\n")[0].decode()
    assert header.startswith("LMK_KEY,ADDRESS1,ADDRESS2,ADDRESS3,POSTCODE,BUILDING_REFERENCE_NUMBER")
    assert "CO2_EMISS_CURR_PER_FLOOR_AREA" in header
    year = zipfile.ZipFile(io.BytesIO(double.bulk_file("domestic-2023.zip"))).namelist()
    assert year == ["certificates.csv", "recommendations.csv"]


def with_malformed_lines(data: Dataset, name: str) -> tuple[bytes, str, set[str]]:
    """The bulk file `name` with two malformed lines in its first certificates member (one short
    of a column, one a column too many): its bytes, that member, and the keys of those lines."""
    parts = bulk.members(data, name)
    member = next(p for p in parts if p.endswith("certificates.csv"))
    lines = parts[member].decode().splitlines(keepends=True)
    broken = {1: lines[1].rsplit(",", 1)[0] + "\n", 2: lines[2].rstrip("\n") + ",extra\n"}
    keys = {next(csv.reader([lines[n]]))[0] for n in broken}
    parts[member] = "".join(broken.get(n, line) for n, line in enumerate(lines)).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in parts.items():
            archive.writestr(path, content)
    return buffer.getvalue(), member, keys


@pytest.mark.parametrize("allowed", [None, "5"])
def test_malformed_lines_are_counted_and_fail_the_member_above_bulk_max_rejected(
    extract, double, warehouse, env, monkeypatch, allowed
):
    content, member, broken = with_malformed_lines(double.data, ALL)
    double.files[ALL] = content
    if allowed:
        monkeypatch.setenv("BULK_MAX_REJECTED", allowed)
    result = extract("--source", "odc", "--bulk", ALL)
    total = len(every_row(double.data, "domestic"))
    landed = {k for (k,) in warehouse.query("select lmk_key from {ds}.domestic_raw_json")}
    if allowed is None:  # the default, 0: the run stops at the member, nothing of it landed
        assert result.code == 4 and one_error(result.err), result.err
        assert f"{member}: 2 malformed lines (the first, line 2" in result.err
        assert "BULK_MAX_REJECTED=0" in result.err
        path = Path(env["DATA_DIR"]) / f"bucket/state/dame_epc/bulk/odc/{ALL}.json"
        assert not path.exists() or member not in state(env)["members"]
        in_member = {
            next(csv.reader([line]))[0]
            for line in bulk.members(double.data, ALL)[member].decode().splitlines()[1:]
        }
        assert not landed & in_member
        del double.files[ALL]  # the file mended: all of it lands
        assert extract("--source", "odc", "--bulk", ALL).code == 0
        assert warehouse.query("select count(*), count(distinct lmk_key) from {ds}.domestic_raw_json") == [
            (total, total)
        ]
        return
    assert result.code == 0, result.err
    assert f"warning: bulk {ALL}: {member}: 2 malformed lines skipped" in result.err
    assert state(env)["rejected"] == {member: 2}
    assert landed == set(every_row(double.data, "domestic")) - broken
    row = next(line for line in result.out.splitlines() if line.startswith(ALL))
    assert row.split()[3] == "2"  # the rejected column


def test_each_member_reports_the_files_progress_in_bytes_and_the_time_left(extract):
    result = extract("--source", "odc", "--bulk", ALL, "--log-format", "json")
    assert result.code == 0, result.err
    members = [e for e in map(json.loads, result.err.splitlines()) if "members_done" in e]
    count = members[0]["members"]
    assert count > 2 and [e["members_done"] for e in members] == list(range(1, count + 1))
    assert all(f"member {e['members_done']}/{count}, " in e["message"] for e in members)
    assert all(" bytes" in e["message"] for e in members)
    assert any(e["eta"] and f"ETA {e['eta']}" in e["message"] for e in members[:-1])
    assert members[-1]["eta"] is None
