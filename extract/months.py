"""Calendar months as `YYYY-MM`: parsing, ranges and the current month; the register's today."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from extract.errors import ConfigError

FIRST_MONTH = "2008-01"  # the register's open data starts in 2008
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
REGISTER_TIME_ZONE = ZoneInfo("Europe/London")


def register_today() -> date:
    """The register's date now: its day turns at midnight in London, whatever the machine's zone
    (read from the wall clock, so a process under libfaketime sees the day it is given)."""
    return datetime.now(REGISTER_TIME_ZONE).date()


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str, what: str = "month") -> Month:
        found = _MONTH.match(text.strip())
        if not found or not 1 <= int(found.group(2)) <= 12:
            raise ConfigError(f"{what} {text!r} is not a month: use YYYY-MM, e.g. 2024-01")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def current(cls, today: date | None = None) -> Month:
        day = today or register_today()
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def compact(self) -> str:
        """`YYYYMM`, as used in bucket paths."""
        return f"{self.year:04d}{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def days(self, through: date | None = None) -> list[date]:
        """The month's days, up to `through` if given."""
        last = min(self.last_day, through) if through else self.last_day
        return [self.first_day + timedelta(n) for n in range((last - self.first_day).days + 1)]

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)


def month_range(start: Month, end: Month) -> list[Month]:
    """Months from start to end inclusive."""
    months, month = [], start
    while month <= end:
        months.append(month)
        month = month.next()
    return months


def resolve_window(
    start: str | None, end: str | None, start_year: int, end_year: int | None, today: date | None = None
) -> list[Month]:
    """The months to extract: flags first, then START_YEAR/END_YEAR, never past this month."""
    current = Month.current(today)
    first = Month.parse(start, "--start") if start else Month(start_year, 1)
    if end:
        last = Month.parse(end, "--end")
        if last > current:
            raise ConfigError(f"--end {last} is in the future: the latest month is {current}")
    else:
        last = min(Month(end_year, 12), current) if end_year else current
    if first < Month.parse(FIRST_MONTH):
        raise ConfigError(f"start {first} is before {FIRST_MONTH}, where the register begins")
    if last < first:
        raise ConfigError(f"end {last} is before start {first}")
    return month_range(first, last)
