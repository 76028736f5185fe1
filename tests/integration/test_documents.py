"""The documents for retrieval (enr_property_documents) and their search (python -m extract.search),
built for real: both doubles landed by the extractor (v1 domestic and non-domestic certificates
with recommendations, the live service's three kinds with theirs), then `dbt build`."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from extract.search import Index
from tests.doubles import mhclg, odc_v1
from tests.integration.test_dbt_models import dbt
from tests.support import ROOT, Warehouse, dbt_env, pinned_command

TOKEN = "documents-token"
DAY = date(2026, 3, 10)
KINDS = {"domestic": "domestic", "non-domestic": "non_domestic", "display": "display"}
DOCUMENT = (
    "select document_id, kind, property_key, certificate_id, source_system, title, content, content_hash, "
    "updated_at from {ds}.enr_property_documents"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("documents")
    env = dbt_env(work)
    v1 = odc_v1.Dataset(
        seed=29, start="2025-10", end="2025-12", rows_per_month={"domestic": 25, "non-domestic": 8}
    )
    live = mhclg.Dataset(
        seed=31, start=DAY - timedelta(20), end=DAY - timedelta(1),
        per_day={"domestic": 3, "non-domestic": 1, "display": 1},
    )  # fmt: skip
    with odc_v1.OdcV1Double(v1) as old, mhclg.MhclgDouble(live, token=TOKEN, today=DAY) as new:
        history = {"EPC_EMAIL": old.email, "EPC_API_KEY": old.api_key, "EPC_API_BASE_URL": old.base_url}
        args = ["--source", "odc", "--kinds", "domestic,non-domestic", "--with-recs", "--start", "2025-10",
                "--end", "2025-12"]  # fmt: skip
        done = subprocess.run(
            pinned_command(DAY, "extract", args),
            cwd=ROOT,
            env={**env, **history},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        current = {**env, "EPC_API_TOKEN": TOKEN, "EPC_API_BASE_URL": new.base_url, "START_YEAR": "2026"}
        args = ["--kinds", "domestic,non-domestic,display", "--start", "2026-02"]
        done = subprocess.run(
            pinned_command(DAY, "extract", args), cwd=ROOT, env=current, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    build = dbt(["build"], env)
    yield work, env, Warehouse(work / "data"), build


def documents(warehouse: Warehouse) -> dict[str, dict]:
    names = ["document_id", "kind", "property_key", "certificate_id", "source_system", "title", "content",
             "content_hash", "updated_at"]  # fmt: skip
    return {row[0]: dict(zip(names, row, strict=True)) for row in warehouse.query(DOCUMENT)}


def latest(warehouse: Warehouse) -> dict[tuple[str, str], dict]:
    """Each kind's latest certificate of each property: (kind, property_key) → its columns."""
    found = {}
    for kind, slug in KINDS.items():
        columns = [c for c, *_ in warehouse.columns(f"enr_{slug}_latest_by_uprn")]
        for row in warehouse.query(f"select * from {{ds}}.enr_{slug}_latest_by_uprn"):
            record = dict(zip(columns, row, strict=True))
            found[kind, record["property_key"]] = record
    return found


def recommendations(warehouse: Warehouse) -> dict[str, list[str]]:
    """certificate_id → the text of each of its recommendations."""
    found: dict[str, list[str]] = {}
    sql = (
        "select certificate_id, coalesce(improvement_summary_text, improvement_descr_text) "
        "from {ds}.int_recommendations__domestic_unioned "
        "union all select certificate_id, recommendation from {ds}.int_recommendations__non_domestic_unioned "
        "union all select certificate_id, recommendation from {ds}.int_recommendations__display_unioned"
    )
    for certificate_id, text in warehouse.query(sql):
        found.setdefault(certificate_id, []).append(text)
    return found


def test_one_document_per_property_and_kind_from_its_latest_certificate(built):
    _, _, warehouse, build = built
    assert "enr_property_documents" in build.stdout and "documents_keep_addresses_out" in build.stdout
    docs, properties = documents(warehouse), latest(warehouse)
    assert {k for k, _ in properties} == set(KINDS)  # every kind is there
    assert sorted((d["kind"], d["property_key"]) for d in docs.values()) == sorted(properties)
    for doc in docs.values():
        record = properties[doc["kind"], doc["property_key"]]
        assert doc["certificate_id"] == record["certificate_id"]
        key = f"{doc['kind']}|{doc['property_key']}".encode()
        assert doc["document_id"] == hashlib.md5(key).hexdigest()  # stable, and no address in it
        assert doc["content_hash"] == hashlib.md5(doc["content"].encode()).hexdigest()


def test_a_document_says_what_its_certificate_says(built):
    _, _, warehouse, _ = built
    docs, properties, recs = documents(warehouse), latest(warehouse), recommendations(warehouse)
    checked = 0
    for doc in docs.values():
        record, text = properties[doc["kind"], doc["property_key"]], doc["content"]
        if doc["kind"] == "domestic":
            assert f"Energy rating: {record['current_energy_rating']}" in text
            assert f"(score {record['current_energy_efficiency']})" in text
            for part in ("walls", "roof", "main_heating", "hot_water", "lighting"):
                if record[f"{part}_description"]:
                    assert record[f"{part}_description"] in text
            assert record["property_type"] in doc["title"]
        elif doc["kind"] == "non-domestic":
            assert f"Asset rating: {record['asset_rating_band']}" in text
        else:
            assert f"Operational rating: {record['operational_rating_band']}" in text
        if record["local_authority_label"]:
            assert record["local_authority_label"] in text
        for line in recs.get(record["certificate_id"], []):
            assert f"- {line or 'improvement'}" in text  # a recommendation without its words is one still
            checked += 1
        if not recs.get(record["certificate_id"]):
            assert text.endswith("Recommendations: none")
    assert checked > 50  # recommendations of every kind were looked for
    costs = [d for d in docs.values() if d["kind"] == "domestic" and "(indicative cost " in d["content"]]
    paybacks = [d for d in docs.values() if d["kind"] == "display" and "(payback " in d["content"]]
    assert costs and paybacks


def test_no_address_postcode_or_uprn_in_a_document_unless_opted_in(built):
    work, env, warehouse, _ = built
    docs, properties = documents(warehouse), latest(warehouse)

    def leaks(doc: dict, record: dict) -> list[str]:
        text = f"{doc['title']}\n{doc['content']}".upper()
        values = [record["uprn"], record["postcode"], *(record[f"address{n}"] for n in (1, 2, 3))]
        return [v for v in values if v and len(v) >= 5 and v.upper() in text]

    assert all(not leaks(d, properties[d["kind"], d["property_key"]]) for d in docs.values())
    districts = [
        d for d in docs.values() if re.search(r"Location: .*\b[A-Z]{1,2}\d[A-Z\d]?$", d["content"], re.M)
    ]
    assert len(districts) > len(docs) / 2  # the district is there instead
    opted = work / "opted" / "epc.duckdb"  # the same file name: DuckDB views name their file's catalog
    opted.parent.mkdir()
    shutil.copy(warehouse.path, opted)
    opt_in = ["--full-refresh", "--vars", "{rag_include_address: true}"]
    dbt(["build", "--select", "enr_property_documents", *opt_in], {**env, "DUCKDB_PATH": str(opted)})
    addressed = Warehouse(opted.parent)
    opted_docs = documents(addressed)
    leaking = [d for d in opted_docs.values() if leaks(d, properties[d["kind"], d["property_key"]])]
    assert len(leaking) > len(opted_docs) / 2  # the licensed user gets the addresses
    assert any("UPRN: " in d["content"] for d in opted_docs.values())


def test_a_rebuild_with_nothing_new_changes_no_row_and_a_changed_certificate_only_its_own(built):
    work, env, warehouse, _ = built
    copy = work / "changed" / "epc.duckdb"
    copy.parent.mkdir()
    shutil.copy(warehouse.path, copy)
    copy_env, changed = {**env, "DUCKDB_PATH": str(copy)}, Warehouse(copy.parent)
    before = documents(changed)
    dbt(["build", "--select", "+enr_property_documents", "--exclude", "resource_type:test"], copy_env)
    assert documents(changed) == before  # content_hash and updated_at too
    # a new load of one property's latest v1 certificate, with another rating
    target = next(d for d in before.values() if d["kind"] == "domestic" and d["source_system"] == "odc")
    with duckdb.connect(str(copy)) as con:
        con.execute(
            "insert into dame_epc.domestic_raw_json by name select * replace ("
            'json_merge_patch(payload, \'{"current-energy-rating": "A", "current-energy-efficiency": "95"}\')'
            " as payload, '2000000000.000001' as _dlt_load_id) "
            "from dame_epc.domestic_raw_json where lmk_key = ?",
            [target["certificate_id"]],
        )
    dbt(["build", "--select", "+enr_property_documents", "--exclude", "resource_type:test"], copy_env)
    after = documents(changed)
    differing = {k for k in before if before[k] != after[k]}
    assert differing == {target["document_id"]}
    assert "Energy rating: A (score 95)" in after[target["document_id"]]["content"]
    assert after[target["document_id"]]["updated_at"] > before[target["document_id"]]["updated_at"]
    # and the result is what a full refresh of the documents gives
    fresh = {k: (d["content"], d["content_hash"]) for k, d in after.items()}
    dbt(["build", "--select", "enr_property_documents", "--full-refresh", "--exclude", "resource_type:test"],
        copy_env)  # fmt: skip
    assert {k: (d["content"], d["content_hash"]) for k, d in documents(changed).items()} == fresh


def search(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "extract.search", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_search_ranks_documents_with_a_recommendation_first(built):
    _, env, warehouse, _ = built
    docs, recs = documents(warehouse), recommendations(warehouse)
    described = {d["certificate_id"] for d in docs.values()}  # recommendations of latest certificates
    texts = sorted(
        {t for c, lines in recs.items() if c in described for t in lines if t and len(t.split()) >= 4}
    )
    assert len(texts) >= 10
    first = search(env, texts[0], "--format", "json", "--limit", "3")
    assert first.returncode == 0, first.stderr
    assert "search index:" in first.stderr  # built on first use
    hits = json.loads(first.stdout)
    assert [h["rank"] for h in hits] == [1, 2, 3] and hits[0]["score"] >= hits[-1]["score"]
    assert set(hits[0]) == {"rank", "document_id", "score", "kind", "title"}
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        index = Index(con, "dame_epc")
        for text in texts:
            top = index.search(text, None, 1)[0]
            assert f"- {text}" in docs[top.document_id]["content"], text
        only = index.search("operational rating", "display", 50)  # words of every display document
        assert only and all(h.kind == "display" for h in only)
    again = search(env, texts[0], "--limit", "1")
    assert again.returncode == 0 and "search index:" not in again.stderr  # current: not rebuilt
    assert again.stdout.split()[2] == hits[0]["document_id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["  "], "the query is empty"),
        (["loft", "--limit", "0"], "must be a whole number of 1 or more"),
        (["loft", "--kind", "shed"], "invalid choice: 'shed'"),
        ([], "give a query"),
    ],
)
def test_bad_search_input_is_one_line_and_exit_2(built, args, message):
    _, env, *_ = built
    done = search(env, *args)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_search_without_a_warehouse_or_on_bigquery_is_one_line(built, tmp_path: Path):
    _, env, *_ = built
    missing = search({**env, "DATA_DIR": str(tmp_path)}, "loft")
    assert missing.returncode == 2 and "no DuckDB warehouse at" in missing.stderr
    cloud = search({**env, "DESTINATION": "bigquery", "PROJECT_ID": "p"}, "loft")
    assert cloud.returncode == 2 and "VECTOR_SEARCH" in cloud.stderr
