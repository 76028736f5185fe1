"""deploy/: the Terraform read with python-hcl2 (schedule, time zone, secret wiring, roles, the
dataset's region, the bucket's protection and lifecycle), the schedule's fire times across the
2027 clock changes, the systemd timer and the image."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import hcl2
import pytest
from croniter import croniter

from tests.support import ROOT

DEPLOY = ROOT / "deploy"
LONDON = ZoneInfo("Europe/London")


def _plain(value: Any) -> Any:
    """python-hcl2's output without its quoting and bookkeeping keys."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _terraform() -> dict[str, Any]:
    merged: dict[str, Any] = {"resource": {}, "variable": {}, "output": {}}
    for path in sorted((DEPLOY / "terraform").glob("*.tf")):
        with path.open() as handle:
            parsed = _plain(hcl2.load(handle))
        for block in parsed.get("resource", []):
            for kind, named in block.items():
                merged["resource"].setdefault(kind, {}).update(named)
        for section in ("variable", "output"):
            for block in parsed.get(section, []):
                merged[section].update(block)
    return merged


TF = _terraform()
RESOURCES = TF["resource"]


def default(variable: str) -> Any:
    return TF["variable"][variable]["default"]


def resolve(text: str) -> str:
    """`${var.x}` replaced by the variable's default."""
    return re.sub(r"\$\{var\.(\w+)\}", lambda m: str(default(m.group(1))), text)


def grants(member: str) -> set[tuple[str, str]]:
    """(resource type, role) of every IAM grant to `member` (a service account resource name)."""
    found = set()
    for kind, named in RESOURCES.items():
        for body in named.values():
            if (
                "role" in body
                and body.get("member") == f"serviceAccount:${{google_service_account.{member}.email}}"
            ):
                found.add((kind, body["role"]))
    return found


def test_the_scheduler_fires_at_eight_london_time_through_the_run_api_as_its_own_account() -> None:
    (schedule,) = RESOURCES["google_cloud_scheduler_job"].values()
    assert resolve(schedule["schedule"]) == "0 8 * * *"
    assert resolve(schedule["time_zone"]) == "Europe/London"
    (target,) = schedule["http_target"]
    assert target["http_method"] == "POST"
    assert re.fullmatch(
        r"https://run\.googleapis\.com/v2/projects/\$\{var\.project_id\}/locations/\$\{var\.region\}"
        r"/jobs/\$\{google_cloud_run_v2_job\.daily\.name\}:run",
        target["uri"],
    )
    (token,) = target["oauth_token"]
    assert token["service_account_email"] == "${google_service_account.scheduler.email}"


def test_the_token_reaches_the_job_from_secret_manager_only() -> None:
    (job,) = RESOURCES["google_cloud_run_v2_job"].values()
    (container,) = job["template"][0]["template"][0]["containers"]
    env = {e["name"]: e for e in container["env"]}
    token = env["EPC_API_TOKEN"]
    assert "value" not in token
    (ref,) = token["value_source"][0]["secret_key_ref"]
    assert ref["secret"] == "${google_secret_manager_secret.epc_api_token.secret_id}"
    assert job["template"][0]["template"][0]["service_account"] == "${google_service_account.job.email}"
    assert "google_secret_manager_secret_version" not in RESOURCES  # the value is in no file or state
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert not re.search(r"EPC_API_TOKEN\s*=\s*\S", text) or path.name.endswith(".example"), path


def test_each_account_has_only_the_roles_it_uses() -> None:
    assert grants("job") == {
        ("google_bigquery_dataset_iam_member", "roles/bigquery.dataEditor"),
        ("google_project_iam_member", "roles/bigquery.jobUser"),
        ("google_storage_bucket_iam_member", "roles/storage.objectAdmin"),
        ("google_secret_manager_secret_iam_member", "roles/secretmanager.secretAccessor"),
    }
    assert grants("scheduler") == {("google_cloud_run_v2_job_iam_member", "roles/run.invoker")}
    editors = [b for b in RESOURCES["google_bigquery_dataset_iam_member"].values()]
    assert {b["dataset_id"] for b in editors} == {
        "${google_bigquery_dataset.raw.dataset_id}",
        "${google_bigquery_dataset.staging.dataset_id}",  # dlt's merge staging, nothing more
    }
    (secret_grant,) = RESOURCES["google_secret_manager_secret_iam_member"].values()
    assert secret_grant["secret_id"] == "${google_secret_manager_secret.epc_api_token.id}"
    (invoker,) = RESOURCES["google_cloud_run_v2_job_iam_member"].values()
    assert invoker["name"] == "${google_cloud_run_v2_job.daily.name}"
    every_role = {b["role"] for named in RESOURCES.values() for b in named.values() if "role" in b}
    assert not every_role & {"roles/owner", "roles/editor", "roles/bigquery.admin", "roles/storage.admin"}


def test_the_dataset_is_in_london_and_the_bucket_is_private_with_raw_json_to_nearline() -> None:
    assert default("region") == "europe-west2"
    for dataset in RESOURCES["google_bigquery_dataset"].values():
        assert resolve(dataset["location"]) == "europe-west2"
    (bucket,) = RESOURCES["google_storage_bucket"].values()
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    (rule,) = bucket["lifecycle_rule"]
    assert resolve(str(rule["condition"][0]["age"])) == "90"
    assert rule["condition"][0]["matches_prefix"] == ["epc/json/"]
    assert rule["action"][0] == {"type": "SetStorageClass", "storage_class": "NEARLINE"}


def test_the_schedule_fires_at_eight_london_time_every_day_of_2027() -> None:
    """Across the clock changes (28 March, 31 October 2027): 08:00 local each day, never skipped
    or doubled; 08:00 UTC in winter, 07:00 UTC in summer."""
    start = datetime(2026, 12, 31, 12, 0, tzinfo=LONDON)
    times = croniter("0 8 * * *", start)
    fires = [times.get_next(datetime) for _ in range(365)]
    assert [f.date() for f in fires] == [date(2027, 1, 1) + timedelta(days=n) for n in range(365)]
    assert all((f.hour, f.minute) == (8, 0) for f in fires)
    utc = {f.date(): f.astimezone(ZoneInfo("UTC")).hour for f in fires}
    assert utc[date(2027, 3, 27)] == 8 and utc[date(2027, 3, 28)] == 7
    assert utc[date(2027, 10, 30)] == 7 and utc[date(2027, 10, 31)] == 8


def test_the_systemd_timer_runs_the_job_at_eight_london_time() -> None:
    timer = (DEPLOY / "systemd/epc-daily.timer").read_text()
    assert re.search(r"^OnCalendar=\*-\*-\* 08:00:00 Europe/London$", timer, re.M)
    service = (DEPLOY / "systemd/epc-daily.service").read_text()
    assert re.search(r"^ExecStart=\S+python -m extract\.job\b", service, re.M)
    assert re.search(r"^User=(?!root)\w+", service, re.M)


@pytest.mark.parametrize(
    "line",
    [
        r"FROM python:3\.11-slim",
        r"USER (?!root)\w+",
        r"RUN pip install \. ",
        r'ENTRYPOINT \["python", "-m", "extract\.job"\]',
    ],
)
def test_the_image_is_slim_runs_as_a_user_and_starts_the_job(line: str) -> None:
    assert re.search(rf"^{line}", (DEPLOY / "Dockerfile").read_text(), re.M)
