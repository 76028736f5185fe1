"""The daily job's dbt build: which build it asks dbt for, and when the project counts as changed."""

from __future__ import annotations

import shutil
from pathlib import Path

from extract.dbt_steps import build_args, project_fingerprint
from tests.support import ROOT


def test_the_full_build_is_plain_and_the_daily_one_keeps_views_and_narrows_tests() -> None:
    assert build_args(None) == ([], {})
    args, environment = build_args("1767258000.000000")
    assert environment == {"EPC_TESTS_SINCE": "1767258000.000000"}
    selected = args[args.index("--select") + 1 : args.index("--exclude")]
    assert set(selected) == {
        "config.materialized:incremental",
        "config.materialized:table",
        "resource_type:test",
    }
    # the views and seeds, and with them their tests (dbt's eager indirect selection)
    excluded = args[args.index("--exclude") + 1 :]
    assert excluded == ["resource_type:unit_test", "config.materialized:view", "resource_type:seed"]


def test_the_project_fingerprint_follows_its_files_and_nothing_else(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "dbt_project", copy / "dbt_project")
    shutil.copy(ROOT / "dbt_project.yml", copy / "dbt_project.yml")
    same = project_fingerprint(copy)
    assert same == project_fingerprint(ROOT)
    (copy / "README.md").write_text("not dbt")  # outside the project's files
    assert project_fingerprint(copy) == same
    view = copy / "dbt_project/models/marts/enr_domestic_certificates_v.sql"
    view.write_text(view.read_text() + "\n")
    changed = project_fingerprint(copy)
    assert changed != same
    assert project_fingerprint(copy, "duckdb", "/data/epc.duckdb") != changed  # another warehouse
