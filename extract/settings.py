"""Settings from the environment, an env file and dlt's config, with the original design's names.

Each setting is looked up, first hit wins: the original name (`EPC_API_KEY`) in the env file given
with `--env-file`, then in the process environment, then dlt's name (`SOURCES__EPC__API_KEY` or
`[sources.epc] api_key` in `.dlt/secrets.toml` / `.dlt/config.toml`), then the default.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import dlt
from dotenv.parser import parse_stream

from extract.errors import ConfigError
from extract.redaction import register, register_basic

DESTINATIONS = ("duckdb", "bigquery")


class SourceDefaults(Protocol):
    """What settings need to know of a source (each source class has these)."""

    default_base_url: str
    credential_names: tuple[str, ...]  # the settings that, all set, make it the default source


@dataclass(frozen=True)
class Secret:
    """A credential that never shows itself in logs, errors or reprs."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class Settings:
    """Everything a run needs; built once by `load_settings`."""

    source: str
    email: str | None
    api_key: Secret | None
    token: Secret | None
    base_url: str
    page_size: int
    max_concurrency: int
    request_timeout: float
    retry_max: int
    retry_backoff: float
    start_year: int
    end_year: int | None
    bucket_url: str
    dataset: str
    duckdb_path: Path
    data_dir: Path
    destination: str
    project_id: str | None = None
    region: str = "europe-west2"
    rate_limit: tuple[int, float] = (6000, 300.0)
    codes_max_age_days: int = 7
    lookback_days: int = 7
    full_tests_weekday: str = "sunday"
    lock_max_age_minutes: float = 60.0
    bulk_max_rejected: int = 0

    @property
    def pipelines_dir(self) -> Path:
        """dlt's working folder (load packages in flight); the checkpoints live in the bucket."""
        return self.data_dir / "pipelines"

    def require_credentials(self) -> tuple[str, str]:
        if not self.email or not self.api_key or not self.api_key.value:
            raise ConfigError(
                "missing credentials: set EPC_EMAIL and EPC_API_KEY "
                "(or SOURCES__EPC__EMAIL and SOURCES__EPC__API_KEY)"
            )
        return self.email, self.api_key.value

    def require_token(self) -> str:
        if not self.token or not self.token.value:
            raise ConfigError(
                "missing credentials: set EPC_API_TOKEN for the live service "
                "(or EPC_EMAIL and EPC_API_KEY with --source odc for the v1 API)"
            )
        return self.token.value


def read_env_file(path: Path) -> dict[str, str]:
    """`KEY=VALUE` lines read by python-dotenv's own parser (quotes, `export`, ` #` comments;
    `KEY=abc#def` keeps `abc#def`), without interpolation. A line it cannot parse, a line without
    a value, or bytes that are not UTF-8 fail with the line's number."""
    if not path.is_file():
        raise ConfigError(f"--env-file {path} does not exist")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        line = raw[: bad.start].count(b"\n") + 1
        raise ConfigError(f"--env-file {path} line {line} is not UTF-8 text") from None
    values = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.key is None and not binding.error:
            continue  # a blank or comment line
        if binding.error or binding.value is None:
            raise ConfigError(f"--env-file {path} line {binding.original.line} is not KEY=VALUE")
        values[binding.key] = binding.value
    return values


class _Lookup:
    """Reads one setting by its original name, then by its dlt config path."""

    def __init__(self, env_file: Mapping[str, str], environ: Mapping[str, str]) -> None:
        self.env_file, self.environ = env_file, environ

    def get(self, name: str, dlt_key: str | None = None, secret: bool = False) -> str | None:
        for source in (self.env_file, self.environ):
            if source.get(name, "").strip():
                return source[name].strip()
        if dlt_key:
            value = (dlt.secrets if secret else dlt.config).get(dlt_key)
            if value not in (None, ""):
                return str(value)
        return None

    def number(
        self, name: str, dlt_key: str | None, default: float, low: float, high: float, kind: type = int
    ) -> float:
        raw = self.get(name, dlt_key)
        if raw is None:
            return default
        try:
            value = kind(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a {kind.__name__}") from None
        if not low <= value <= high:
            raise ConfigError(f"{name}={raw} is out of range: use {low:g} to {high:g}")
        return value


def bucket_url(raw: str, destination: str = "duckdb") -> str:
    """A local path, `file://` URL or `gs://` URL → an absolute URL dlt and fsspec accept. With the
    BigQuery destination a bare name (`my-bucket`, as the original design wrote BUCKET) is a GCS
    bucket."""
    scheme = urlsplit(raw).scheme
    if scheme == "gs":
        return raw.rstrip("/")
    if not scheme and destination == "bigquery" and "/" not in raw and not raw.startswith("."):
        return f"gs://{raw}"
    if scheme == "file":
        raw = urlsplit(raw).path
    elif scheme:
        raise ConfigError(f"BUCKET={raw!r}: use a local path, file:// or gs:// URL")
    return Path(raw).expanduser().resolve().as_uri()


def _rate_limit(raw: str | None) -> tuple[int, float]:
    """`6000/300`: requests per seconds."""
    if not raw:
        return 6000, 300.0
    count, _, seconds = raw.partition("/")
    try:
        limit = int(count), float(seconds)
    except ValueError:
        limit = (0, 0.0)
    if limit[0] < 1 or not (0 < limit[1] < math.inf):  # also refuses nan
        raise ConfigError(f"RATE_LIMIT={raw!r}: use requests/seconds, e.g. 6000/300")
    return limit


def load_settings(
    env_file: Path | None = None,
    destination: str | None = None,
    environ: Mapping[str, str] | None = None,
    source: str | None = None,
    *,
    sources: Mapping[str, SourceDefaults],
) -> Settings:
    """Builds `Settings`, failing with one clear line on any bad value.

    The source is `--source`, else SOURCE, else the first of `sources` whose credentials are all
    configured, else the first of `sources` (the registry lists the live service first, so it is
    the default unless only the legacy v1 credentials are set).
    """
    lookup = _Lookup(read_env_file(env_file) if env_file else {}, environ or os.environ)
    token = lookup.get("EPC_API_TOKEN", "sources.epc.api_token", secret=True)
    api_key = lookup.get("EPC_API_KEY", "sources.epc.api_key", secret=True)
    email = lookup.get("EPC_EMAIL", "sources.epc.email", secret=True)
    register(token)
    register_basic(email, api_key)
    configured = {"EPC_API_TOKEN": token, "EPC_API_KEY": api_key, "EPC_EMAIL": email}
    source = (
        source
        or lookup.get("SOURCE")
        or next(
            (name for name, s in sources.items() if all(configured.get(c) for c in s.credential_names)),
            next(iter(sources)),
        )
    )
    if source not in sources:
        raise ConfigError(f"unknown source {source!r}: choose from {', '.join(sources)}")
    data_dir = Path(lookup.get("DATA_DIR") or "data")
    destination = destination or lookup.get("DESTINATION") or "duckdb"
    if destination not in DESTINATIONS:
        raise ConfigError(f"unknown destination {destination!r}: choose from {', '.join(DESTINATIONS)}")
    base_url = lookup.get("EPC_API_BASE_URL", "sources.epc.base_url") or sources[source].default_base_url
    if urlsplit(base_url).scheme not in ("http", "https"):
        raise ConfigError(f"EPC_API_BASE_URL={base_url!r} is not an http(s) URL")
    dataset = lookup.get("BQ_DATASET") or "dame_epc"
    project_id = lookup.get("PROJECT_ID", "destination.bigquery.project_id")
    if destination == "bigquery" and not project_id:
        raise ConfigError(
            "the bigquery destination needs PROJECT_ID (the Google Cloud project of BQ_DATASET)"
        )
    duckdb_path = Path(lookup.get("DUCKDB_PATH") or data_dir / "epc.duckdb").resolve()
    if duckdb_path.stem == dataset:
        raise ConfigError(
            f"DUCKDB_PATH {duckdb_path.name} is named like BQ_DATASET {dataset!r}; DuckDB would "
            "confuse the file's catalog with the schema: rename one of them"
        )
    return Settings(
        source=source,
        email=email,
        api_key=Secret(api_key) if api_key else None,
        token=Secret(token) if token else None,
        base_url=base_url.rstrip("/"),
        page_size=int(lookup.number("PAGE_SIZE", "sources.epc.page_size", 5000, 1, 5000)),
        max_concurrency=int(lookup.number("MAX_CONCURRENCY", "sources.epc.max_concurrency", 8, 1, 64)),
        request_timeout=lookup.number(
            "REQUEST_TIMEOUT_SECONDS", "sources.epc.request_timeout", 60.0, 0.1, 3600, float
        ),
        retry_max=int(lookup.number("RETRY_MAX", "sources.epc.retry_max", 5, 0, 50)),
        retry_backoff=lookup.number("RETRY_BACKOFF", "sources.epc.retry_backoff", 1.0, 0, 600, float),
        start_year=int(lookup.number("START_YEAR", "sources.epc.start_year", 2008, 2008, 2100)),
        end_year=int(lookup.number("END_YEAR", "sources.epc.end_year", 0, 2008, 2100)) or None,
        bucket_url=bucket_url(lookup.get("BUCKET") or str(data_dir / "bucket"), destination),
        dataset=dataset,
        duckdb_path=duckdb_path,
        data_dir=data_dir.resolve(),
        destination=destination,
        project_id=project_id,
        region=lookup.get("REGION", "destination.bigquery.location") or "europe-west2",
        rate_limit=_rate_limit(lookup.get("RATE_LIMIT", "sources.epc.rate_limit")),
        codes_max_age_days=int(
            lookup.number("CODES_MAX_AGE_DAYS", "sources.epc.codes_max_age_days", 7, 0, 3650)
        ),
        lookback_days=int(lookup.number("LOOKBACK_DAYS", "sources.epc.lookback_days", 7, 0, 366)),
        full_tests_weekday=_weekday(lookup.get("FULL_TESTS_WEEKDAY", "sources.epc.full_tests_weekday")),
        bulk_max_rejected=int(
            lookup.number("BULK_MAX_REJECTED", "sources.epc.bulk_max_rejected", 0, 0, 10**9)
        ),
        lock_max_age_minutes=lookup.number(
            "LOCK_MAX_AGE_MINUTES", "sources.epc.lock_max_age_minutes", 60.0, 0.01, 7 * 24 * 60, float
        ),
    )


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(raw: str | None) -> str:
    """The day of the week on which the daily job runs every data test on every row."""
    value = (raw or "sunday").strip().lower()
    if value not in (*WEEKDAYS, "daily"):
        raise ConfigError(f"FULL_TESTS_WEEKDAY={raw!r} is not a day of the week (or daily)")
    return value
