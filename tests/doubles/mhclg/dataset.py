"""Deterministic certificates for the MHCLG double, each made from an official sample document.

For every day from `start` to `end` and every kind, about `per_day[kind]` certificates (±1) are
registered. Certificate *k* of a kind is a copy of sample *k mod n* of that kind (samples.py), so
every schema version appears once a kind has as many certificates as samples. Written over the
sample: a unique certificate number, `registration_date` and `created_at` (the sample's other
top-level dates move by the same number of days), `uprn` (about 4 % null, 4 % absent; half as
many UPRNs as certificates, so properties carry several), `postcode`, `post_town`,
`address_line_1..4`, and the rating and floor area under the names that schema uses:
- domestic: `energy_rating_current`/`_potential`, `current_`/`potential_energy_efficiency_band`,
  `total_floor_area` (SAP-Schema 11.x and 12.0 have none: their `sap_floor_dimensions` areas are
  scaled instead);
- non-domestic (CEPC): `asset_rating`, `current_energy_efficiency_band`,
  `technical_information.floor_area`;
- display (DEC): `this_assessment.energy_rating`, `current_energy_efficiency_band`,
  `technical_information.floor_area`.
Everything else stays as in the sample, domestic `suggested_improvements` included. A `+rr` sample's
certificate gets a recommendation report (its own number, made from the `-rr` sample, same address
and date) that `related_certificate_number` and the search row's `relatedRrn` point to; where a
sample without a report names a related certificate, that is set to null, so nothing points to a
certificate the double does not hold. The council and constituency that the service derives from
the postcode come from `PLACES`.

Deltas: about `delta_rate` of the certificates get one event, `removed` (two in five) or
`uprn_updated`, timed after registration and no later than `end`. Late arrivals: about
`late_share` of the certificates are published (reach search and `/api/certificate`) one to six
days after their registration date; the others the day after it.

What the service shows depends on the day it is asked (`as_of`, the double's today): certificates
published before it, with the events before it applied (a removed certificate is gone from search
and `/api/certificate`; an updated one shows its new `uprn`). Without `as_of`, the look-ups give
the final state: every certificate published, every event applied (as the bulk files have it).
"""

from __future__ import annotations

import bisect
import hashlib
import random
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.doubles.mhclg.samples import KINDS, Sample, load_samples

# (council, ONS code, constituency, ONS code, post town, outward codes): names as the service
# takes them in `council[]` / `constituency[]`.
PLACES = (
    ("Hammersmith and Fulham", "E09000013", "Chelsea and Fulham", "E14000629", "Whitbury", ("SW10", "W6")),
    (
        "Westminster",
        "E09000033",
        "Cities of London and Westminster",
        "E14000639",
        "Fulchester",
        ("SW1A", "W1D"),
    ),
    ("Manchester", "E08000003", "Manchester Central", "E14000807", "Manchester", ("M1", "M4", "M15")),
    ("Cardiff", "W06000015", "Cardiff Central", "W07000050", "Caerdydd", ("CF10", "CF24")),
    ("Adur", "E07000223", "East Worthing and Shoreham", "E14000904", "Upper Wellgood", ("BN15", "BN43")),
    ("County Durham", "E06000047", "City of Durham", "E14000658", "Coketown", ("DH1", "DL14")),
)
# Valid names that no generated certificate carries: a search on them is a 404, not a 400.
OTHER_COUNCILS = ("Birmingham", "Leeds", "Bristol, City of", "Cornwall", "Swansea")
OTHER_CONSTITUENCIES = ("Aldershot", "Banbury", "Birmingham Ladywood", "Truro and Falmouth")
COUNCILS = tuple(p[0] for p in PLACES) + OTHER_COUNCILS
CONSTITUENCIES = tuple(p[2] for p in PLACES) + OTHER_CONSTITUENCIES

STREETS = (
    "Acacia Avenue",
    "Lonely Street",
    "Station Road",
    "Church Lane",
    "Heol y Frenhines",
    "Mill Lane",
    "Victoria Terrace",
    "Park View",
    "Maple Syrup Road",
)
LOCALITIES = ("Upper Wellgood", "Lower Moria", "Long Itchington", "Central District")
BUSINESSES = ("Acme Coffee", "Unit 4", "Swim & Fitness Centre", "Some Unit", "Early Years Centre")
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# SAP rating → band (domestic); asset / operational rating → band (non-domestic, display)
DOMESTIC_BANDS = (("A", 92, 100), ("B", 81, 91), ("C", 69, 80), ("D", 55, 68), ("E", 39, 54), ("F", 21, 38))
DOMESTIC_BANDS += (("G", 1, 20),)
BUILDING_BANDS = (("A+", -20, -1), ("A", 0, 25), ("B", 26, 50), ("C", 51, 75), ("D", 76, 100))
BUILDING_BANDS += (("E", 101, 125), ("F", 126, 150), ("G", 151, 220))
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EVENT_TYPES = ("removed", "uprn_updated")


def _seed(*parts: object) -> int:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def domestic_band(rating: int) -> str:
    return next((band for band, low, _ in DOMESTIC_BANDS if rating >= low), "G")


def building_band(rating: int) -> str:
    return next((band for band, _, high in BUILDING_BANDS if rating <= high), "G")


@dataclass(frozen=True, eq=False)
class Certificate:
    """One certificate the double holds. `document` is what `/api/certificate` serves now (after
    any `uprn_updated`), `lodged` the document as first registered. `report` marks a
    recommendation report (CEPC-RR / DEC-RR), reached through its parent's `related_rrn`."""

    certificate_number: str
    kind: str
    registration_date: date
    sample: str
    schema_type: str
    council: str
    constituency: str
    document: dict[str, Any]
    lodged: dict[str, Any]
    related_rrn: str | None = None
    report: bool = False
    removed: bool = False
    published: date | None = None  # the first day it is served (None: the day after registration)
    event: Event | None = None

    def shown_on(self, day: date) -> Certificate | None:
        """The certificate as the service shows it on `day`: None before it is published or once
        it is removed; the UPRN update applied once it happened."""
        if (self.published or self.registration_date + timedelta(1)) > day:
            return None
        if self.event is None or self.event.timestamp < datetime.combine(day, datetime.min.time(), UTC):
            return None if self.removed else self
        return _replace(self, document=self.lodged, removed=False)


@dataclass(frozen=True)
class Event:
    certificate_number: str
    event_type: str
    timestamp: datetime
    new_uprn: int | None = None

    def as_json(self) -> dict[str, str]:
        """The `/api/deltas` row."""
        stamp = self.timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return {
            "certificateNumber": self.certificate_number,
            "eventType": self.event_type,
            "timestamp": stamp,
        }


@dataclass
class _State:
    by_number: dict[str, Certificate] = field(default_factory=dict)
    served: dict[str, list[Certificate]] = field(default_factory=dict)  # API order, removed left out
    dates: dict[str, list[date]] = field(default_factory=dict)  # registration dates of `served`
    every: dict[str, list[Certificate]] = field(default_factory=dict)  # removed ones too
    every_dates: dict[str, list[date]] = field(default_factory=dict)  # registration dates of `every`
    reports: dict[str, list[Certificate]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


def search_summary(cert: Certificate) -> dict[str, Any]:
    """The certificate's row in `/api/{kind}/search`, keys in the service's order."""
    doc = cert.document
    row: dict[str, Any] = {"certificateNumber": cert.certificate_number}
    for i in range(1, 5):
        row[f"addressLine{i}"] = doc.get(f"address_line_{i}")
    row |= {
        "postcode": doc.get("postcode"),
        "postTown": doc.get("post_town"),
        "council": cert.council,
        "constituency": cert.constituency,
        "currentEnergyEfficiencyBand": doc.get("current_energy_efficiency_band"),
        "registrationDate": cert.registration_date.isoformat(),
        "uprn": doc.get("uprn"),
        "schemaType": cert.schema_type,
    }
    if cert.kind != "domestic":
        row["relatedRrn"] = cert.related_rrn
    return row


def floor_area(doc: dict[str, Any]) -> float | None:
    """The floor area wherever the document's schema keeps it."""
    if "total_floor_area" in doc:
        return doc["total_floor_area"]
    if isinstance(doc.get("technical_information"), dict) and "floor_area" in doc["technical_information"]:
        return doc["technical_information"]["floor_area"]
    dims = _floor_dimensions(doc)
    return round(sum(d["total_floor_area"] for d in dims), 2) if dims else None


def current_rating(doc: dict[str, Any]) -> int | None:
    """SAP rating (domestic), asset rating (CEPC) or operational rating (DEC)."""
    if "energy_rating_current" in doc:
        return doc["energy_rating_current"]
    if "asset_rating" in doc:
        return doc["asset_rating"]
    return (doc.get("this_assessment") or {}).get("energy_rating")


def _floor_dimensions(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        dim
        for part in doc.get("sap_building_parts") or []
        for dim in part.get("sap_floor_dimensions") or []
        if isinstance(dim.get("total_floor_area"), int | float)
    ]


class Dataset:
    """What the double serves. `per_day` maps kind → certificates per day (±1, deterministic)."""

    def __init__(
        self,
        seed: int = 7,
        start: date | str = date(2025, 1, 1),
        end: date | str = date(2025, 3, 31),
        per_day: dict[str, int] | None = None,
        delta_rate: float = 0.04,
        late_share: float = 0.0,
    ) -> None:
        self.seed = seed
        self.start, self.end = _as_date(start), _as_date(end)
        self.per_day = (
            dict(per_day) if per_day is not None else {"domestic": 6, "non-domestic": 2, "display": 1}
        )
        self.delta_rate = delta_rate
        self.late_share = late_share
        self._state: _State | None = None
        self._lock = threading.Lock()

    # --- counts and look-ups --------------------------------------------------------------
    def days(self) -> list[date]:
        return [self.start + timedelta(n) for n in range((self.end - self.start).days + 1)]

    def registered_on(self, kind: str, day: date) -> int:
        """How many certificates of `kind` were registered on `day` (removed ones included)."""
        base = self.per_day.get(kind, 0)
        if base <= 0 or not self.start <= day <= self.end:
            return 0
        return max(0, base + _seed(self.seed, "count", kind, day) % 3 - 1)

    def certificates(
        self,
        kind: str,
        date_start: date | str | None = None,
        date_end: date | str | None = None,
        as_of: date | None = None,
    ) -> list[Certificate]:
        """Certificates served for `kind` registered in [date_start, date_end], in API order
        (registration date, then number): on day `as_of`, or in the final state (removed ones left
        out)."""
        state = self.state
        low = _as_date(date_start) if date_start else date.min
        high = _as_date(date_end) if date_end else date.max
        if as_of is None:
            dates = state.dates[kind]
            return state.served[kind][bisect.bisect_left(dates, low) : bisect.bisect_right(dates, high)]
        dates = state.every_dates[kind]
        listed = state.every[kind][bisect.bisect_left(dates, low) : bisect.bisect_right(dates, high)]
        return [shown for cert in listed if (shown := cert.shown_on(as_of)) is not None]

    def documents(
        self,
        kind: str,
        date_start: date | str | None = None,
        date_end: date | str | None = None,
        as_of: date | None = None,
    ) -> list[dict[str, Any]]:
        """The full documents of `certificates(...)`, same order."""
        return [c.document for c in self.certificates(kind, date_start, date_end, as_of)]

    def count(
        self,
        kind: str,
        date_start: date | str | None = None,
        date_end: date | str | None = None,
        as_of: date | None = None,
    ) -> int:
        return len(self.certificates(kind, date_start, date_end, as_of))

    def certificate(self, certificate_number: str) -> Certificate | None:
        """Any certificate or report by number, removed ones included (see `.removed`)."""
        return self.state.by_number.get(certificate_number)

    def document(self, certificate_number: str, as_of: date | None = None) -> dict[str, Any] | None:
        """What `/api/certificate` serves for the number (on day `as_of`, or in the final state):
        None if unknown, not published yet or removed."""
        cert = self.certificate(certificate_number)
        if cert is not None and as_of is not None:
            cert = cert.shown_on(as_of)
        return None if cert is None or cert.removed else cert.document

    def search_summary(self, cert: Certificate | str) -> dict[str, Any]:
        return search_summary(cert if isinstance(cert, Certificate) else self.state.by_number[cert])

    def all_certificates(self, kind: str) -> list[Certificate]:
        """Every certificate of `kind` ever registered, removed ones included, in API order."""
        return list(self.state.every[kind])

    def reports(self, kind: str) -> list[Certificate]:
        """Recommendation reports of non-domestic or display certificates, in API order."""
        return list(self.state.reports.get(kind, []))

    def events(self) -> list[Event]:
        return list(self.state.events)

    def deltas(self, date_start: date | str, date_end: date | str) -> list[dict[str, str]]:
        """`/api/deltas` rows: events from date_start 00:00 to date_end + 1 day 00:00, by time."""
        low = datetime.combine(_as_date(date_start), datetime.min.time(), UTC)
        high = datetime.combine(_as_date(date_end) + timedelta(1), datetime.min.time(), UTC)
        return [e.as_json() for e in self.state.events if low <= e.timestamp < high]

    def schema_types(self, kind: str) -> set[str]:
        return {c.schema_type for c in self.state.every[kind]}

    # --- generation -----------------------------------------------------------------------
    @property
    def state(self) -> _State:
        if self._state is None:
            with self._lock:
                if self._state is None:
                    self._state = self._build()
        return self._state

    def _build(self) -> _State:
        samples = load_samples()
        state = _State()
        taken: set[str] = set()
        made: dict[str, list[Certificate]] = {}
        pools: dict[str, int] = {}
        for kind in KINDS:
            counts = [(day, self.registered_on(kind, day)) for day in self.days()]
            pools[kind] = max(4, sum(n for _, n in counts) // 2)
            made[kind], state.reports[kind] = [], []
            index = 0
            for day, count in counts:
                for i in range(count):
                    rng = random.Random(_seed(self.seed, kind, day, i))
                    sample = samples[kind][index % len(samples[kind])]
                    index += 1
                    cert, report = self._certificate(rng, kind, sample, day, pools[kind], taken)
                    made[kind].append(cert)
                    if report is not None:
                        state.reports[kind].append(report)
        events = {e.certificate_number: e for e in self._events(made, pools)}
        for kind in KINDS:
            every = []
            for cert in made[kind]:
                event = events.get(cert.certificate_number)
                if event is not None and event.event_type == "removed":
                    cert = _replace(cert, removed=True, event=event)
                elif event is not None:
                    cert = _replace(cert, document=cert.lodged | {"uprn": event.new_uprn}, event=event)
                every.append(cert)
            every.sort(key=lambda c: (c.registration_date, c.certificate_number))
            state.reports[kind].sort(key=lambda c: (c.registration_date, c.certificate_number))
            state.every[kind] = every
            state.every_dates[kind] = [c.registration_date for c in every]
            state.served[kind] = [c for c in every if not c.removed]
            state.dates[kind] = [c.registration_date for c in state.served[kind]]
            for cert in every + state.reports[kind]:
                state.by_number[cert.certificate_number] = cert
        state.events = sorted(events.values(), key=lambda e: (e.timestamp, e.certificate_number))
        return state

    def _number(self, rng: random.Random, taken: set[str]) -> str:
        while True:
            number = "-".join(f"{rng.randrange(10**4):04d}" for _ in range(5))
            if number not in taken:
                taken.add(number)
                return number

    def _uprn(self, kind: str, pool: int, index: int) -> int:
        return 10_000_000 + _seed(self.seed, "uprn", kind, index % pool) % 99_990_000_000

    def _certificate(
        self, rng: random.Random, kind: str, sample: Sample, day: date, pool: int, taken: set[str]
    ) -> tuple[Certificate, Certificate | None]:
        council, _, constituency, _, town, outwards = rng.choice(PLACES)
        number = self._number(rng, taken)
        report_number = self._number(rng, taken) if sample.report is not None else None
        postcode = f"{rng.choice(outwards)} {rng.randint(1, 9)}{rng.choice(LETTERS)}{rng.choice(LETTERS)}"
        lines = self._address(rng, kind)
        roll = rng.random()
        uprn: int | str | None = self._uprn(kind, pool, rng.randrange(pool))
        if roll < 0.04:
            uprn = None
        elif roll < 0.08:
            uprn = "absent"
        clock = f"{rng.randint(7, 19):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        # drawn apart, so that the share of late arrivals leaves every other value as it was
        late = random.Random(_seed(self.seed, "late", number))
        published = day + timedelta(1 + (late.randint(1, 6) if late.random() < self.late_share else 0))

        def fill(doc: dict[str, Any]) -> dict[str, Any]:
            _move_dates(doc, day)
            doc["registration_date"] = day.isoformat()
            if "created_at" in doc:
                doc["created_at"] = f"{day.isoformat()} {clock}.000000"
            doc["postcode"], doc["post_town"] = postcode, town
            for i, line in enumerate(lines, start=1):
                if line:
                    doc[f"address_line_{i}"] = line
                else:
                    doc.pop(f"address_line_{i}", None)
            if uprn == "absent":
                doc.pop("uprn", None)
            else:
                doc["uprn"] = uprn
            return doc

        doc = fill(sample.document())
        (_domestic if kind == "domestic" else _non_domestic if kind == "non-domestic" else _display)(rng, doc)
        report = None
        if report_number is not None and sample.report is not None:
            report_doc = fill(sample.report.document())
            if "related_certificate_number" in report_doc:
                report_doc["related_certificate_number"] = number
            report = Certificate(
                report_number,
                kind,
                day,
                sample.report.path,
                sample.report.schema_type,
                council,
                constituency,
                report_doc,
                report_doc,
                related_rrn=number,
                report=True,
                published=published,
            )
        if "related_certificate_number" in doc:
            doc["related_certificate_number"] = report_number
        cert = Certificate(
            number,
            kind,
            day,
            sample.path,
            sample.schema_type,
            council,
            constituency,
            doc,
            doc,
            related_rrn=report_number,
            published=published,
        )
        return cert, report

    def _address(self, rng: random.Random, kind: str) -> list[str | None]:
        street = f"{rng.randint(1, 240)} {rng.choice(STREETS)}"
        locality = rng.choice((None, rng.choice(LOCALITIES)))  # half the addresses have one, as in v1
        roll = rng.random()
        if kind != "domestic" and roll < 0.5:
            return [rng.choice(BUSINESSES), street, locality, None]
        if roll < 0.15:
            return [f"Flat {rng.randint(1, 30)}", street, locality, None]
        if roll < 0.3:  # "42, Moria Mines Lane": the comma style of several samples
            return [street.replace(" ", ", ", 1), locality, None, None]
        return [street, locality, None, None]

    def _events(self, made: dict[str, list[Certificate]], pools: dict[str, int]) -> list[Event]:
        out = []
        last = datetime.combine(self.end + timedelta(1), datetime.min.time(), UTC)
        for kind in KINDS:
            for cert in made[kind]:
                rng = random.Random(_seed(self.seed, "event", cert.certificate_number))
                if rng.random() >= self.delta_rate:
                    continue
                # a late arrival changes only once it is published
                late = cert.published is not None and cert.published > cert.registration_date + timedelta(1)
                first = cert.published if late else cert.registration_date
                registered = datetime.combine(first, datetime.min.time(), UTC)
                window = min(timedelta(days=20), last - registered)
                if window.total_seconds() <= 3601:
                    continue
                seconds = rng.uniform(3600, window.total_seconds() - 1)
                stamp = registered + timedelta(seconds=seconds)
                stamp = stamp.replace(microsecond=stamp.microsecond // 1000 * 1000)
                if rng.random() < 0.4:
                    out.append(Event(cert.certificate_number, "removed", stamp))
                    continue
                old = cert.document.get("uprn")
                new = self._uprn(kind, pools[kind], rng.randrange(pools[kind]))
                while new == old:
                    new += 1
                out.append(Event(cert.certificate_number, "uprn_updated", stamp, new))
        return out


def _replace(cert: Certificate, **changes: Any) -> Certificate:
    values = {name: getattr(cert, name) for name in cert.__dataclass_fields__}
    return Certificate(**(values | changes))


def _move_dates(doc: dict[str, Any], day: date) -> None:
    """Move every top-level date (and those one level down) by the sample's registration → `day`."""
    delta = day - date.fromisoformat(doc["registration_date"])
    for holder in [doc, *(v for v in doc.values() if isinstance(v, dict))]:
        for key, value in holder.items():
            if key != "registration_date" and isinstance(value, str) and DATE.fullmatch(value):
                holder[key] = (date.fromisoformat(value) + delta).isoformat()


def _domestic(rng: random.Random, doc: dict[str, Any]) -> None:
    band = rng.choices("ABCDEFG", (2, 10, 30, 33, 15, 7, 3))[0]
    _, low, high = next(b for b in DOMESTIC_BANDS if b[0] == band)
    current = rng.randint(low, high)
    potential = min(100, current + rng.choice((0, 5, 10, 15, 20, 30)))
    doc["energy_rating_current"], doc["energy_rating_potential"] = current, potential
    doc["current_energy_efficiency_band"] = domestic_band(current)
    doc["potential_energy_efficiency_band"] = domestic_band(potential)
    area = rng.randint(25, 260) if rng.random() > 0.01 else rng.randint(800, 2000)
    if "total_floor_area" in doc:
        doc["total_floor_area"] = area if isinstance(doc["total_floor_area"], int) else float(area)
        return
    dims = _floor_dimensions(doc)
    total = sum(d["total_floor_area"] for d in dims)
    for dim in dims:
        dim["total_floor_area"] = round(dim["total_floor_area"] * area / total, 2)


def _building_rating(rng: random.Random, allow_a_plus: bool) -> tuple[int, str]:
    bands = [b for b in BUILDING_BANDS if allow_a_plus or b[0] != "A+"]
    weights = (1, 3, 10, 22, 30, 18, 9, 7)[-len(bands) :]
    band, low, high = rng.choices(bands, weights)[0]
    return rng.randint(low, high), band


def _non_domestic(rng: random.Random, doc: dict[str, Any]) -> None:
    rating, band = _building_rating(rng, allow_a_plus=True)
    doc["asset_rating"], doc["current_energy_efficiency_band"] = rating, band
    doc.setdefault("technical_information", {})["floor_area"] = rng.randint(40, 9000)


def _display(rng: random.Random, doc: dict[str, Any]) -> None:
    rating, band = _building_rating(rng, allow_a_plus=False)
    doc.setdefault("this_assessment", {})["energy_rating"] = rating
    doc["current_energy_efficiency_band"] = band
    area = rng.uniform(150, 15000)
    info = doc.setdefault("technical_information", {})
    info["floor_area"] = round(area, 1) if isinstance(info.get("floor_area"), float) else round(area)
