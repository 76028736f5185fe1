"""Two runs at once on one bucket and dataset: the second exits 6 at once naming the holder, the
first completes, and the warehouse holds exactly the rows of one run. A stale lock (its process
gone, or its heartbeat too old) is taken over with a warning; a DuckDB file held by another
process is named in one line, exit 6."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support import LOOPBACK_ENV, ROOT, Warehouse, run_subprocess

WINDOW = ("--kinds", "domestic", "--start", "2023-04", "--end", "2023-06")
LOCK = "bucket/locks/dame_epc.json"


def start(module: str, args: tuple[str, ...], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", module, *args], cwd=ROOT, env={**os.environ, **LOOPBACK_ENV, **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def expected_rows(double) -> int:
    return sum(double.data.count("domestic", m) for m in ("2023-04", "2023-05", "2023-06"))


@pytest.mark.parametrize("second", ["extract", "extract.job"])
def test_a_second_run_exits_6_at_once_and_the_first_lands_one_run_of_rows(double, env, second):
    double.add_fault(match="/domestic/search", delay=0.5, times=-1)  # the first run takes seconds
    lock = Path(env["DATA_DIR"]) / LOCK
    first = start("extract", WINDOW, env)
    wait_for(lambda: (lock.exists() and lock.stat().st_size > 0) or first.poll() is not None)
    holder = json.loads(lock.read_text())
    began = time.monotonic()
    other = subprocess.run(
        [sys.executable, "-m", second, *WINDOW], cwd=ROOT, env={**os.environ, **LOOPBACK_ENV, **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    waited = time.monotonic() - began
    assert first.poll() is None, "the first run ended before the second was refused"
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert other.returncode == 6, other.stderr
    lines = other.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: another run holds"), other.stderr
    assert f"pid {first.pid} on {socket.gethostname()}" in lines[0] and holder["pid"] == first.pid
    assert "python -m extract --kinds domestic" in lines[0]
    assert waited < 30, f"the second run waited {waited:.0f} s"
    assert not lock.exists(), "the lock outlived its run"
    keys = Warehouse(Path(env["DATA_DIR"])).query("select lmk_key from {ds}.domestic_raw_json")
    assert len(keys) == len(set(keys)) == expected_rows(double)


def gone_pid() -> int:
    """The id of a process that has ended."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.mark.parametrize(
    ("holder", "max_age", "taken_over"),
    [
        ({"host": socket.gethostname(), "pid": "gone", "beat": timedelta(0)}, "60", "is gone"),
        ({"host": "elsewhere", "pid": 1, "beat": timedelta(minutes=30)}, "10", "older than 10 minutes"),
        ({"host": "elsewhere", "pid": 1, "beat": timedelta(minutes=5)}, "10", None),
    ],
    ids=["owner-gone", "heartbeat-too-old", "live-elsewhere"],
)
def test_a_stale_lock_is_taken_over_with_a_warning_and_a_live_one_is_not(
    double, env, holder, max_age, taken_over
):
    lock = Path(env["DATA_DIR"]) / LOCK
    lock.parent.mkdir(parents=True)
    pid = gone_pid() if holder["pid"] == "gone" else holder["pid"]
    beat = (datetime.now(UTC) - holder["beat"]).isoformat()
    lock.write_text(json.dumps({"owner": "an earlier run", "host": holder["host"], "pid": pid,
                                "token": "theirs", "started_at": beat, "heartbeat_at": beat}))  # fmt: skip
    run = run_subprocess(list(WINDOW), {**env, "LOCK_MAX_AGE_MINUTES": max_age})
    warehouse = Warehouse(Path(env["DATA_DIR"]))
    if taken_over is None:
        assert run.returncode == 6 and run.stderr.count("\n") == 1, run.stderr
        assert f"an earlier run (pid {pid} on elsewhere" in run.stderr
        assert json.loads(lock.read_text())["token"] == "theirs"
        assert not warehouse.path.exists() or warehouse.count("domestic_raw_json") == 0
        return
    assert run.returncode == 0, run.stderr
    assert "warning: taking over the stale lock" in run.stderr and taken_over in run.stderr
    assert not lock.exists()
    assert warehouse.count("domestic_raw_json") == expected_rows(double)


_HOLD_DUCKDB = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(120)
"""


def test_a_duckdb_file_in_use_by_another_process_is_named_in_one_line(double, env, tmp_path):
    database = tmp_path / "shared.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_DUCKDB, str(database)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        run = run_subprocess(list(WINDOW), {**env, "DUCKDB_PATH": str(database)})
    finally:
        holder.kill()
        holder.wait()
    assert run.returncode == 6, run.stderr
    assert run.stderr.count("\n") == 1 and "in use by another process" in run.stderr, run.stderr
    assert f"pid {holder.pid}" in run.stderr.lower()
    assert not (Path(env["DATA_DIR"]) / LOCK).exists()
    again = run_subprocess(list(WINDOW), {**env, "DUCKDB_PATH": str(database)})
    assert again.returncode == 0, again.stderr
