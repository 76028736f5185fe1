"""The live source run day after day with a pinned clock: each run fetches what is new (late
arrivals inside the lookback included), a same-day re-run sends no certificate request, a gap
of several days is caught up in one run, and a run killed mid-way and started again ends with
exactly the rows of an uninterrupted one. The double's today moves with the runner's."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from extract.kinds import KINDS
from extract.months import Month
from extract.runner import Runner
from extract.settings import load_settings
from extract.sources.registry import SOURCES
from tests.doubles.mhclg import Dataset, MhclgDouble
from tests.support import LOOPBACK_ENV, ROOT, Warehouse, double_env, pinned_command, table_rows

KIND_NAMES = ("domestic", "non-domestic", "display")
CERTIFICATE_TABLES = {k: f"mhclg_{k.replace('-', '_')}_raw_json" for k in KIND_NAMES}
REPORT_TABLES = {k: f"mhclg_{k.replace('-', '_')}_reports_raw_json" for k in KIND_NAMES if k != "domestic"}
DOCUMENT_TABLES = [*CERTIFICATE_TABLES.values(), *REPORT_TABLES.values()]
JANUARY = Month(2026, 1)


def january() -> Dataset:
    """January 2026 with one certificate in five published one to six days late, and a change feed."""
    return Dataset(
        seed=13,
        start="2026-01-01",
        end="2026-01-31",
        per_day={"domestic": 5, "non-domestic": 2, "display": 1},
        delta_rate=0.1,
        late_share=0.2,
    )


@dataclass
class Day:
    """One run: the certificate requests it sent and what the warehouse held after it."""

    today: date
    certificate_requests: int
    documents: dict[str, set[str]]  # table → certificate numbers
    uprn_events: int


class Daily:
    """Runs the extractor (in this process) as on `today`, the double's clock set to match."""

    def __init__(self, api: MhclgDouble, data_dir: Path, **settings: str) -> None:
        self.api, self.data_dir = api, data_dir
        self.env = {**LOOPBACK_ENV, **double_env(api, data_dir, **settings)}
        self.warehouse = Warehouse(data_dir)

    def run(self, today: date) -> Day:
        self.api.today = today
        self.api.clear()
        settings = load_settings(environ=self.env, sources=SOURCES)
        Runner(settings, [KINDS[k] for k in KIND_NAMES], [JANUARY], today=today).run()
        return Day(today, len(self.api.requests_to("/api/certificate")), self.documents(), self.uprn_events())

    def documents(self) -> dict[str, set[str]]:
        return {
            table: {n for (n,) in self.warehouse.query(f"select certificate_number from {{ds}}.{table}")}
            for table in DOCUMENT_TABLES
            if table in self.tables()
        }

    def uprn_events(self) -> int:
        if "mhclg_deltas_raw_json" not in self.tables():
            return 0
        sql = "select count(*) from {ds}.mhclg_deltas_raw_json where event_type = 'uprn_updated'"
        return self.warehouse.query(sql)[0][0]

    def tables(self) -> set[str]:
        sql = "select table_name from information_schema.tables where table_schema = '{ds}'"
        return {name for (name,) in self.warehouse.query(sql)}


def shown_through(data: Dataset, days: list[date]) -> dict[str, set[str]]:
    """Every certificate number the service showed on any of `days` (raw history keeps removed ones)."""
    seen: dict[str, set[str]] = {table: set() for table in DOCUMENT_TABLES}
    for day in days:
        for kind in KIND_NAMES:
            for cert in data.certificates(kind, JANUARY.first_day, JANUARY.last_day, as_of=day):
                seen[CERTIFICATE_TABLES[kind]].add(cert.certificate_number)
                if cert.related_rrn and kind in REPORT_TABLES:
                    seen[REPORT_TABLES[kind]].add(cert.related_rrn)
    return seen


def new_documents(before: Day | None, after: Day) -> int:
    old = before.documents if before else {}
    return sum(len(numbers - old.get(table, set())) for table, numbers in after.documents.items())


def bucket_numbers(data_dir: Path, folder: str, table: str) -> list[str]:
    """Every certificate number in the month's files of `table`, all parts, repeats kept."""
    numbers = []
    for path in sorted((data_dir / "bucket/epc/json" / folder / JANUARY.compact).glob(f"{table}*.jsonl.gz")):
        with gzip.open(path, "rt") as handle:
            numbers += [json.loads(line)["certificate_number"] for line in handle]
    return numbers


@pytest.fixture(scope="module")
def sequence(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, list[Day], Path]:
    """Runs on the 5th to the 12th, a same-day re-run on the 12th, then nothing until the 18th."""
    data = january()
    with MhclgDouble(data, token="daily-token", rate_limit=(1_000_000, 300)) as api:
        daily = Daily(api, tmp_path_factory.mktemp("daily"), MAX_CONCURRENCY="4")
        days = [daily.run(date(2026, 1, d)) for d in (5, 6, 7, 8, 9, 10, 11, 12, 12, 18)]
        return data, days, daily.data_dir


def test_each_day_lands_what_the_service_shows_and_asks_only_for_what_is_new(sequence) -> None:
    data, days, _ = sequence
    previous = None
    for day in days:
        run_days = [d.today for d in days if d.today <= day.today]
        assert day.documents == shown_through(data, run_days), day.today
        # one request per new certificate or report, and one per UPRN change seen for the first time
        expected = new_documents(previous, day) + day.uprn_events - (previous.uprn_events if previous else 0)
        assert day.certificate_requests == expected, day.today
        previous = day


def test_certificates_published_late_are_caught_inside_the_lookback(sequence) -> None:
    data, days, _ = sequence
    late = [
        c
        for kind in KIND_NAMES
        for c in data.all_certificates(kind)
        if c.published > c.registration_date + timedelta(1) and c.published <= days[-1].today
        and not (c.removed and c.event.timestamp.date() < c.published)
    ]  # fmt: skip
    assert len(late) >= 5
    landed = set().union(*days[-1].documents.values())
    assert {c.certificate_number for c in late} <= landed


def test_a_same_day_rerun_sends_no_certificate_request(sequence) -> None:
    _, days, _ = sequence
    first, again = days[7], days[8]
    assert first.today == again.today and first.certificate_requests > 0
    assert again.certificate_requests == 0 and again.documents == first.documents


def test_a_gap_of_several_days_is_caught_up_in_one_run(sequence) -> None:
    data, days, data_dir = sequence
    gap = days[-1]
    assert gap.today - days[-2].today == timedelta(days=6)
    registered = {
        c.certificate_number
        for kind in KIND_NAMES
        for c in data.certificates(kind, date(2026, 1, 12), date(2026, 1, 17), as_of=gap.today)
    }
    assert registered and registered <= set().union(*gap.documents.values())
    ledger = json.loads((data_dir / "bucket/state/dame_epc/mhclg/domestic/202601/certs.json").read_text())
    assert ledger["searched"]["2026-01-17"] == "2026-01-17"
    # searched again from the last run's yesterday (the 11th) minus LOOKBACK_DAYS: the 4th on;
    # the 3rd was settled by that run (searched when the service reached eight days past it)
    assert ledger["searched"]["2026-01-04"] == "2026-01-17"
    assert ledger["searched"]["2026-01-03"] == "2026-01-11"
    assert ledger["searched"]["2026-01-02"] == "2026-01-10"


def test_the_bucket_holds_each_landed_document_exactly_once_across_the_parts(sequence) -> None:
    _, days, data_dir = sequence
    for kind, table in CERTIFICATE_TABLES.items():
        numbers = bucket_numbers(data_dir, kind, table)
        assert len(numbers) == len(set(numbers)), kind
        assert set(numbers) == days[-1].documents[table], kind
    parts = sorted(p.name for p in (data_dir / "bucket/epc/json/domestic/202601").iterdir())
    assert parts[0] == "mhclg_domestic_raw_json.1.jsonl.gz" and "mhclg_domestic_raw_json.jsonl.gz" in parts
    assert len(parts) == 9  # one part per run that found something new; none for the re-run


def test_a_run_killed_mid_way_and_started_again_ends_with_the_rows_of_an_uninterrupted_one(
    tmp_path: Path,
) -> None:
    """Both runs as on 2026-01-20 after one on the 10th; the second is a process killed (-9) once a
    third of its certificate requests were answered, then started again on the same day."""
    data = january()
    with MhclgDouble(data, token="daily-token", rate_limit=(1_000_000, 300)) as api:
        clean = Daily(api, tmp_path / "clean", MAX_CONCURRENCY="2")
        clean.run(date(2026, 1, 10))
        uninterrupted = clean.run(date(2026, 1, 20))
        killed = Daily(api, tmp_path / "killed", MAX_CONCURRENCY="2")
        killed.run(date(2026, 1, 10))
        api.today, _ = date(2026, 1, 20), api.clear()
        args = ["--kinds", ",".join(KIND_NAMES), "--start", "2026-01", "--end", "2026-01"]
        process = subprocess.Popen(
            pinned_command(date(2026, 1, 20), "extract", args), cwd=ROOT, env={**os.environ, **killed.env},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while len(api.requests_to("/api/certificate")) < uninterrupted.certificate_requests / 3:
            assert process.poll() is None and time.monotonic() < deadline, (
                "the run ended before it was killed"
            )
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
        resumed = subprocess.run(
            pinned_command(date(2026, 1, 20), "extract", args), cwd=ROOT, env={**os.environ, **killed.env},
            capture_output=True, text=True,
        )  # fmt: skip
        assert resumed.returncode == 0, resumed.stderr
    for table in [*DOCUMENT_TABLES, "mhclg_deltas_raw_json"]:
        assert table_rows(killed.warehouse, table) == table_rows(clean.warehouse, table), table
    for kind, table in CERTIFICATE_TABLES.items():
        ours, theirs = (
            bucket_numbers(tmp_path / "killed", kind, table),
            bucket_numbers(tmp_path / "clean", kind, table),
        )
        assert Counter(ours) == Counter(theirs), kind
        assert max(Counter(ours).values()) == 1, kind


@pytest.mark.parametrize("fails", ["_land", "write_ledger"])
def test_a_run_that_dies_after_its_warehouse_commit_is_repeated_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails: str
) -> None:
    """The narrow windows a kill rarely hits: after the rows are committed and before the bucket
    files land (`_land`), or after they land and before the ledger is written (`write_ledger`).
    The keys written as pending before the fetch are fetched again into the same part."""
    from extract.checkpoints import Checkpoints

    data = january()
    with MhclgDouble(data, token="daily-token", rate_limit=(1_000_000, 300)) as api:
        clean = Daily(api, tmp_path / "clean")
        clean.run(date(2026, 1, 10))
        clean.run(date(2026, 1, 20))
        broken = Daily(api, tmp_path / "broken")
        broken.run(date(2026, 1, 10))
        owner = Runner if fails == "_land" else Checkpoints
        original = getattr(owner, fails)

        def dies(self, *args):  # `_land(finished, unit, part)`, `write_ledger(unit, ledger)`
            unit = args[1] if fails == "_land" else args[0]
            if unit.part == "certs":
                raise RuntimeError("killed")
            return original(self, *args)

        with monkeypatch.context() as patch:
            patch.setattr(owner, fails, dies)
            with pytest.raises(RuntimeError, match="killed"):
                broken.run(date(2026, 1, 20))
        pending = list((tmp_path / "broken/bucket/state").rglob("*.pending.json"))
        assert pending, "the unit's keys were not recorded before the fetch"
        broken.run(date(2026, 1, 20))
    for table in [*DOCUMENT_TABLES, "mhclg_deltas_raw_json"]:
        assert table_rows(broken.warehouse, table) == table_rows(clean.warehouse, table), table
    for kind, table in CERTIFICATE_TABLES.items():
        numbers = bucket_numbers(tmp_path / "broken", kind, table)
        assert Counter(numbers) == Counter(bucket_numbers(tmp_path / "clean", kind, table)), kind
        assert max(Counter(numbers).values()) == 1, kind
    assert not list((tmp_path / "broken/bucket/state").rglob("*.pending.json"))
