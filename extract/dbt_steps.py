"""The daily job's dbt steps, through dbt's programmatic runner: `dbt build`, then `dbt source
freshness` on the raw tables the run filled. What each step reports is read from dbt's own run
results, not counted here."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extract.errors import ConfigError
from extract.settings import Settings

PROJECT_DIR = Path(__file__).resolve().parents[1]  # dbt_project.yml sits beside the package
FAILED = {"error", "fail", "runtime error"}
WORST = ("pass", "warn", "error", "runtime error")  # freshness statuses, mildest first


# the daily build's selection: the tables it maintains and their data tests. Views and seeds are
# (re)built only by the full build, which the job runs whenever the project or its warehouse
# changed; their tests (excluded with them: dbt's eager indirect selection) would compute each view
# over the whole history, or test a seed that did not change, so they run in the full suite,
# beside the unit tests
DAILY_SELECTION = [
    "--select",
    "config.materialized:incremental",
    "config.materialized:table",
    "resource_type:test",
    "--exclude",
    "resource_type:unit_test",
    "config.materialized:view",
    "resource_type:seed",
]


def build_args(tests_since: str | None) -> tuple[list[str], dict[str, str]]:
    """The arguments of `dbt build` after `build`, and the environment it needs. Nothing for the
    full build. The daily build (`tests_since`, a load id): its data tests read the rows loaded
    since (EPC_TESTS_SINCE: an environment variable, read only when tests run, so dbt does not
    parse the project again for each day's value as it would for a new --vars); the views, which
    a build only re-creates unchanged, and the unit tests (fixed inputs: CI and the full build run
    them) are left out."""
    if not tests_since:
        return [], {}
    return list(DAILY_SELECTION), {"EPC_TESTS_SINCE": tests_since}


def project_fingerprint(project_dir: Path, *context: str) -> str:
    """A digest of the dbt project's files (dbt_project.yml and dbt_project/) and of `context`
    (where it builds): a build whose fingerprint differs from the last successful build's must be
    a full one. DuckDB views name their file's catalog, so a moved file needs its views again."""
    digest = hashlib.sha256("|".join(context).encode())
    files = [project_dir / "dbt_project.yml", *sorted((project_dir / "dbt_project").rglob("*"))]
    for path in files:
        if path.is_file():
            digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class StepResult:
    """One dbt command: `status` (`success`, `failed`; freshness: the worst of its tables),
    the nodes that failed, and per-node detail where the step has it."""

    status: str
    failures: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class Dbt:
    """dbt commands against the run's warehouse: the profile's target follows the destination,
    and the settings the profile reads from the environment are the run's."""

    def __init__(self, settings: Settings) -> None:
        self.project_dir = Path(os.environ.get("DBT_PROJECT_DIR") or PROJECT_DIR)
        if not (self.project_dir / "dbt_project.yml").is_file():
            raise ConfigError(f"DBT_PROJECT_DIR={self.project_dir} holds no dbt_project.yml")
        self.profiles_dir = self._profiles_dir(settings)
        self.target = os.environ.get("DBT_TARGET") or settings.destination
        duckdb = self.target == "duckdb"
        warehouse = str(settings.duckdb_path) if duckdb else f"{settings.project_id}.{settings.dataset}"
        self.fingerprint = project_fingerprint(self.project_dir, self.target, warehouse)
        profile_env = {
            "DATA_DIR": str(settings.data_dir),
            "DUCKDB_PATH": str(settings.duckdb_path),
            "BQ_DATASET": settings.dataset,
            "REGION": settings.region,
            "PROJECT_ID": settings.project_id or "",
        }
        for name, value in profile_env.items():
            if value and not os.environ.get(name):
                os.environ[name] = value

    def _profiles_dir(self, settings: Settings) -> Path:
        """DBT_PROFILES_DIR, else the project's profiles.yml, else a copy of profiles.example.yml
        (every value in it comes from the environment) under DATA_DIR."""
        configured = os.environ.get("DBT_PROFILES_DIR")
        if configured:
            if not (Path(configured) / "profiles.yml").is_file():
                raise ConfigError(f"DBT_PROFILES_DIR={configured} holds no profiles.yml")
            return Path(configured)
        if (self.project_dir / "profiles.yml").is_file():
            return self.project_dir
        example = self.project_dir / "profiles.example.yml"
        if not example.is_file():
            raise ConfigError("no dbt profile: set DBT_PROFILES_DIR to a folder holding profiles.yml")
        folder = settings.data_dir / "dbt"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(example, folder / "profiles.yml")
        return folder

    def build(self, tests_since: str | None = None) -> StepResult:
        """`dbt build`. With `tests_since` (a load id), the daily build (`build_args`): the data
        tests of models with a `load_id` read only the rows loaded since (macros/test_scope.sql).
        Without: everything."""
        args, environment = build_args(tests_since)
        previous = os.environ.pop("EPC_TESTS_SINCE", None)
        os.environ.update(environment)
        try:
            return self._invoke(["build", *args])
        finally:
            os.environ.pop("EPC_TESTS_SINCE", None)
            if previous is not None:
                os.environ["EPC_TESTS_SINCE"] = previous

    def freshness(self, tables: list[str], source: str) -> StepResult:
        """`dbt source freshness` on `tables` of `source`; skipped when there are none."""
        if not tables:
            return StepResult("skipped")
        return self._invoke(["source", "freshness", "--select", *(f"source:{source}.{t}" for t in tables)])

    def _invoke(self, command: list[str]) -> StepResult:
        from dbt.cli.main import dbtRunner

        args = [
            *command,
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.profiles_dir),
            "--target",
            self.target,
            *([] if sys.stdout.isatty() else ["--no-use-colors"]),  # plain text in files and cloud logs
        ]
        outcome = dbtRunner().invoke(args)
        if outcome.exception is not None or outcome.result is None:
            message = " ".join(str(outcome.exception or "dbt failed before running a node").split())
            return StepResult("failed", error=f"dbt {command[0]}: {message}"[:500])
        results = list(getattr(outcome.result, "results", []) or [])
        if command[0] == "source":
            detail = {
                r.node.identifier: {
                    "status": str(r.status),
                    "max_loaded_at": str(getattr(r, "max_loaded_at", "") or ""),
                    "age_hours": round(getattr(r, "age", 0.0) / 3600, 1) if getattr(r, "age", None) else None,
                }
                for r in results
            }
            statuses = [str(r.status) for r in results] or ["pass"]
            worst = max(statuses, key=WORST.index)
            failures = [name for name, d in detail.items() if d["status"] in FAILED]
            error = f"stale or unreadable raw tables: {', '.join(failures)}" if failures else None
            return StepResult(worst, failures, detail, error)
        failures = sorted(r.node.unique_id for r in results if str(r.status) in FAILED)
        status = "success" if outcome.success and not failures else "failed"
        error = (
            f"dbt {command[0]}: {len(failures)} nodes failed: {', '.join(failures[:5])}" if failures else None
        )
        detail = {"nodes": len(results), "warnings": sum(str(r.status) == "warn" for r in results)}
        return StepResult(status, failures, detail, error if failures else None)
