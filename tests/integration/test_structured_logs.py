"""With `--log-format json`, every line a run writes on stderr is one JSON object, its final error
included, whatever stops it: bad flags, refused credentials, a malformed page, a held lock, a bug
in a library beneath it, or nothing at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import LOOPBACK_ENV, ROOT, run_subprocess

WINDOW = ("--kinds", "domestic", "--start", "2023-04", "--end", "2023-05")


def json_lines(stderr: str) -> list[dict]:
    lines = stderr.splitlines()
    assert lines, "nothing on stderr"
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON object on stderr: {line!r}")
    assert all(isinstance(e, dict) and {"ts", "level", "message"} <= e.keys() for e in entries)
    return entries


def hold_lock(env: dict[str, str]) -> None:
    lock = Path(env["DATA_DIR"]) / "bucket/locks/dame_epc.json"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"owner": "another run", "host": "elsewhere", "pid": 1, "token": "x",
                                "started_at": "2999-01-01T00:00:00+00:00",
                                "heartbeat_at": "2999-01-01T00:00:00+00:00"}))  # fmt: skip


@pytest.mark.parametrize(
    ("case", "code", "needle"),
    [
        ("bad-flag", 2, "unknown kind 'flats'"),
        ("bad-setting", 2, "PAGE_SIZE='many'"),
        ("refused", 3, "EPC_EMAIL and EPC_API_KEY"),
        ("malformed-page", 4, "not JSON"),
        ("lock-held", 6, "another run holds"),
        ("job-lock-held", 6, "another run holds"),
    ],
)
def test_every_stderr_line_is_json_and_the_last_is_the_error(double, env, case, code, needle):
    args, run_env, module = [*WINDOW, "--log-format", "json"], dict(env), "extract"
    if case == "bad-flag":
        args = ["--kinds", "domestic,flats", "--log-format=json"]
    elif case == "bad-setting":
        run_env["PAGE_SIZE"] = "many"
    elif case == "refused":
        run_env["EPC_API_KEY"] = "wrong-key"
    elif case == "malformed-page":
        double.add_fault(match="/domestic/search", body="not_json", times=-1)
    else:
        hold_lock(env)
        module = "extract.job" if case == "job-lock-held" else module
    run = run_subprocess(args, run_env) if module == "extract" else run_job(args, run_env)
    assert run.returncode == code, run.stderr
    entries = json_lines(run.stderr)
    assert entries[-1]["level"] == "error" and needle in entries[-1]["message"]
    assert entries[-1]["exit_code"] == code


def run_job(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "extract.job", *args], cwd=ROOT, env={**os.environ, **LOOPBACK_ENV, **env},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_a_successful_run_logs_only_json_progress(double, env):
    run = run_subprocess([*WINDOW, "--with-recs", "--log-format", "json"], env)
    assert run.returncode == 0, run.stderr
    entries = json_lines(run.stderr)
    assert all(e["level"] in ("info", "warning") for e in entries)
    assert any("certs: done" in e["message"] for e in entries)


def test_a_bucket_that_cannot_be_written_is_one_json_error(double, env, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    run = run_subprocess([*WINDOW, "--log-format", "json"], {**env, "BUCKET": str(blocked)})
    assert run.returncode != 0
    entries = json_lines(run.stderr)
    assert entries[-1]["level"] == "error"
