"""What every test layer shares: nothing leaves loopback, and no variable of the developer's shell
reaches the runs under test."""

from __future__ import annotations

import os
from collections.abc import Iterator

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
