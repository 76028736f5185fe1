"""The dbt docs site explains the project: it opens on the project's own overview (the layers, the
two sources, each mart's grain, how to query), not dbt's default page; the sources are described
and the main outputs are exposures."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.integration.test_dbt_models import DBT
from tests.support import ROOT, dbt_env


def test_the_docs_open_on_the_projects_overview_and_describe_sources_and_exposures(tmp_path: Path):
    env = dbt_env(tmp_path)
    done = subprocess.run([DBT, "parse", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    overview = manifest["docs"]["doc.dame_epc.__overview__"]["block_contents"]  # the site prefers it
    sections = ("From the APIs to the marts", "The two sources", "The marts and their grain", "How to query")
    assert all(section in overview for section in sections)
    marts = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"
             and n["name"].startswith(("enr_", "dq_"))}  # fmt: skip
    assert marts and all(f"`{mart}`" in overview for mart in marts), marts - set(overview.split("`"))
    sources = manifest["sources"].values()
    assert sources and all(s["source_description"].strip() or s["description"].strip() for s in sources)
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert {"analyst_queries", "retrieval_documents"} <= set(exposures)
    assert all(e["depends_on"]["nodes"] and e["description"] for e in exposures.values())
