"""Terminal progress and logs: plain lines, or one JSON object per line with `--log-format json`."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from extract.redaction import redact

LOGGER = logging.getLogger("extract")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        masked = {name: redact(value) if isinstance(value, str) else value for name, value in entry.items()}
        return orjson.dumps(masked).decode()


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _OwnFormat(logging.StreamHandler):
    """A stderr handler that keeps the format it was made with: dlt sets its own formatter on the
    first handler of its logger when its runtime starts."""

    def setFormatter(self, fmt: logging.Formatter | None) -> None:  # noqa: N802 (logging's name)
        if self.formatter is None:
            super().setFormatter(fmt)


_FORMAT = {"log": "text"}


def setup_logging(log_format: str) -> None:
    """Our lines, dlt's and Python warnings on stderr, all in `log_format` (`text` or `json`)."""
    _FORMAT["log"] = log_format
    handler = _OwnFormat(sys.stderr)
    handler.setFormatter(
        _JsonFormatter() if log_format == "json" else _TextFormatter("%(asctime)s %(message)s", "%H:%M:%S")
    )
    LOGGER.handlers[:] = [handler]
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False
    logging.captureWarnings(True)
    for name in ("dlt", "py.warnings"):
        library = logging.getLogger(name)
        library.handlers[:] = [handler]
        library.propagate = False


def requested_format(argv: list[str]) -> str:
    """`--log-format` as given in `argv`, before the flags are parsed (so that an error in them is
    reported in the format asked for)."""
    for position, arg in enumerate(argv):
        if arg == "--log-format" and position + 1 < len(argv):
            return argv[position + 1]
        if arg.startswith("--log-format="):
            return arg.partition("=")[2]
    return "text"


def json_logs() -> bool:
    return _FORMAT["log"] == "json"


def failure(message: str, **fields: Any) -> None:
    """The run's final error: `error: …` on one line, or one JSON object at level error."""
    if json_logs():
        LOGGER.error(message, extra={"fields": fields})
    else:
        print(redact(f"error: {message}"), file=sys.stderr)


def event(message: str, **fields: Any) -> None:
    """A log line whose fields also appear as JSON keys in `--log-format json`."""
    LOGGER.info(message, extra={"fields": fields})


class Progress:
    """Reports a unit's pages, rows and rows/s at most every `every` seconds, and at the end."""

    def __init__(self, unit: str, every: float = 2.0) -> None:
        self.unit, self.every = unit, every
        self.started = self.last = time.monotonic()

    def rate(self, rows: int) -> float:
        return rows / max(time.monotonic() - self.started, 1e-9)

    def page(self, pages: int, rows: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self._report("fetching", pages, rows)

    def done(self, pages: int, rows: int, note: str = "") -> None:
        self._report("done" + (f" ({note})" if note else ""), pages, rows)

    def _report(self, state: str, pages: int, rows: int) -> None:
        rate = self.rate(rows)
        event(
            f"{self.unit}: {state}, {pages} pages, {rows} rows, {rate:,.0f} rows/s",
            unit=self.unit,
            state=state,
            pages=pages,
            rows=rows,
            rows_per_s=round(rate, 1),
        )


@dataclass
class UnitStats:
    """What one unit fetched; updated page by page."""

    pages: int = 0
    rows: int = 0
    on_page: Callable[[UnitStats], None] | None = field(default=None, repr=False)
    # listed by search but not fetched (the document answered 404): number → registration day
    missing: dict[str, str] = field(default_factory=dict)

    def add(self, rows: int) -> None:
        self.pages += 1
        self.rows += rows
        if self.on_page:
            self.on_page(self)
