"""Deterministic, realistic v1 certificates and recommendations generated from a seed.

Every value is a string and missing values are `""`, as in the API. Rows carry the quirks of
epc-api.md section 2.6: sentinels (`NO DATA!`, `INVALID!`, `N/A`, `Not Defined`, Welsh `Dim`),
lower-case ratings, bare-year age bands, nonsense numbers, category drift, float-looking
strings, both LMK key forms, UPRNs shared by several certificates (some zero-padded to 12
digits, some missing). Rows are made on demand, so a month of 100k rows costs nothing until
asked for; counts are known in advance for tests.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import random
from dataclasses import dataclass, field

from tests.doubles.odc_v1 import fields

RATINGS = "ABCDEFG"
BAND_FLOOR = {"A": 92, "B": 81, "C": 69, "D": 55, "E": 39, "F": 21, "G": 1}
EFF_WORDS = ("Very Good", "Good", "Average", "Poor", "Very Poor")
PLACES = (
    # (local-authority, label, constituency, constituency label, county, posttown, outward codes)
    (
        "E09000033",
        "Westminster",
        "E14000639",
        "Cities of London and Westminster",
        "Greater London Authority",
        "Fulchester",
        ("FL23", "FL24", "SW1A"),
    ),
    ("E08000003", "Manchester", "E14000807", "Manchester Central", "", "Whitbury", ("M1", "M4", "M15")),
    ("W06000015", "Cardiff", "W07000050", "Cardiff Central", "", "Caerdydd", ("CF10", "CF24")),
    (
        "E07000223",
        "Adur",
        "E14000904",
        "East Worthing and Shoreham",
        "West Sussex",
        "Upper Wellgood",
        ("BN15", "BN43"),
    ),
    ("E06000047", "County Durham", "E14000658", "City of Durham", "", "Coketown", ("DH1", "DL14")),
)
STREETS = (
    "Acacia Avenue",
    "Lonely Street",
    "Station Road",
    "Church Lane",
    "Heol y Frenhines",
    "Mill Lane",
    "Victoria Terrace",
    "Park View",
)
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _w(*values: str, rare: tuple[str, ...] = ()) -> tuple[tuple[str, int], ...]:
    """Common values weighted 10, rare ones (sentinels, drift) weighted 1."""
    return tuple((v, 10) for v in values) + tuple((v, 1) for v in rare)


DOMESTIC_POOLS = {
    "property-type": _w("House", "Flat", "Bungalow", "Maisonette", rare=("Park home",)),
    "built-form": _w(
        "Detached",
        "Semi-Detached",
        "Mid-Terrace",
        "End-Terrace",
        rare=("Enclosed Mid-Terrace", "Enclosed End-Terrace", "NO DATA!"),
    ),
    "transaction-type": _w(
        "marketed sale",
        "rental (private)",
        "new dwelling",
        "rental",
        rare=(
            "Marketed sale",
            "non marketed sale",
            "non-marketed sale",
            "rental (social)",
            "ECO assessment",
            "FiT application",
            "assessment for green deal",
            "none of the above",
            "not recorded",
            "RHI application",
        ),
    ),
    "energy-tariff": _w(
        "Single",
        "dual",
        "Unknown",
        rare=("off-peak 7 hour", "standard tariff", "24 hour", "INVALID!", "NO DATA!"),
    ),
    "mains-gas-flag": _w("Y", "N", rare=("",)),
    "floor-level": _w(
        "Ground", "1st", "2nd", "", rare=("3rd", "mid floor", "top floor", "NODATA!", "00", "01")
    ),
    "glazed-type": _w(
        "double glazing installed before 2002",
        "double glazing installed during or after 2002",
        rare=(
            "single glazing",
            "double glazing, unknown install date",
            "triple glazing",
            "not defined",
            "INVALID!",
            "NO DATA!",
        ),
    ),
    "glazed-area": _w(
        "Normal", rare=("More Than Typical", "Less Than Typical", "Much More Than Typical", "NO DATA!")
    ),
    "hotwater-description": _w(
        "From main system",
        "Electric immersion, off-peak",
        rare=("Community scheme", "From main system, no cylinder thermostat", "O'r brif system"),
    ),
    "floor-description": _w(
        "Solid, no insulation (assumed)",
        "Suspended, no insulation (assumed)",
        "(other premises below)",
        rare=("(another dwelling below)", "Solet, dim inswleiddio (rhagdybiaeth)"),
    ),
    "windows-description": _w(
        "Fully double glazed", "Partial double glazing", rare=("Single glazed", "Gwydrau dwbl llawn")
    ),
    "walls-description": _w(
        "Cavity wall, filled cavity",
        "Solid brick, as built, no insulation (assumed)",
        "Cavity wall, as built, insulated (assumed)",
        rare=("Timber frame, as built, insulated (assumed)", "Waliau ceudod, wedi eu llenwi"),
    ),
    "secondheat-description": _w(
        "None",
        rare=(
            "Room heaters, electric",
            "Room heaters, mains gas",
            "Dim",
            "None|Dim",
            "Portable electric heaters (assumed)",
        ),
    ),
    "roof-description": _w(
        "Pitched, 270 mm loft insulation",
        "Pitched, 100 mm loft insulation",
        "(another dwelling above)",
        rare=("Flat, no insulation (assumed)", "Pitched, insulated (assumed)"),
    ),
    "mainheat-description": _w(
        "Boiler and radiators, mains gas",
        "Electric storage heaters",
        rare=(
            "Air source heat pump, radiators, electric",
            "Community scheme",
            "Boiler and radiators, oil",
            "Room heaters, electric",
        ),
    ),
    "mainheatcont-description": _w(
        "Programmer, room thermostat and TRVs",
        "Manual charge control",
        rare=(
            "Charging system linked to use of community heating, programmer and room thermostat",
            "Time and temperature zone control",
        ),
    ),
    "main-fuel": _w(
        "mains gas (not community)",
        "electricity (not community)",
        rare=(
            "mains gas (community)",
            "oil (not community)",
            "LPG (not community)",
            "To be used only when there is no heating/hot-water system",
            "INVALID!",
            "NO DATA!",
        ),
    ),
    "heat-loss-corridor": _w("NO DATA!", "no corridor", "", rare=("heated corridor", "unheated corridor")),
    "mechanical-ventilation": _w(
        "natural", rare=("mechanical, extract only", "mechanical, supply and extract", "NO DATA!")
    ),
    "construction-age-band": _w(
        *(
            f"England and Wales: {b}"
            for b in (
                "before 1900",
                "1900-1929",
                "1930-1949",
                "1950-1966",
                "1967-1975",
                "1976-1982",
                "1983-1990",
                "1991-1995",
                "1996-2002",
                "2003-2006",
                "2007 onwards",
            )
        ),
        rare=("England and Wales: 2012 onwards", "2015", "1750", "NO DATA!", "INVALID!", ""),
    ),
    "tenure": _w(
        "owner-occupied",
        "rental (private)",
        "rental (social)",
        rare=(
            "Owner-occupied",
            "Rented (private)",
            "Rented (social)",
            "unknown",
            "Not defined - use in the case of a new dwelling for which the intended "
            "tenure in not known. It is not to be used for an existing dwelling",
            "NO DATA!",
        ),
    ),
    "uprn-source": _w("Address Matched", rare=("Energy Assessor",)),
    "lighting-description": _w(
        "Low energy lighting in all fixed outlets",
        "Low energy lighting in 50% of fixed outlets",
        rare=("No low energy lighting",),
    ),
}

NON_DOMESTIC_POOLS = {
    "property-type": _w(
        "B1 Offices and Workshop businesses",
        "A1/A2 Retail and Financial/Professional services",
        "Retail/Financial and Professional services",
        rare=(
            "D1 Non-residential Institutions - Education",
            "C1 Hotels",
            "B8 Storage or Distribution",
            "General Industrial and Special Industrial Groups",
        ),
    ),
    "transaction-type": _w(
        "Mandatory issue (Marketed sale)",
        "Mandatory issue (Property to let)",
        rare=(
            "Mandatory issue (Property on construction)",
            "Voluntary re-issue (A valid EPC is already lodged)",
            "Voluntary (No legal requirement for an EPC)",
            "Not recorded",
        ),
    ),
    "main-heating-fuel": _w(
        "Natural Gas", "Grid Supplied Electricity", rare=("Oil", "LPG", "Biomass", "District Heating", "")
    ),
    "building-environment": _w(
        "Air Conditioning",
        "Heating and Natural Ventilation",
        rare=(
            "Mixed-mode with Natural Ventilation",
            "Heating and Mechanical Ventilation",
            "Mixed-mode with Mechanical Ventilation",
        ),
    ),
    "aircon-present": _w("Y", "N", rare=("",)),
    "uprn-source": _w("Address Matched", rare=("Energy Assessor",)),
}

DOMESTIC_IMPROVEMENTS = (
    ("5.0", "Increase loft insulation to 270 mm", "£100 - £350"),
    ("47.0", "Floor insulation", "£800 - £1,200"),
    ("35.0", "Low energy lighting for all fixed outlets", "£45"),
    ("6.0", "Cavity wall insulation", "£500 - £1,500"),
    ("34.0", "Solar photovoltaic panels, 2.5 kWp", "£5,000 - £8,000"),
    ("19.0", "Solar water heating", "£4,000 - £6,000"),
    ("1.0", "Insulate hot water cylinder with 80 mm jacket", "2000"),
    ("", "Replace boiler with new condensing boiler", ""),
)
NON_DOMESTIC_IMPROVEMENTS = (
    ("ECP-L5", "Consider replacing T8 lamps with retrofit T5 conversion kit."),
    ("ECP-L5", "Introduce HF (high frequency) ballasts for fluorescent tubes."),
    ("EPC-H7", "Add optimum start/stop to the heating system."),
    ("EPC-W1", "Some windows have high U-values - consider installing secondary glazing."),
    ("EPC-R3", "Consider installing building mounted wind turbine(s)."),
)


def month_span(start: str, end: str) -> list[str]:
    """Months `YYYY-MM` from start to end inclusive."""
    y, m = map(int, start.split("-"))
    ey, em = map(int, end.split("-"))
    out = []
    while (y, m) <= (ey, em):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _seed(*parts: object) -> int:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@dataclass(frozen=True)
class Dataset:
    """What the double serves: `rows_per_month[kind]` certificates (±40 %) in every month from
    `start` to `end`, except `empty_months`, which have none."""

    seed: int = 7
    start: str = "2023-01"
    end: str = "2024-12"
    rows_per_month: dict[str, int] = field(default_factory=lambda: {"domestic": 40, "non-domestic": 12})
    empty_months: frozenset[str] = frozenset({"2023-06"})

    def __hash__(self) -> int:
        return hash(
            (self.seed, self.start, self.end, tuple(sorted(self.rows_per_month.items())), self.empty_months)
        )

    # --- counts -------------------------------------------------------------------------
    def months(self) -> list[str]:
        return month_span(self.start, self.end)

    def count(self, kind: str, month: str) -> int:
        """Number of certificates of `kind` lodged in `month`."""
        if month in self.empty_months or not (self.start <= month <= self.end):
            return 0
        base = self.rows_per_month.get(kind, 0)
        jitter = 0.6 + 0.8 * (_seed(self.seed, "count", kind, month) % 1000) / 1000
        return max(1, round(base * jitter)) if base else 0

    def recommendation_count(self, kind: str, lmk_key: str) -> int:
        """Recommendations of one certificate: none for about one in five."""
        h = _seed(self.seed, "recs", kind, lmk_key)
        return 0 if h % 5 == 0 else 1 + h % 7

    # --- rows ---------------------------------------------------------------------------
    def rows(self, kind: str, month: str) -> tuple[dict[str, str], ...]:
        """The month's certificates in API order: lodgement datetime, then key."""
        return self._rows(kind, month) if self.count(kind, month) else ()

    @functools.lru_cache(maxsize=64)  # noqa: B019 - the dataset is immutable and long-lived
    def _rows(self, kind: str, month: str) -> tuple[dict[str, str], ...]:
        made = [self._row(kind, month, i) for i in range(self.count(kind, month))]
        made.sort(key=lambda r: (r["lodgement-datetime"], r["lmk-key"]))
        return tuple(made)

    @functools.lru_cache(maxsize=4)  # noqa: B019
    def key_index(self, kind: str) -> dict[str, tuple[str, int]]:
        """LMK key → (month, position in `rows`)."""
        index = {}
        for month in self.months():
            for pos, row in enumerate(self.rows(kind, month)):
                index[row["lmk-key"]] = (month, pos)
        return index

    def certificate(self, kind: str, lmk_key: str) -> dict[str, str] | None:
        hit = self.key_index(kind).get(lmk_key)
        return self.rows(kind, hit[0])[hit[1]] if hit else None

    def recommendations(self, kind: str, lmk_key: str) -> list[dict[str, str]]:
        n = self.recommendation_count(kind, lmk_key)
        rng = random.Random(_seed(self.seed, "rec-rows", kind, lmk_key))
        out = []
        for item in range(1, n + 1):
            if kind == "domestic":
                imp_id, text, cost = rng.choice(DOMESTIC_IMPROVEMENTS)
                values = (lmk_key, str(item), text, text, imp_id, "", cost)
                out.append(dict(zip(fields.DOMESTIC_RECOMMENDATIONS, values, strict=True)))
            else:
                code, text = rng.choice(NON_DOMESTIC_IMPROVEMENTS)
                payback = rng.choice(("short", "medium", "long", "other"))
                impact = rng.choice(("HIGH", "MEDIUM", "LOW"))
                values = (lmk_key, payback, str(item), code, text, impact)
                out.append(dict(zip(fields.NON_DOMESTIC_RECOMMENDATIONS, values, strict=True)))
        return out

    # --- one row ------------------------------------------------------------------------
    def _row(self, kind: str, month: str, i: int) -> dict[str, str]:
        rng = random.Random(_seed(self.seed, kind, month, i))
        year, mon = map(int, month.split("-"))
        day = rng.randint(1, calendar.monthrange(year, mon)[1])
        clock = f"{rng.randint(7, 19):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        lodged = f"{month}-{day:02d}"
        common = self._common(rng, kind, month, i, lodged, clock)
        specific = (self._domestic if kind == "domestic" else self._non_domestic)(rng)
        row = common | specific
        return {name: row.get(name, "") for name in fields.CERTIFICATES[kind]}

    def _lmk_key(self, rng: random.Random, month: str, lodged: str, clock: str) -> str:
        if month < "2020-10":  # Landmark-era keys: long digit strings with the lodgement time
            stamp = lodged.replace("-", "") + clock.replace(":", "")
            return f"{rng.randrange(10**11, 10**12)}{stamp}{rng.randrange(10**7, 10**8)}"
        rrn = "-".join(f"{rng.randrange(10**4):04d}" for _ in range(5))
        parts = rrn.split("-")  # the register's hash_rrn: last group first, second appended
        return hashlib.sha256("".join(parts[4:] + parts[:4] + parts[1:2]).encode()).hexdigest()

    @functools.lru_cache(maxsize=4)  # noqa: B019
    def _uprn_pool(self, kind: str) -> int:
        """Half as many UPRNs as certificates, so that properties carry several certificates."""
        return max(10, sum(self.count(kind, m) for m in self.months()) // 2)

    def _uprn(self, rng: random.Random, kind: str) -> str:
        roll = rng.random()
        if roll < 0.08:
            return ""
        pool = rng.randrange(self._uprn_pool(kind))
        uprn = str(10_000_000 + _seed(self.seed, "uprn", kind, pool) % 90_000_000)
        return uprn.zfill(12) if roll > 0.9 else uprn

    def _common(
        self, rng: random.Random, kind: str, month: str, i: int, lodged: str, clock: str
    ) -> dict[str, str]:
        la, la_label, con, con_label, county, town, outwards = rng.choice(PLACES)
        postcode = f"{rng.choice(outwards)} {rng.randint(1, 9)}{rng.choice(LETTERS)}{rng.choice(LETTERS)}"
        address1 = f"{rng.randint(1, 240)} {rng.choice(STREETS)}"
        address2 = rng.choice(("", "", "Upper Wellgood", "Flat 3"))
        address = ", ".join(p for p in (address1, address2, town, postcode) if p)
        year, mon, day = map(int, lodged.split("-"))
        inspected = (
            f"{year:04d}-{mon:02d}-{max(1, day - rng.randint(0, 20)):02d}"
            if rng.random() > 0.02
            else f"{year + 1:04d}-{mon:02d}-01"  # lodged before inspection: a known oddity
        )
        uprn = self._uprn(rng, kind)
        return {
            "lmk-key": self._lmk_key(rng, month, lodged, clock),
            "address1": address1,
            "address2": address2,
            "postcode": postcode,
            "building-reference-number": str(rng.randrange(10**9, 10**11)),
            "inspection-date": inspected,
            "local-authority": la,
            "constituency": con,
            "county": county,
            "lodgement-date": lodged,
            "address": address,
            "local-authority-label": la_label,
            "constituency-label": con_label,
            "posttown": town,
            "lodgement-datetime": f"{lodged} {clock}",
            "uprn": uprn,
            "uprn-source": _pick(rng, DOMESTIC_POOLS["uprn-source"]) if uprn else "",
        }

    def _domestic(self, rng: random.Random) -> dict[str, str]:
        row = {name: _pick(rng, pool) for name, pool in DOMESTIC_POOLS.items() if name != "uprn-source"}
        current = rng.choices(RATINGS, (2, 8, 25, 35, 18, 8, 4))[0]
        potential = RATINGS[max(0, RATINGS.index(current) - rng.randint(0, 3))]
        cur_eff = BAND_FLOOR[current] + rng.randint(0, 10)
        pot_eff = max(cur_eff, BAND_FLOOR[potential] + rng.randint(0, 10))
        area = rng.uniform(25, 260)
        roll = rng.random()
        if roll < 0.01:
            area = 0.0  # nonsense areas occur
        elif roll < 0.015:
            area = 98765.0
        co2 = round(area * rng.uniform(0.02, 0.09), 1) * (-1 if rng.random() < 0.005 else 1)
        low_energy = rng.choice((0, 25, 50, 75, 100, 100, 100))
        if rng.random() < 0.01:
            low_energy = rng.choice((-5, 120))
        flat = rng.random() < 0.3
        row.update(
            {
                "current-energy-rating": current.lower() if rng.random() < 0.05 else current,
                "potential-energy-rating": "INVALID!" if rng.random() < 0.005 else potential,
                "current-energy-efficiency": str(min(cur_eff, 100)),
                "potential-energy-efficiency": str(min(pot_eff, 100)),
                "environment-impact-current": str(max(1, cur_eff - rng.randint(0, 15))),
                "environment-impact-potential": str(min(100, pot_eff + rng.randint(0, 5))),
                "energy-consumption-current": str(rng.randint(60, 450)),
                "energy-consumption-potential": str(rng.randint(30, 250)),
                "co2-emissions-current": f"{co2:.1f}",
                "co2-emiss-curr-per-floor-area": str(rng.randint(10, 90)),
                "co2-emissions-potential": f"{abs(co2) * 0.6:.1f}",
                "lighting-cost-current": str(rng.randint(40, 150)),
                "lighting-cost-potential": str(rng.randint(30, 90)),
                "heating-cost-current": str(rng.randint(300, 2200)),
                "heating-cost-potential": str(rng.randint(250, 1500)),
                "hot-water-cost-current": str(rng.randint(60, 300)),
                "hot-water-cost-potential": str(rng.randint(50, 200)),
                "total-floor-area": f"{area:.1f}" if rng.random() < 0.5 else f"{area:.2f}",
                "flat-top-storey": rng.choice(("Y", "N")) if flat else "",
                "flat-storey-count": f"{rng.randint(2, 12)}.0" if flat else "",
                "main-heating-controls": rng.choice(("2106", "2309", "2104", "2402", "")),
                "multi-glaze-proportion": rng.choice(("100", "100", "0", "50", "")),
                "extension-count": str(rng.randint(0, 3)),
                "number-habitable-rooms": str(rng.randint(1, 9)),
                "number-heated-rooms": rng.choice((str(rng.randint(1, 9)), "")),
                "low-energy-lighting": str(low_energy),
                "number-open-fireplaces": str(rng.choice((0, 0, 0, 1, 2))),
                "wind-turbine-count": rng.choice(("0", "0", "1", "")),
                "unheated-corridor-length": rng.choice(("", "", f"{rng.uniform(1, 12):.2f}")),
                "floor-height": rng.choice(("2.45", "2.833", "3.0", "2.4", "")),
                "photo-supply": rng.choice(("", "0.0", "0", "25.0")),
                "solar-water-heating-flag": rng.choice(("N", "N", "Y", "")),
                "fixed-lighting-outlets-count": rng.choice(("", str(rng.randint(4, 30)))),
                "low-energy-fixed-light-count": rng.choice(("", str(rng.randint(0, 20)))),
                "address3": "",
            }
        )
        for part in (
            "hot-water",
            "floor",
            "windows",
            "walls",
            "sheating",
            "roof",
            "mainheat",
            "mainheatc",
            "lighting",
        ):
            na = part in ("floor", "sheating", "roof") and rng.random() < 0.4
            row[f"{part}-energy-eff"] = "N/A" if na else rng.choice(EFF_WORDS)
            row[f"{part}-env-eff"] = "N/A" if na else rng.choice(EFF_WORDS)
        if rng.random() < 0.03:
            row["floor-energy-eff"] = "NO DATA!"
        return row

    def _non_domestic(self, rng: random.Random) -> dict[str, str]:
        row = {name: _pick(rng, pool) for name, pool in NON_DOMESTIC_POOLS.items() if name != "uprn-source"}
        band = rng.choices(("A+", "A", "B", "C", "D", "E", "F", "G"), (1, 2, 8, 20, 30, 20, 10, 6))[0]
        rating = {"A+": -5, "A": 15, "B": 40, "C": 60, "D": 85, "E": 110, "F": 135, "G": 160}[band]
        aircon = row["aircon-present"] == "Y"
        row.update(
            {
                "asset-rating": str(rating + rng.randint(0, 20)),
                "asset-rating-band": band.lower() if rng.random() < 0.1 else band,
                "new-build-benchmark": str(rng.randint(15, 60)),
                "existing-stock-benchmark": str(rng.randint(50, 130)),
                "building-level": rng.choice(("3", "4", "5")),
                "other-fuel-desc": rng.choice(("", "", "Test")),
                "special-energy-uses": rng.choice(("", "", "Test sp")),
                "renewable-sources": rng.choice(("", "", "Renewable sources test")),
                "floor-area": str(rng.randint(40, 9000)),
                "standard-emissions": f"{rng.uniform(10, 90):.2f}",
                "target-emissions": f"{rng.uniform(10, 60):.2f}",
                "typical-emissions": f"{rng.uniform(20, 120):.2f}",
                "building-emissions": f"{rng.uniform(10, 150):.2f}",
                "aircon-kw-rating": str(rng.randint(5, 400)) if aircon else "",
                "estimated-aircon-kw-rating": str(rng.randint(1, 20)) if aircon else "",
                "ac-inspection-commissioned": rng.choice(("1", "2", "3", "4", "")),
                "primary-energy-value": f"{rng.uniform(50, 900):.2f}",
                "address3": rng.choice(("", "Some Area")),
            }
        )
        return row
