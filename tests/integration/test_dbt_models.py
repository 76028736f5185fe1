"""The dbt project built for real (dbt-duckdb) over what the extractor landed from the v1 double."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.doubles.odc_v1 import Dataset, OdcV1Double
from tests.support import LOOPBACK_ENV, ROOT, Warehouse, implausible_only

WINDOW = ["--start", "2023-04", "--end", "2023-07"]
MONTHS = ["2023-04", "2023-05", "2023-06", "2023-07"]
KINDS = ("domestic", "non-domestic")
DBT = str(Path(sys.executable).with_name("dbt"))


def dbt(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run([DBT, *args, "--no-use-colors"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:]
    return done


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    """Extract four months of both kinds with recommendations, then `dbt build` once."""
    data = Dataset(
        seed=23, start="2023-01", end="2023-12", rows_per_month={"domestic": 30, "non-domestic": 10}
    )
    work = tmp_path_factory.mktemp("dbt")
    profiles = work / "profiles"
    profiles.mkdir()
    shutil.copy(ROOT / "profiles.example.yml", profiles / "profiles.yml")
    with OdcV1Double(data) as api:
        env = {
            **os.environ,
            **LOOPBACK_ENV,
            "EPC_EMAIL": api.email,
            "EPC_API_KEY": api.api_key,
            "EPC_API_BASE_URL": api.base_url,
            "DATA_DIR": str(work / "data"),
            "DBT_PROFILES_DIR": str(profiles),
            "DBT_TARGET_PATH": str(work / "target"),
            "DBT_LOG_PATH": str(work / "logs"),
        }
        extract = subprocess.run(
            [sys.executable, "-m", "extract", *WINDOW, "--with-recs"], cwd=ROOT, env=env, capture_output=True
        )
        assert extract.returncode == 0, extract.stderr
        first = dbt(["build"], env)
        yield data, api, env, Warehouse(work / "data"), first


def certificates(data: Dataset, kind: str, months: list[str] = MONTHS) -> list[dict[str, str]]:
    return [row for month in months for row in data.rows(kind, month)]


def property_key(row: dict[str, str]) -> str:
    """The documented property key, computed independently of the SQL."""
    uprn = row["uprn"].lstrip("0")
    if uprn:
        return f"uprn:{uprn}"

    def squash(text: str) -> str:
        return re.sub(r"[^A-Z0-9]+", "", text.upper())

    address = squash(" ".join(row[k] for k in ("address1", "address2", "address3") if row[k]))
    if row["postcode"] and address:
        return f"address:{squash(row['postcode'])}:{address}"
    return f"certificate:{row['lmk-key']}"


def test_build_passes_every_data_and_unit_test(built):
    *_, first = built
    summary = first.stdout.strip().splitlines()[-1]
    assert re.search(r"PASS=(\d+) WARN=\d+ ERROR=0 SKIP=0", summary), summary
    assert implausible_only(first.stdout), first.stdout
    declared = sum(
        len(yaml.safe_load(path.read_text()).get("unit_tests") or [])
        for path in (ROOT / "dbt_project" / "models").rglob("*.yml")
    )
    assert declared >= 7 and f"{declared} unit tests" in first.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_latest_by_lmk_has_one_row_per_certificate(built, kind):
    data, _, _, warehouse, _ = built
    slug = kind.replace("-", "_")
    expected = {row["lmk-key"] for row in certificates(data, kind)}
    rows = warehouse.query(f"select lmk_key from {{ds}}.enr_{slug}_latest_by_lmk")
    assert sorted(r[0] for r in rows) == sorted(expected)
    assert warehouse.count(f"enr_{slug}_certificates_v") == len(expected)


@pytest.mark.parametrize("kind", KINDS)
def test_latest_by_uprn_keeps_the_latest_certificate_of_each_property(built, kind):
    data, _, _, warehouse, _ = built
    slug = kind.replace("-", "_")

    def recency(row: dict[str, str]) -> tuple[str, str, str]:
        return row["lodgement-date"], row["lodgement-datetime"], row["lmk-key"]

    latest: dict[str, dict[str, str]] = {}
    for row in certificates(data, kind):
        key = property_key(row)
        if key not in latest or recency(row) > recency(latest[key]):
            latest[key] = row
    rows = dict(warehouse.query(f"select property_key, lmk_key from {{ds}}.enr_{slug}_latest_by_uprn"))
    assert rows == {key: row["lmk-key"] for key, row in latest.items()}
    assert any(key.startswith("address:") for key in rows)  # certificates without a UPRN are kept


def test_recommendations_and_the_combined_view(built):
    data, _, _, warehouse, _ = built
    for kind in KINDS:
        slug = kind.replace("-", "_")
        expected = sum(len(data.recommendations(kind, row["lmk-key"])) for row in certificates(data, kind))
        assert warehouse.count(f"enr_{slug}_recommendations_v") == expected
    combined = warehouse.query(
        "select certificate_kind, count(*), sum(recommendation_count), count(recommendations) "
        "from {ds}.enr_combined_certs_with_recs_v group by 1 order by 1"
    )
    for kind, count, recs, with_text in combined:
        rows = certificates(data, kind)
        assert count == len(rows)
        assert recs == sum(len(data.recommendations(kind, r["lmk-key"])) for r in rows)
        assert with_text == sum(1 for r in rows if data.recommendations(kind, r["lmk-key"]))


def test_sentinels_are_null_and_ratings_clean_in_the_marts(built):
    *_, warehouse, _ = built
    ratings = {
        r[0]
        for r in warehouse.query(
            "select distinct current_energy_rating from {ds}.enr_domestic_certificates_v"
        )
    }
    assert ratings <= set("ABCDEFG") | {None}
    sentinels = warehouse.query(
        "select count(*) from {ds}.enr_domestic_certificates_v where built_form in ('NO DATA!', '')"
        " or floor_energy_eff = 'N/A' or secondary_heating_description in ('Dim', 'None|Dim')"
    )
    assert sentinels == [(0,)]
    data = built[0]
    source = {r["lmk-key"]: r["asset-rating-band"] for r in certificates(data, "non-domestic")}
    assert any(band.islower() for band in source.values())  # the register's lower-case bands
    bands = dict(
        warehouse.query("select lmk_key, asset_rating_band from {ds}.enr_non_domestic_certificates_v")
    )
    assert bands == {key: band.upper() for key, band in source.items()}


def test_next_month_builds_incrementally_and_lands_in_the_marts(built):
    data, _, env, warehouse, _ = built
    before = warehouse.query("select max(load_id) from {ds}.int_certificates__domestic_unioned")[0][0]
    extract = subprocess.run(
        [sys.executable, "-m", "extract", "--kinds", "domestic", "--start", "2023-08", "--end", "2023-08"],
        cwd=ROOT, env=env, capture_output=True,
    )  # fmt: skip
    assert extract.returncode == 0, extract.stderr
    second = dbt(["build", "--select", "tag:domestic"], env)
    assert "non_domestic" not in second.stdout  # one kind only
    expected = len(certificates(data, "domestic", [*MONTHS, "2023-08"]))
    assert warehouse.count("enr_domestic_latest_by_lmk") == expected
    new_rows = warehouse.query(
        f"select count(*) from {{ds}}.int_certificates__domestic_unioned where load_id > '{before}'"
    )
    assert new_rows == [(len(certificates(data, "domestic", ["2023-08"])),)]  # only the new month was read
