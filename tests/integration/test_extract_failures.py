"""Bad input, refusals, faults and malformed pages: one clear line, a non-zero exit, nothing lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import LOOPBACK_ENV, ROOT, Warehouse, run_subprocess

WINDOW = ("--kinds", "domestic", "--start", "2023-04", "--end", "2023-08")
MONTHS = ["2023-04", "2023-05", "2023-06", "2023-07", "2023-08"]


def state(env: dict[str, str], month: str, part: str = "certs") -> Path:
    return Path(env["DATA_DIR"]) / f"bucket/state/dame_epc/odc/domestic/{month.replace('-', '')}/{part}.json"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--kinds", "domestic,flats"), "unknown kind 'flats'"),
        (("--kinds", ""), "--kinds is empty"),
        (("--kinds", "domestic,,non-domestic"), "has an empty name"),
        (("--kinds", "domestic,domestic"), "--kinds names 'domestic' twice"),
        (("--start", "2024-13"), "--start '2024-13' is not a month"),
        (("--start", "2024/01"), "is not a month"),
        (("--start", "2024-05", "--end", "2024-01"), "end 2024-01 is before start 2024-05"),
        (("--end", "2999-01"), "--end 2999-01 is in the future"),
        (("--start", "2007-12"), "before 2008-01"),
        (("--env-file", "/nonexistent/epc.env"), "--env-file /nonexistent/epc.env does not exist"),
        (("--destination", "snowflake"), "invalid choice: 'snowflake'"),
        (("--reset", "everything"), "invalid choice: 'everything'"),
        (("--frobnicate",), "unrecognized arguments: --frobnicate"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_any_request(extract, double, args, needle):
    result = extract(*args)
    assert result.code == 2
    assert result.err.count("\n") == 1 and result.err.startswith("error: ")
    assert needle in result.err
    assert double.log == []


@pytest.mark.parametrize(("name", "value"), [("PAGE_SIZE", "5001"), ("PAGE_SIZE", "many"),
                                             ("MAX_CONCURRENCY", "0"), ("BUCKET", "s3://nope")])  # fmt: skip
def test_bad_settings_are_one_line_and_exit_2(extract, double, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    result = extract(*WINDOW)
    assert result.code == 2 and result.err.startswith("error: ") and name in result.err
    assert double.log == []


def test_missing_credentials_name_both_settings_and_send_nothing(extract, double, monkeypatch):
    monkeypatch.delenv("EPC_API_KEY")
    result = extract(*WINDOW)
    assert result.code == 2
    assert "EPC_EMAIL" in result.err and "EPC_API_KEY" in result.err
    assert double.log == []


def test_refused_credentials_stop_at_once_naming_them_never_their_values(extract, double, monkeypatch, env):
    monkeypatch.setenv("EPC_API_KEY", "wrong-key-0123456789")
    result = extract(*WINDOW, "--log-format", "json")
    assert result.code == 3
    assert "EPC_EMAIL and EPC_API_KEY" in result.err
    assert "wrong-key-0123456789" not in result.out + result.err
    assert len(double.log) == 1 and double.log[0].status == 401  # no retry of a refusal
    assert not state(env, "2023-04").exists()


def test_credentials_from_env_file_and_from_dlt_names(extract, double, monkeypatch, tmp_path, warehouse):
    monkeypatch.delenv("EPC_EMAIL")
    monkeypatch.delenv("EPC_API_KEY")
    env_file = tmp_path / "epc.env"
    env_file.write_text(f"# credentials\nexport EPC_EMAIL='{double.email}'\n")
    monkeypatch.setenv("SOURCES__EPC__API_KEY", double.api_key)
    result = extract(*WINDOW, "--env-file", str(env_file))
    assert result.code == 0, result.err
    assert warehouse.count("domestic_raw_json") == sum(double.data.count("domestic", m) for m in MONTHS)


def test_429_is_retried_after_the_seconds_retry_after_asks_for(extract, double, warehouse):
    double.add_fault(match="from-month=5", status=429, retry_after="1", times=2)
    result = extract(*WINDOW)
    assert result.code == 0, result.err
    may = [r for r in double.searches() if r.query["from-month"] == ["5"]]
    assert [r.status for r in may[:3]] == [429, 429, 200]
    assert may[1].at - may[0].at >= 0.9 and may[2].at - may[1].at >= 0.9
    assert warehouse.count("domestic_raw_json", "2023-05") == double.data.count("domestic", "2023-05")


def test_transient_5xx_and_a_cut_connection_are_retried(extract, double, warehouse):
    double.add_fault(match="from-month=4", status=503, times=2)
    double.add_fault(match="from-month=7", body="truncated", times=1)
    result = extract(*WINDOW)
    assert result.code == 0, result.err
    assert warehouse.count("domestic_raw_json") == sum(double.data.count("domestic", m) for m in MONTHS)


def test_api_down_for_good_fails_the_month_and_keeps_earlier_months(extract, double, env, warehouse):
    double.add_fault(match="from-month=7", status=503, times=-1)
    result = extract(*WINDOW)
    assert result.code == 5
    assert "domestic 2023-07 page 1" in result.err and "503" in result.err
    assert state(env, "2023-05").exists() and not state(env, "2023-07").exists()
    assert warehouse.count("domestic_raw_json", "2023-05") == double.data.count("domestic", "2023-05")
    assert warehouse.count("domestic_raw_json", "2023-07") == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not_json", "is not JSON"),
        ("cut", "is not JSON"),
        ("missing_key", "has no lmk-key"),
        ("no_rows", "has no `rows` list"),
        ("truncated", "cut short"),
    ],
)
def test_malformed_page_fails_the_month_clearly_and_a_rerun_completes(
    extract, double, env, warehouse, monkeypatch, body, message
):
    monkeypatch.setenv("PAGE_SIZE", "10")
    # the second page of July is broken (every retry too); April to June land first
    double.add_fault(match="from-month=7", body=body, skip=1, times=-1)
    result = extract(*WINDOW)
    assert result.code == 4
    (error,) = [line for line in result.err.splitlines() if line.startswith("error: ")]
    assert "domestic 2023-07 page 2" in error and message in error
    assert not state(env, "2023-07").exists()
    assert warehouse.count("domestic_raw_json", "2023-07") == 0  # nothing half-loaded
    assert warehouse.count("domestic_raw_json", "2023-05") == double.data.count("domestic", "2023-05")
    double.clear()
    assert extract(*WINDOW).code == 0
    assert {r.query["from-month"][0] for r in double.searches()} == {"7", "8"}
    for month in MONTHS:
        assert warehouse.count("domestic_raw_json", month) == double.data.count("domestic", month)


def test_json_logs_are_one_object_per_line_with_progress_fields(extract, double):
    result = extract(*WINDOW, "--log-format", "json")
    assert result.code == 0
    entries = [json.loads(line) for line in result.err.splitlines()]
    done = [e for e in entries if e.get("state", "").startswith("done")]
    assert {e["unit"] for e in done} == {f"domestic {m} certs" for m in MONTHS}
    assert all({"pages", "rows", "rows_per_s"} <= set(e) for e in done)
    assert double.api_key not in result.err


def _wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.005)


@pytest.mark.parametrize("kill_after_requests", [1, 4, 9, 15])
def test_killed_run_resumed_ends_with_exactly_the_rows_of_an_uninterrupted_run(
    double, env, tmp_path, kill_after_requests
):
    """kill -9 at several points of a run, then run again: same rows as a clean run."""
    args = [*WINDOW, "--with-recs"]
    page_env = {**env, "PAGE_SIZE": "5", "MAX_CONCURRENCY": "2"}
    clean_env = {**page_env, "DATA_DIR": str(tmp_path / "clean")}
    assert run_subprocess(args, clean_env).returncode == 0
    double.clear()
    process = subprocess.Popen(
        [sys.executable, "-m", "extract", *args], cwd=ROOT, env={**os.environ, **LOOPBACK_ENV, **page_env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _wait_for(lambda: len(double.log) >= kill_after_requests or process.poll() is not None)
    process.send_signal(signal.SIGKILL)
    process.wait()
    resumed = run_subprocess(args, page_env)
    assert resumed.returncode == 0, resumed.stderr
    clean, killed = Warehouse(tmp_path / "clean"), Warehouse(Path(env["DATA_DIR"]))
    for table in ("domestic_raw_json", "domestic_recommendations_raw_json"):
        sql = f"select lmk_key, payload::varchar from {{ds}}.{table} order by all"
        assert killed.query(sql) == clean.query(sql), table


def test_the_key_never_reaches_output_files_or_reprs(extract, double, env):
    from extract.settings import load_settings
    from extract.sources.registry import SOURCES

    result = extract(*WINDOW, "--with-recs", "--log-format", "json")
    assert result.code == 0
    secret = double.api_key.encode()
    for path in Path(env["DATA_DIR"]).rglob("*"):
        if path.is_file() and path.suffix != ".gz":
            assert secret not in path.read_bytes(), path
    settings = load_settings(sources=SOURCES)
    assert double.api_key not in repr(settings) and double.api_key not in str(settings.api_key)


_GUARDED_RUN = """
import runpy, sys
from tests import loopback
attempts = []
loopback.guard(attempts)
try:
    runpy.run_module("extract", run_name="__main__", alter_sys=True)
except SystemExit as stop:
    code = stop.code
from dlt.common.runtime.telemetry import stop_telemetry
stop_telemetry()  # flushes whatever telemetry was queued, while the guard still stands
print("left loopback:", attempts, file=sys.stderr)
sys.exit(code)
"""


def test_the_extractor_sends_nothing_beyond_loopback_without_being_told(double, env, tmp_path):
    """dlt's anonymous telemetry is on unless configured off: the extractor turns it off itself,
    whether or not the environment or the project's .dlt/config.toml says so."""
    clean_env = {k: v for k, v in os.environ.items() if k != "RUNTIME__DLTHUB_TELEMETRY"}
    elsewhere = tmp_path / "elsewhere"  # no .dlt/ folder here
    elsewhere.mkdir()
    run = subprocess.run(
        [sys.executable, "-c", _GUARDED_RUN, "--kinds", "domestic", "--start", "2024-01", "--end", "2024-02"],
        cwd=elsewhere, env={**clean_env, **env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "left loopback: []" in run.stderr.splitlines()
    assert Warehouse(Path(env["DATA_DIR"])).count("domestic_raw_json") == sum(
        double.data.count("domestic", m) for m in ("2024-01", "2024-02")
    )


@pytest.mark.parametrize(
    ("args", "warning"),
    [
        (("--source", "mhclg", "--with-recs"), "--with-recs does not apply to --source mhclg"),
        (("--bulk", "domestic-2023.zip", "--start", "2023-01", "--with-recs", "--dry-run"),
         "--start, --with-recs do not apply to --bulk"),
    ],
)  # fmt: skip
def test_a_flag_that_does_not_apply_gives_one_warning_line(extract, double, args, warning):
    result = extract(*args, "--kinds", "domestic", "--dry-run") if "--bulk" not in args else extract(*args)
    warnings = [line for line in result.err.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and warning in warnings[0], result.err
