"""The emulator layer: GCS + BigQuery for real against gcp-storage-emulator and bqemulator on
127.0.0.1, started by .ci/emulators.sh (installed on first use into .emu/), once per session."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.doubles.odc_v1 import Dataset, OdcV1Double
from tests.support import ROOT


@pytest.fixture(scope="session")
def emulators() -> Iterator[dict[str, str]]:
    """Both emulators up for the session (each test makes its own bucket and dataset); their
    environment as a dict."""
    subprocess.run(["bash", ".ci/emulators.sh", "up"], cwd=ROOT, check=True, capture_output=True)
    values = {}
    for line in (ROOT / ".emu" / "env").read_text().splitlines():
        for pair in line.removeprefix("export ").split():
            name, _, value = pair.partition("=")
            values[name] = value
    yield values
    subprocess.run(["bash", ".ci/emulators.sh", "down"], cwd=ROOT, check=True, capture_output=True)


@pytest.fixture
def double() -> Iterator[OdcV1Double]:
    """The v1 double over two years of data."""
    with OdcV1Double(Dataset(seed=11, start="2023-01", end="2024-12")) as api:
        yield api
