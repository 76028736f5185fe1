"""What every test layer shares: nothing leaves loopback, and no variable of the developer's shell
reaches the runs under test."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import loopback
from tests.support import FOREIGN_ENV, LOOPBACK_ENV

_LEFT_LOOPBACK: list[str] = []  # every attempt to reach past 127.0.0.1 from this process


@pytest.fixture(scope="session", autouse=True)
def _loopback_only() -> Iterator[None]:
    """Nothing may leave the machine: the extractor, dlt and the Google clients run in this
    process, so lookups and connections beyond loopback are refused and fail the test."""
    lift = loopback.guard(_LEFT_LOOPBACK)
    yield
    lift()


@pytest.fixture(autouse=True)
def _stays_on_loopback() -> Iterator[None]:
    before = len(_LEFT_LOOPBACK)
    yield
    assert _LEFT_LOOPBACK[before:] == [], "something tried to leave the machine"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in FOREIGN_ENV:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith(("SOURCES__", "DESTINATION__")):
            monkeypatch.delenv(name, raising=False)
    for name, value in LOOPBACK_ENV.items():
        monkeypatch.setenv(name, value)


# --- running on several workers (pytest-xdist, as scripts/test.sh runs it) ----------------------------
# the longest groups first, so that no worker starts a long one last
_FIRST = ("tests/emulators/", "tests/integration/test_dbt_", "tests/integration/test_job.py")


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Each module runs on one worker (its module fixtures are built once), and the emulator tier
    on one worker altogether (the emulators listen on fixed ports, once per session). xdist's own
    `loadgroup` cannot be used: it marks groups in node ids, which pytest 9 no longer reads."""
    from xdist.scheduler import LoadScopeScheduling

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "tests/emulators/" if module.startswith("tests/emulators/") else module

    return ByModule(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a worker, the longest groups first (the scheduler hands out modules in this order)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=_rank)


def _rank(item: pytest.Item) -> int:
    return next((n for n, prefix in enumerate(_FIRST) if item.nodeid.startswith(prefix)), len(_FIRST))


def pytest_configure(config: pytest.Config) -> None:
    """A worker's dbt runs keep their own target and logs: two dbt processes sharing the project's
    `target/` would read each other's half-written manifest."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        for name, folder in (("DBT_TARGET_PATH", "target"), ("DBT_LOG_PATH", "logs")):
            os.environ.setdefault(name, str(Path(tempfile.gettempdir()) / f"dame-epc-{worker}" / folder))
