"""The production target, GCS + BigQuery, for real against local emulators on 127.0.0.1.

The extractor (dlt's BigQuery destination, gcsfs), and dbt-bigquery talk HTTP to
gcp-storage-emulator and bqemulator, started by .ci/emulators.sh (installed on first use into
.emu/). Credentials are a throwaway service-account file whose token endpoint is a loopback stub,
so the real service-account code paths run. What the emulators cannot show (JSON column type,
clustering, the partitioning of dbt tables) is asserted on the DDL dlt and dbt generate.
"""

from __future__ import annotations

import gzip
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.doubles import mhclg
from tests.doubles.odc_v1 import Dataset, OdcV1Double
from tests.emulators.cloud import bigquery_counts, fresh_cloud
from tests.support import ROOT, Warehouse, pinned_command

WINDOW = ["--start", "2023-04", "--end", "2023-06", "--with-recs"]
LIVE_WINDOW = [
    "--source",
    "mhclg",
    "--start",
    "2025-01",
    "--end",
    "2025-01",
    "--kinds",
    "domestic,non-domestic",
]
TABLES = ("domestic_raw_json", "non_domestic_raw_json", "domestic_recommendations_raw_json",
          "non_domestic_recommendations_raw_json")  # fmt: skip
DBT = str(Path(sys.executable).with_name("dbt"))
RETRIEVAL = ROOT / "dbt_project/models/retrieval"


@pytest.fixture(scope="module")
def double():
    with OdcV1Double(Dataset(seed=31, start="2023-01", end="2023-12")) as api:
        yield api


@pytest.fixture(scope="module")
def live():
    data = mhclg.Dataset(
        seed=13, start="2025-01-01", end="2025-01-15", per_day={"domestic": 2, "non-domestic": 1}
    )
    with mhclg.MhclgDouble(data, token="emulator-token") as api:
        yield api


@pytest.fixture
def cloud(emulators, double, tmp_path, monkeypatch):
    """A fresh bucket and dataset on the emulators, and the environment that points at them."""
    return fresh_cloud(emulators, double, tmp_path, monkeypatch)


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "extract", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def gcs_lines(env: dict[str, str], key: str) -> int:
    from google.cloud import storage

    blob = storage.Client(project=env["PROJECT_ID"]).bucket(env["BUCKET"]).blob(key)
    return len(gzip.decompress(blob.download_as_bytes()).splitlines())


def duckdb_copy(cloud: dict[str, str], tmp_path: Path) -> Warehouse:
    """The same window extracted into DuckDB, for comparison."""
    local = {
        **cloud,
        "DESTINATION": "duckdb",
        "DATA_DIR": str(tmp_path / "duck"),
        "BUCKET": str(tmp_path / "b"),
    }
    done = run(WINDOW, local)
    assert done.returncode == 0, done.stderr
    return Warehouse(tmp_path / "duck", dataset=cloud["BQ_DATASET"])


def test_extract_lands_in_gcs_and_bigquery_with_the_rows_duckdb_gets(cloud, double, tmp_path):
    done = run(WINDOW, cloud)
    assert done.returncode == 0, done.stderr
    duck = duckdb_copy(cloud, tmp_path)
    for table in TABLES:
        sql = f"select extract(month from lodgement_date), count(*) from {{ds}}.{table} group by 1 order by 1"
        assert bigquery_counts(cloud, sql) == duck.query(sql), table
    for month in ("202304", "202305"):
        key = f"epc/json/domestic/{month}/domestic_raw_json.jsonl.gz"
        assert gcs_lines(cloud, key) == double.data.count("domestic", f"{month[:4]}-{month[4:]}")
    payload = bigquery_counts(cloud, "select count(*) from {ds}.domestic_raw_json "
                                     "where json_value(payload, '$.\"lmk-key\"') = lmk_key")  # fmt: skip
    assert payload == [(sum(double.data.count("domestic", m) for m in ("2023-04", "2023-05", "2023-06")),)]
    double.clear()
    again = run(WINDOW, cloud)  # checkpoints live in gs://{BUCKET}/state: nothing is asked again
    assert again.returncode == 0 and double.log == []


def test_killed_bigquery_load_resumes_without_duplicates_or_gaps(cloud, double, tmp_path):
    env = {**cloud, "PAGE_SIZE": "7"}
    double.clear()
    process = subprocess.Popen([sys.executable, "-m", "extract", *WINDOW], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while len(double.log) < 40 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    resumed = run(WINDOW, env)
    assert resumed.returncode == 0, resumed.stderr
    duck = duckdb_copy(cloud, tmp_path)
    for table in TABLES:
        sql = f"select count(*), count(distinct lmk_key) from {{ds}}.{table}"
        bq, local = bigquery_counts(cloud, sql), duck.query(sql)
        assert bq == local, table
    keys = "select lmk_key from {ds}.domestic_raw_json order by 1"
    assert bigquery_counts(cloud, keys) == duck.query(keys)


def test_dbt_builds_every_model_on_bigquery_and_counts_match_duckdb(cloud, live, tmp_path):
    """Both sources into BigQuery: the v1 API's rows and the live service's documents (JSON_VALUE
    on a JSON column, recommendations unnested from the document, the change feed applied)."""
    live_env = {"EPC_API_TOKEN": "emulator-token", "EPC_API_BASE_URL": live.base_url}
    assert run(WINDOW, cloud).returncode == 0
    done = run(LIVE_WINDOW, {**cloud, **live_env})
    assert done.returncode == 0, done.stderr
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    shutil.copy(ROOT / "profiles.example.yml", profiles / "profiles.yml")
    env = {**cloud, "DBT_PROFILES_DIR": str(profiles), "DBT_LOG_PATH": str(tmp_path / "logs")}
    # The emulator transpiles the whole SQL of a view for every query that reads it, which takes
    # minutes for the live documents' mapping (100 kB of SQL): the data tests on those views run on
    # DuckDB (tests/integration); their models and everything downstream are built and tested here.
    # Unit tests run on DuckDB only: their fixtures are the same SQL, and on the emulator they took
    # a third of this build.
    slow_views = "test_type:data,path:dbt_project/models/staging/mhclg"
    bq = subprocess.run(
        [DBT, "build", "--target", "bigquery_emulator", "--vars", "{enforce_table_contracts: false}",
         "--exclude", slow_views, "resource_type:unit_test", "--target-path", str(tmp_path / "bq-target"),
         "--no-use-colors"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert bq.returncode == 0, bq.stdout[-3000:]
    assert "ERROR=0 SKIP=0" in bq.stdout.strip().splitlines()[-1]
    duck = duckdb_copy(cloud, tmp_path)
    local_live = {**cloud, **live_env, "DESTINATION": "duckdb", "DATA_DIR": str(tmp_path / "duck"),
                  "BUCKET": str(tmp_path / "b")}  # fmt: skip
    assert run(LIVE_WINDOW, local_live).returncode == 0
    local = subprocess.run(
        [DBT, "build", "--target", "duckdb", "--target-path", str(tmp_path / "duck-target"),
         "--no-use-colors"],
        cwd=ROOT, env={**env, "DATA_DIR": str(tmp_path / "duck")}, capture_output=True, text=True,
    )  # fmt: skip
    assert local.returncode == 0, local.stdout[-3000:]
    marts = [row[0] for row in duck.query(
        "select table_name from information_schema.tables"
        " where table_schema = '{ds}' and table_name like 'enr_%'"
    )]  # fmt: skip
    models = [*(ROOT / "dbt_project/models/marts").glob("enr_*.sql")]
    models.append(RETRIEVAL / "enr_property_documents.sql")
    assert len(marts) == len(models) == 13  # the embeddings are off by default
    for mart in marts:
        sql = f"select source_system, count(*) from {{ds}}.{mart} group by 1 order by 1"
        assert bigquery_counts(cloud, sql) == duck.query(sql), mart
    typed = (
        "select count(*), sum(current_energy_efficiency), count(distinct property_type), "
        "count(walls_description) from {ds}.enr_domestic_certificates_v where source_system = 'mhclg'"
    )
    assert bigquery_counts(cloud, typed) == duck.query(typed)
    assert duck.query(typed)[0][0] == live.data.count("domestic", "2025-01-01", "2025-01-31") > 0
    # what the emulator cannot keep, the DDL dbt sent carries
    ddl = (
        tmp_path / "bq-target/run/dame_epc/dbt_project/models/marts/enr_domestic_latest_by_uprn.sql"
    ).read_text()
    assert "partition by date_trunc(lodgement_date, month)" in ddl.lower()
    assert "cluster by property_key" in ddl.lower()
    # the live month fetched again (a new load of the same certificates), then the daily build of
    # one incremental model: BigQuery reads only the months the load touched, in the select (a
    # literal bound on the staging view) and on the MERGE's target side; the rows are unchanged
    model = "int_certificates__domestic_unioned"
    rows = f"select count(*), count(distinct certificate_id) from {{ds}}.{model}"
    before = bigquery_counts(cloud, rows)
    assert run([*LIVE_WINDOW, "--reset", "certs"], {**cloud, **live_env}).returncode == 0
    again = subprocess.run(
        [DBT, "run", "--target", "bigquery_emulator", "--select", model, "--target-path",
         str(tmp_path / "bq-target"), "--no-use-colors"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout[-3000:]
    path = f"dame_epc/dbt_project/models/intermediate/{model}.sql"
    merge = (tmp_path / "bq-target/run" / path).read_text()
    assert "merge into" in merge.lower()
    assert "DBT_INTERNAL_DEST.lodgement_date >= date_trunc(date '2025-01-" in merge
    assert "(lodgement_date >= date '2025-01-" in (tmp_path / "bq-target/compiled" / path).read_text()
    assert bigquery_counts(cloud, rows) == before and before[0][0] == before[0][1] > 0


def test_the_embeddings_and_their_vector_search_compile_for_bigquery(cloud, tmp_path):
    """ML.GENERATE_EMBEDDING cannot run on the emulator: the SQL dbt would send is compiled
    against it (the table already there, so the incremental form) and asserted."""
    from google.cloud import bigquery

    client = bigquery.Client(project=cloud["PROJECT_ID"])
    client.create_dataset(cloud["BQ_DATASET"])
    table = f"{cloud['BQ_DATASET']}.enr_property_document_embeddings"
    client.query(
        f"create table {table} (document_id string, content_hash string, embedding array<float64>, "
        "embedding_endpoint string, embedded_at timestamp)"
    ).result()
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    shutil.copy(ROOT / "profiles.example.yml", profiles / "profiles.yml")
    env = {**cloud, "DBT_PROFILES_DIR": str(profiles), "DBT_LOG_PATH": str(tmp_path / "logs")}
    on = '{rag_embeddings: true, rag_embedding_connection: p.europe-west2.vertex, rag_query: "it\'s"}'
    target = ["--target", "bigquery_emulator", "--target-path", str(tmp_path / "target"), "--vars", on]

    def compiled(*args: str) -> str:
        done = subprocess.run([DBT, "compile", *target, *args, "--no-use-colors"], cwd=ROOT, env=env,
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:]
        return done.stdout

    compiled("--select", "enr_property_document_embeddings", "vector_search")
    out = tmp_path / "target/compiled/dame_epc/dbt_project"
    model = " ".join((out / "models/retrieval/enr_property_document_embeddings.sql").read_text().split())
    dataset = cloud["BQ_DATASET"]
    assert f"from ml.generate_embedding( model `test-project.{dataset}.epc_text_embedding`" in model
    assert "struct(true as flatten_json_output, 'RETRIEVAL_DOCUMENT' as task_type)" in model
    assert f"left join `test-project`.`{dataset}`.`enr_property_document_embeddings` as embedded" in model
    assert "and documents.content_hash = embedded.content_hash where embedded.document_id is null" in model
    assert "where ml_generate_embedding_status = ''" in model
    search = " ".join((out / "analyses/vector_search.sql").read_text().split())
    assert "(select 'it\\'s' as content)" in search and "'RETRIEVAL_QUERY' as task_type" in search
    assert "from vector_search( table `test-project`." in search and "distance_type => 'COSINE'" in search
    index = "{{ create_vector_index(ref('enr_property_document_embeddings'), 'embedding') }}"
    hooks = compiled("--quiet", "--inline", "{{ create_embedding_model() }}; " + index)
    hooks = " ".join(hooks.split())
    assert (
        f"create model if not exists `test-project.{dataset}.epc_text_embedding` remote with "
        "connection `p.europe-west2.vertex` options (endpoint = 'text-embedding-005')"
    ) in hooks
    assert (
        "create vector index if not exists enr_property_document_embeddings_embedding on "
        f"`test-project`.`{dataset}`.`enr_property_document_embeddings` (embedding) "
        "options (index_type = 'IVF', distance_type = 'COSINE')"
    ) in hooks
    # without the connection, one clear line
    args = [
        DBT,
        "compile",
        *target[:-1],
        "{rag_embeddings: true}",
        "--select",
        "enr_property_document_embeddings",
    ]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "var rag_embedding_connection is not set" in done.stdout


def test_dlt_ddl_has_json_payload_monthly_partitions_and_clustering(cloud):
    assert run(["--kinds", "domestic,non-domestic", "--start", "2023-04", "--end", "2023-04", "--with-recs"],
               cloud).returncode == 0  # fmt: skip
    script = """
import dlt, sys
p = dlt.attach("epc_odc_bigquery", pipelines_dir=sys.argv[1])
with p.destination_client() as client:
    for name in sys.argv[2:]:
        columns = list(p.default_schema.tables[name]["columns"].values())
        print(client._get_table_update_sql(name, columns, False)[0].replace("\\n", " "))
"""
    done = subprocess.run([sys.executable, "-c", script, str(Path(cloud["DATA_DIR"]) / "pipelines"), *TABLES],
                          env=cloud, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    ddl = dict(zip(TABLES, done.stdout.strip().splitlines(), strict=True))
    for table, statement in ddl.items():
        assert "`payload` JSON" in statement and "`lodgement_date` DATE" in statement, table
        assert "PARTITION BY DATE_TRUNC(`lodgement_date`, MONTH)" in statement, table
    assert "CLUSTER BY `lmk_key`, `postcode`, `uprn`" in ddl["domestic_raw_json"]
    for table in TABLES[1:]:
        assert ddl[table].endswith("CLUSTER BY `lmk_key`"), table


def test_bad_google_credentials_are_one_line_before_any_request(cloud, double):
    double.clear()
    done = run(WINDOW, {**cloud, "GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent/key.json"})
    assert done.returncode == 3
    assert done.stderr.strip().startswith("error: ") and "GOOGLE_APPLICATION_CREDENTIALS" in done.stderr
    assert double.log == []
    missing = run(WINDOW, {**cloud, "PROJECT_ID": ""})
    assert missing.returncode == 2 and "PROJECT_ID" in missing.stderr


def test_the_live_source_on_bigquery_fetches_only_what_is_new_and_a_run_record_lands(cloud, live):
    """Two daily runs, as on 10 and 12 January 2025: the ledger, the pending record and the parts
    in GCS; the keys already landed read back from BigQuery, so the second run asks only for
    certificates it has not landed (or whose UPRN the change feed says changed). Then the daily
    job's run record, written as the job writes it, in pipeline_runs and in the bucket."""
    from datetime import date

    from google.cloud import storage

    from extract.audit import RunRecord, write_to_bucket, write_to_warehouse
    from extract.settings import load_settings
    from extract.sources.registry import SOURCES

    env = {**cloud, "EPC_API_TOKEN": "emulator-token", "EPC_API_BASE_URL": live.base_url}
    keys = " union all ".join(f"select certificate_number from {{ds}}.mhclg_{t}_raw_json"
                              for t in ("domestic", "non_domestic", "non_domestic_reports"))  # fmt: skip
    try:
        for day in (date(2025, 1, 10), date(2025, 1, 12)):
            before = {k for (k,) in bigquery_counts(env, keys)} if day.day == 12 else set()
            live.today, _ = day, live.clear()
            done = subprocess.run(pinned_command(day, "extract", LIVE_WINDOW), cwd=ROOT, env=env,
                                  capture_output=True, text=True)  # fmt: skip
            assert done.returncode == 0, done.stderr
    finally:
        live.today = date.today()
    asked = {e.query["certificate_number"][0] for e in live.requests_to("/api/certificate")}
    moved = {e["certificateNumber"] for e in live.data.deltas("2025-01-02", "2025-01-11")
             if e["eventType"] == "uprn_updated"}  # fmt: skip
    assert asked - before and asked & before <= moved
    assert {k for (k,) in bigquery_counts(env, keys)} >= before | (asked - moved)
    bucket = storage.Client(project=env["PROJECT_ID"]).bucket(env["BUCKET"])
    names = {blob.name for blob in bucket.list_blobs()}
    assert f"state/{env['BQ_DATASET']}/mhclg/domestic/202501/certs.json" in names
    assert not [n for n in names if n.endswith(".pending.json")]
    assert {"epc/json/domestic/202501/mhclg_domestic_raw_json.jsonl.gz",
            "epc/json/domestic/202501/mhclg_domestic_raw_json.1.jsonl.gz"} <= names  # fmt: skip

    record = RunRecord.start(date(2025, 1, 12))
    record.source, record.kinds, record.requests_sent = "mhclg", ["domestic"], len(asked)
    record.rows_landed = {"mhclg_domestic_raw_json": 3}
    record.finish(None)
    settings = load_settings(environ=env, sources=SOURCES)
    write_to_warehouse(settings, record)
    write_to_bucket(settings, record)
    rows = bigquery_counts(
        env,
        "select run_id, status, requests_sent, json_value(rows_landed, '$.mhclg_domestic_raw_json'), "
        "json_value(kinds, '$[0]') from {ds}.pipeline_runs",
    )
    assert rows == [(record.run_id, "success", len(asked), "3", "domestic")]
    records = {blob.name for blob in bucket.list_blobs(prefix="runs/")}
    assert records == {f"runs/2025/01/12/{record.run_id}.json"}
