"""The daily job's dbt steps, through dbt's programmatic runner: `dbt build`, then `dbt source
freshness` on the raw tables the run filled. What each step reports is read from dbt's own run
results, not counted here."""

from __future__ import annotations

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

    def build(self) -> StepResult:
        return self._invoke(["build"])

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
