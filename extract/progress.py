"""Terminal progress and logs: plain lines, or one JSON object per line with `--log-format json`."""

from __future__ import annotations

import io
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from tqdm import tqdm

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


class Meter:
    """Done out of a total, the rate and the time left, by tqdm's accounting (a smoothed rate), put
    into log lines rather than drawn as a bar, so that a terminal and a log file read alike."""

    def __init__(self, total: float | None, unit: str = "rows") -> None:
        self._bar = tqdm(total=total or None, unit=unit, file=io.StringIO(), mininterval=0, smoothing=0.3)

    def set(self, done: float) -> None:
        self._bar.update(done - self._bar.n)

    @property
    def rate(self) -> float:
        found = self._bar.format_dict
        return found["rate"] or (found["n"] / found["elapsed"] if found["elapsed"] else 0.0)

    def fraction(self, fmt: str = ",.0f") -> str:
        """`done/total`, or `done` while the total is unknown."""
        done, total = self._bar.n, self._bar.total
        return f"{done:{fmt}}/{total:{fmt}}" if total else f"{done:{fmt}}"

    def eta(self) -> str | None:
        """The time left at the current rate (`1:02:05`), None while unknown."""
        total, done, rate = self._bar.total, self._bar.n, self.rate
        if not total or not rate or done >= total:
            return None
        return tqdm.format_interval((total - done) / rate)

    def close(self) -> None:
        self._bar.close()


class Progress:
    """Reports a unit's pages, rows (out of `total` when known) and rate at most every `every`
    seconds, with the time left, and at the end."""

    def __init__(self, unit: str, total: int | None = None, every: float = 2.0) -> None:
        self.unit, self.every, self.total = unit, every, total
        self.last = time.monotonic()
        self.meter = Meter(total)

    def page(self, pages: int, rows: int) -> None:
        self.meter.set(rows)
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self._report("fetching", pages, rows)

    def done(self, pages: int, rows: int, note: str = "") -> None:
        self.meter.set(rows)
        self._report("done" + (f" ({note})" if note else ""), pages, rows)
        self.meter.close()

    def _report(self, state: str, pages: int, rows: int) -> None:
        rate, eta = self.meter.rate, self.meter.eta() if state == "fetching" else None
        event(
            f"{self.unit}: {state}, {pages} pages, {self.meter.fraction()} rows, {rate:,.0f} rows/s"
            + (f", ETA {eta}" if eta else ""),
            unit=self.unit,
            state=state,
            pages=pages,
            rows=rows,
            total=self.total,
            rows_per_s=round(rate, 1),
            eta=eta,
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
        """A page of `rows`."""
        self.pages += 1
        self.tick(rows)

    def tick(self, rows: int = 1) -> None:
        """`rows` more, within the current page (documents fetched one by one)."""
        self.rows += rows
        if self.on_page:
            self.on_page(self)
