"""The integration layer: the API doubles on 127.0.0.1, real DuckDB files, real dbt builds. The
fixtures here set up the v1 double and run the CLI against it; the live service's tests make
their double in their own modules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.doubles.odc_v1 import Dataset, OdcV1Double
from tests.support import Result, Warehouse


@pytest.fixture
def dataset() -> Dataset:
    """Two years of data, 2023-06 empty; small enough for many runs per test."""
    return Dataset(seed=11, start="2023-01", end="2024-12")


@pytest.fixture
def double(dataset: Dataset) -> Iterator[OdcV1Double]:
    with OdcV1Double(dataset) as api:
        yield api


@pytest.fixture
def env(double: OdcV1Double, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment pointing the extractor at the double and a fresh data folder."""
    values = {
        "EPC_EMAIL": double.email,
        "EPC_API_KEY": double.api_key,
        "EPC_API_BASE_URL": double.base_url,
        "DATA_DIR": str(tmp_path / "data"),
        "RETRY_BACKOFF": "0.01",
        "RETRY_MAX": "3",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def extract(capsys: pytest.CaptureFixture[str], env: dict[str, str]):
    """Runs `python -m extract ARGS` in this process (fast); returns code, stdout, stderr."""
    from extract.cli import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def warehouse(env: dict[str, str]) -> Warehouse:
    return Warehouse(Path(env["DATA_DIR"]))
