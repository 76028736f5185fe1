"""Servers that misbehave on purpose, against both sources: each run stops with one line and its
exit code, or recovers; afterwards nothing is lost, nothing duplicated, and nothing is
checkpointed that was not landed."""

from __future__ import annotations

import base64
import gzip
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from tests.doubles.mhclg import Dataset as LiveDataset
from tests.doubles.mhclg import MhclgDouble
from tests.doubles.odc_v1 import Dataset as V1Dataset
from tests.doubles.odc_v1 import OdcV1Double
from tests.support import Warehouse, double_env, run_subprocess

TOKEN = "hostile-test-token-7d2a"


@dataclass
class Served:
    """A double, the extractor's environment against it, and what a clean run of `args` lands."""

    api: OdcV1Double | MhclgDouble
    env: dict[str, str]
    args: list[str]
    expected: dict[str, int]  # rows per raw table
    search: str  # a path fragment of the search requests
    document: str  # of the requests for one certificate's document (live) or recommendations (v1)

    @property
    def data_dir(self) -> Path:
        return Path(self.env["DATA_DIR"])

    def landed(self) -> dict[str, tuple[int, int]]:
        """Rows and distinct payloads per raw table of `expected` (tables not created: none)."""
        warehouse = Warehouse(self.data_dir)
        if not warehouse.path.exists():
            return {}
        tables = warehouse.query("select table_name from information_schema.tables where table_schema='{ds}'")
        sql = "select count(*), count(distinct payload::varchar) from {{ds}}.{table}"
        mine = [table for (table,) in tables if table in self.expected]
        return {table: warehouse.query(sql.format(table=table))[0] for table in mine}

    def complete(self) -> bool:
        """Every row of a clean run landed, once."""
        return self.landed() == {table: (rows, rows) for table, rows in self.expected.items()}

    def checkpoints(self) -> list[Path]:
        return sorted((self.data_dir / "bucket/state").rglob("*.json"))


@contextmanager
def serve_v1(tmp_path: Path) -> Iterator[Served]:
    data = V1Dataset(seed=11, start="2023-04", end="2023-05")
    with OdcV1Double(data) as api:
        env = {"EPC_EMAIL": api.email, "EPC_API_KEY": api.api_key, "EPC_API_BASE_URL": api.base_url,
               "DATA_DIR": str(tmp_path / "data"), "RETRY_BACKOFF": "0.01", "RETRY_MAX": "1",
               "SOURCE": "odc"}  # fmt: skip
        certs = [r for m in ("2023-04", "2023-05") for r in data.rows("domestic", m)]
        recs = sum(len(data.recommendations("domestic", r["lmk-key"])) for r in certs)
        expected = {"domestic_raw_json": len(certs), "domestic_recommendations_raw_json": recs}
        args = ["--kinds", "domestic", "--start", "2023-04", "--end", "2023-05", "--with-recs"]
        yield Served(api, env, args, expected, "/domestic/search", "/domestic/recommendations")


@contextmanager
def serve_live(tmp_path: Path) -> Iterator[Served]:
    live = LiveDataset(seed=3, start="2025-01-01", end="2025-01-31",
                       per_day={"domestic": 2, "non-domestic": 0, "display": 0})  # fmt: skip
    with MhclgDouble(live, token=TOKEN) as api:
        env = double_env(api, tmp_path / "data", TOKEN, RETRY_MAX="1")
        expected = {"mhclg_domestic_raw_json": len(live.certificates("domestic", live.start, live.end))}
        args = ["--kinds", "domestic", "--start", "2025-01", "--end", "2025-01"]
        yield Served(api, env, args, expected, "/api/domestic/search", "/api/certificate")


@pytest.fixture(params=["v1", "live"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    with (serve_v1 if request.param == "v1" else serve_live)(tmp_path) as double:
        yield double


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Served]:
    with serve_live(tmp_path) as double:
        yield double


def error_line(stderr: str) -> str:
    """The run's error: one line, the last on stderr (progress lines may come before it)."""
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors == lines[-1:], stderr
    return errors[0]


# --- 2. time without bound ----------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["search", "document"])
def test_an_answer_dripped_a_few_bytes_at_a_time_is_cut_at_the_request_deadline(served: Served, where):
    """Every read gets bytes well within the socket timeout; only the whole-request deadline
    (REQUEST_TIMEOUT_SECONDS) stops it: the run ends in seconds, where the drip would take minutes."""
    served.api.add_fault(match=getattr(served, where), body="drip", times=-1)
    started = time.monotonic()
    run = run_subprocess(served.args, {**served.env, "REQUEST_TIMEOUT_SECONDS": "1"}, timeout=300)
    elapsed = time.monotonic() - started
    assert run.returncode == 5, run.stderr
    assert "no whole answer within 1 s" in error_line(run.stderr)
    assert elapsed < 60, f"the run took {elapsed:.0f} s"
    served.api.clear()  # the server mended: the next run lands everything, once
    again = run_subprocess(served.args, served.env)
    assert again.returncode == 0, again.stderr
    assert served.complete(), served.landed()


# --- 6. secrets in echoed bodies ------------------------------------------------------------------------
def secrets_of(served: Served) -> list[str]:
    """The exact credential values of the run, and the HTTP Basic credential they make."""
    if "EPC_API_TOKEN" in served.env:
        return [served.env["EPC_API_TOKEN"]]
    email, key = served.env["EPC_EMAIL"], served.env["EPC_API_KEY"]
    return [key, base64.b64encode(f"{email}:{key}".encode()).decode()]


@pytest.mark.parametrize(("status", "log_format"), [(400, "text"), (422, "json"), (500, "json")])
def test_a_server_echoing_the_request_headers_never_gets_a_credential_into_any_output(
    served: Served, status, log_format
):
    served.api.add_fault(match=served.search, status=status, body="echo", times=-1)
    run = run_subprocess([*served.args, "--log-format", log_format], served.env)
    assert run.returncode == (5 if status >= 500 else 4), run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert (json.loads(last)["message"] if log_format == "json" else last).startswith(
        ("error: " if log_format == "text" else "") + served.args[1]
    )
    outputs = {"stdout": run.stdout.encode(), "stderr": run.stderr.encode()}
    for path in served.data_dir.rglob("*"):  # the bucket, the warehouse, dlt's traces and state
        if path.is_file():
            data = path.read_bytes()
            outputs[str(path)] = gzip.decompress(data) if path.suffix == ".gz" else data
    for secret in secrets_of(served):
        leaked = [where for where, data in outputs.items() if secret.encode() in data]
        assert leaked == [], f"a credential is in {leaked}"
    if status == 400:  # the echoed body is quoted, masked, in the error
        assert "Authorization: ***" in run.stderr


# --- 4. pagination that lies ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("served", "lie"),
    [("v1", "stuck_cursor"), ("v1", "repeat"), ("v1", "endless"), ("live", "total_lie"), ("live", "repeat")],
    indirect=["served"],
)
def test_a_pagination_that_does_not_move_stops_with_exit_4_and_no_checkpoint(served: Served, lie: str):
    served.api.add_fault(match=served.search, body=lie, times=-1)
    run = run_subprocess(served.args, {**served.env, "PAGE_SIZE": "5"}, timeout=300)
    assert run.returncode == 4, run.stderr
    assert "the pagination does not" in error_line(run.stderr)
    assert len(served.api.log) < 100, "it kept paging"
    assert served.checkpoints() == []
    served.api.clear()
    again = run_subprocess(served.args, served.env)
    assert again.returncode == 0, again.stderr
    assert served.complete(), served.landed()


# --- 3. duplicates across units -------------------------------------------------------------------------
def test_a_certificate_listed_in_two_units_lands_once(served: Served):
    """The first search page of the window's second unit (v1: month; live: day) also lists a
    certificate of another: whatever unit it arrives in, it is merged on its key."""
    second = "from-month=5" if "EPC_API_KEY" in served.env else "date_start=2025-01-02"
    served.api.add_fault(match=second, body="duplicate", times=-1)
    run = run_subprocess(served.args, served.env)
    assert run.returncode == 0, run.stderr
    assert served.complete(), served.landed()
    again = run_subprocess(served.args, served.env)  # and a re-run changes nothing
    assert again.returncode == 0 and served.complete(), served.landed()


# --- 1. work marked done that was not done ----------------------------------------------------------------
def ledger(served: Served) -> dict:
    """The January ledger of the live domestic certificates."""
    path = served.data_dir / "bucket/state/dame_epc/mhclg/domestic/202501/certs.json"
    return json.loads(path.read_text())


@pytest.mark.parametrize("then", ["served-later", "unlisted-later"])
def test_a_certificate_listed_but_not_served_stays_pending_until_it_lands_or_is_gone(live: Served, then):
    data = live.api.data
    day = data.start + timedelta(days=9)
    absent = data.certificates("domestic", day, day)[0].certificate_number
    live.api.add_fault(match=f"certificate_number={absent}", status=404, times=-1)
    first = run_subprocess(live.args, live.env)
    assert first.returncode == 0, first.stderr
    assert "pending: 1 certificates listed by search, not served yet" in first.stdout
    assert ledger(live)["missing"] == {absent: day.isoformat()}
    assert live.landed()["mhclg_domestic_raw_json"][0] == live.expected["mhclg_domestic_raw_json"] - 1

    live.api.clear()
    live.api.add_fault(match=f"certificate_number={absent}", status=404, times=-1)
    still = run_subprocess(live.args, live.env)  # still not served: its day alone is searched again
    assert still.returncode == 0 and "pending: 1" in still.stdout, still.stderr
    searched = {e.query["date_start"][0] for e in live.api.log if e.path == live.search}
    assert searched >= {day.isoformat()} and ledger(live)["missing"] == {absent: day.isoformat()}

    live.api.clear()
    if then == "unlisted-later":  # search no longer lists it: gone, not pending
        live.api.add_fault(match=f"date_start={day.isoformat()}", body="unlist_first", times=-1)
    last = run_subprocess(live.args, live.env)
    assert last.returncode == 0, last.stderr
    assert "pending" not in last.stdout and ledger(live)["missing"] == {}
    if then == "served-later":
        assert live.complete(), live.landed()
    else:
        assert live.landed()["mhclg_domestic_raw_json"] == (live.expected["mhclg_domestic_raw_json"] - 1,) * 2
    again = run_subprocess(live.args, live.env)  # settled: nothing is searched for it any more
    assert again.returncode == 0 and "pending" not in again.stdout


# --- progress of a long run (issue 15) ---------------------------------------------------------------------
def test_a_long_unit_reports_done_out_of_total_and_the_time_left(live: Served):
    """Documents answered slowly, one at a time: while fetching, each progress line says how many
    of the certificates search found are done, the rate and an ETA; the last says all are done."""
    live.api.add_fault(match=live.document, delay=0.15, times=-1)
    run = run_subprocess([*live.args, "--log-format", "json"], {**live.env, "MAX_CONCURRENCY": "1"})
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stderr.splitlines()]
    unit = [e for e in lines if e.get("unit") == "domestic 2025-01 certs"]
    total = live.expected["mhclg_domestic_raw_json"]
    fetching = [e for e in unit if e["state"] == "fetching"]
    assert fetching and all(e["total"] == total and 0 < e["rows"] < total for e in fetching)
    assert all(f"{e['rows']}/{total} rows" in e["message"] and e["eta"] for e in fetching)
    assert all(f"ETA {e['eta']}" in e["message"] for e in fetching)
    assert unit[-1]["state"].startswith("done") and f"{total}/{total} rows" in unit[-1]["message"]
