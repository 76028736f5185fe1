"""Places that cannot be written: found before the first request (exit 9, one line naming the
setting), or met during the run (exit 9, one line, nothing checkpointed); after the place is
fixed, the next run ends with exactly the rows of one clean run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import Warehouse, run_subprocess

WINDOW = ["--kinds", "domestic", "--start", "2023-04", "--end", "2023-05"]
MONTHS = ("2023-04", "2023-05")


@pytest.mark.parametrize("setting", ["DATA_DIR", "BUCKET", "DUCKDB_PATH"])
def test_a_place_under_a_file_stops_the_run_before_any_request(double, env, tmp_path, setting):
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("")
    place = in_the_way / ("epc.duckdb" if setting == "DUCKDB_PATH" else "place")
    run = run_subprocess(WINDOW, {**env, setting: str(place)})
    assert run.returncode == 9, run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith(f"error: {setting}: "), run.stderr
    assert "cannot be written" in run.stderr
    assert double.log == []


def test_a_bucket_folder_that_cannot_be_written_mid_run_checkpoints_nothing_then_recovers(double, env):
    data = Path(env["DATA_DIR"])
    blocker = data / "bucket/epc/json/domestic"  # a file where the months' folders go
    blocker.parent.mkdir(parents=True)
    blocker.write_text("")
    run = run_subprocess(WINDOW, env)
    assert run.returncode == 9, run.stderr
    assert run.stderr.count("\n") == 1 and "cannot write" in run.stderr, run.stderr
    assert double.log, "the run stopped before its first request"
    assert not list((data / "bucket/state").rglob("*.json")), "a unit was checkpointed"
    blocker.unlink()
    again = run_subprocess(WINDOW, env)
    assert again.returncode == 0, again.stderr
    keys = Warehouse(data).query("select lmk_key from {ds}.domestic_raw_json")
    assert len(keys) == len(set(keys)) == sum(double.data.count("domestic", m) for m in MONTHS)
    assert sorted(p.name for p in (data / "bucket/epc/json/domestic").rglob("*.gz")) == [
        "domestic_raw_json.jsonl.gz"
    ] * len(MONTHS)
