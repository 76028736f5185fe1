"""Settings, windows and kinds as the CLI reads them: the original names, dlt's names, env files,
the choice of source, and one clear error for each bad value."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from extract.errors import ConfigError
from extract.kinds import parse_kinds
from extract.months import Month, month_range, resolve_window
from extract.settings import bucket_url, load_settings, read_env_file
from extract.sources.registry import SOURCES


def settings(**environ: str):
    return load_settings(environ=environ, sources=SOURCES)


def test_the_live_service_is_the_default_unless_only_v1_credentials_are_set() -> None:
    assert settings().source == "mhclg"
    assert settings(EPC_API_TOKEN="t").source == "mhclg"
    assert settings(EPC_EMAIL="a@b.c", EPC_API_KEY="k").source == "odc"
    assert settings(EPC_EMAIL="a@b.c", EPC_API_KEY="k", EPC_API_TOKEN="t").source == "mhclg"
    assert settings(EPC_EMAIL="a@b.c").source == "mhclg"  # a key without the email is not enough
    assert settings(SOURCE="odc").source == "odc"


def test_each_source_has_its_own_default_root() -> None:
    assert settings().base_url == "https://api.get-energy-performance-data.communities.gov.uk"
    assert settings(SOURCE="odc").base_url == "https://epc.opendatacommunities.org/api/v1"
    assert settings(EPC_API_BASE_URL="http://127.0.0.1:9/").base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("environ", "needle"),
    [
        ({"SOURCE": "scraper"}, "unknown source 'scraper': choose from mhclg, odc"),
        ({"PAGE_SIZE": "5001"}, "PAGE_SIZE=5001 is out of range"),
        ({"PAGE_SIZE": "many"}, "PAGE_SIZE='many' is not a int"),
        ({"RATE_LIMIT": "0/300"}, "RATE_LIMIT='0/300'"),
        ({"RATE_LIMIT": "fast"}, "RATE_LIMIT='fast'"),
        ({"RATE_LIMIT": "5/nan"}, "RATE_LIMIT='5/nan'"),
        ({"RATE_LIMIT": "5/inf"}, "RATE_LIMIT='5/inf'"),
        ({"RATE_LIMIT": "5/-1"}, "RATE_LIMIT='5/-1'"),
        ({"RATE_LIMIT": "-5/300"}, "RATE_LIMIT='-5/300'"),
        ({"PAGE_SIZE": "0"}, "PAGE_SIZE=0 is out of range"),
        ({"REQUEST_TIMEOUT_SECONDS": "nan"}, "REQUEST_TIMEOUT_SECONDS=nan is out of range"),
        ({"REQUEST_TIMEOUT_SECONDS": "inf"}, "REQUEST_TIMEOUT_SECONDS=inf is out of range"),
        ({"RETRY_MAX": "-1"}, "RETRY_MAX=-1 is out of range"),
        ({"EPC_API_BASE_URL": "ftp://x"}, "is not an http(s) URL"),
        ({"DESTINATION": "snowflake"}, "unknown destination 'snowflake'"),
        ({"DESTINATION": "bigquery"}, "needs PROJECT_ID"),
        ({"BUCKET": "s3://nope"}, "BUCKET='s3://nope'"),
        ({"BQ_DATASET": "epc", "DUCKDB_PATH": "/tmp/epc.duckdb"}, "named like BQ_DATASET"),
        ({"FULL_TESTS_WEEKDAY": "someday"}, "FULL_TESTS_WEEKDAY='someday' is not a day of the week"),
    ],
)
def test_bad_settings_fail_in_one_line_naming_the_setting(environ: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as failure:
        settings(**environ)
    assert needle in str(failure.value) and "\n" not in str(failure.value)


def test_the_full_test_suite_runs_on_a_weekday_of_choice() -> None:
    assert settings().full_tests_weekday == "sunday"
    assert settings(FULL_TESTS_WEEKDAY=" Monday ").full_tests_weekday == "monday"
    assert settings(FULL_TESTS_WEEKDAY="daily").full_tests_weekday == "daily"


def test_credentials_never_show_in_reprs() -> None:
    loaded = settings(EPC_API_TOKEN="tok-secret-123", EPC_EMAIL="a@b.c", EPC_API_KEY="key-secret-456")
    assert "tok-secret-123" not in repr(loaded) and "key-secret-456" not in repr(loaded)
    assert loaded.require_token() == "tok-secret-123"
    assert loaded.require_credentials() == ("a@b.c", "key-secret-456")


def test_env_file_lines_are_key_value_with_quotes_exports_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "epc.env"
    path.write_text('# a comment\nexport EPC_EMAIL="a b@c.d"\nPAGE_SIZE=200 # trailing\nEMPTY=\n')
    assert read_env_file(path) == {"EPC_EMAIL": "a b@c.d", "PAGE_SIZE": "200", "EMPTY": ""}
    path.write_text("not a setting\n")
    with pytest.raises(ConfigError, match="line 1 is not KEY=VALUE"):
        read_env_file(path)


def test_env_file_values_follow_python_dotenv(tmp_path: Path) -> None:
    path = tmp_path / "epc.env"
    path.write_text("EPC_API_KEY=abc#def\nEPC_EMAIL=a@b.c #a comment\nSOURCE='odc' # quoted\n")
    assert read_env_file(path) == {"EPC_API_KEY": "abc#def", "EPC_EMAIL": "a@b.c", "SOURCE": "odc"}


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'A=1\nEPC_EMAIL="unbalanced\nB=2\n', "line 2 is not KEY=VALUE"),
        (b"A=1\nB=2\nEPC_API_KEY='no end\n", "line 3 is not KEY=VALUE"),
        (b"A=1\nEPC_EMAIL=caf\xe9@example.org\n", "line 2 is not UTF-8 text"),
        (b"\xff\xfeA=1\n", "line 1 is not UTF-8 text"),
    ],
)
def test_a_broken_env_file_fails_in_one_line_with_the_line_number(
    tmp_path: Path, content: bytes, needle: str
) -> None:
    path = tmp_path / "epc.env"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as failure:
        read_env_file(path)
    assert needle in str(failure.value) and "\n" not in str(failure.value)


def test_the_env_file_wins_over_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "epc.env"
    path.write_text("PAGE_SIZE=10\n")
    assert load_settings(path, environ={"PAGE_SIZE": "20"}, sources=SOURCES).page_size == 10


def test_buckets_are_local_folders_file_urls_or_gcs() -> None:
    assert bucket_url("gs://epc/raw/") == "gs://epc/raw"
    assert bucket_url("my-bucket", "bigquery") == "gs://my-bucket"
    assert bucket_url("file:///tmp/b") == "file:///tmp/b"
    assert bucket_url("/tmp/b", "bigquery") == "file:///tmp/b"


def test_the_window_is_clipped_to_this_month_and_checked() -> None:
    today = date(2025, 3, 10)
    assert resolve_window(None, None, 2025, None, today) == month_range(Month(2025, 1), Month(2025, 3))
    assert resolve_window("2024-11", "2025-01", 2008, None, today) == [
        Month(2024, 11),
        Month(2024, 12),
        Month(2025, 1),
    ]
    with pytest.raises(ConfigError, match="in the future"):
        resolve_window(None, "2025-04", 2008, None, today)
    with pytest.raises(ConfigError, match="before start"):
        resolve_window("2025-02", "2025-01", 2008, None, today)
    with pytest.raises(ConfigError, match="is not a month"):
        resolve_window("2025-13", None, 2008, None, today)


def test_kinds_are_those_the_source_serves_in_the_order_given() -> None:
    live = SOURCES["mhclg"].kinds
    assert [k.name for k in parse_kinds(None, "mhclg", live)] == ["domestic", "non-domestic"]
    assert [k.name for k in parse_kinds("display, domestic", "mhclg", live)] == ["display", "domestic"]
    with pytest.raises(ConfigError, match="unknown kind 'display' for source odc"):
        parse_kinds("display", "odc", SOURCES["odc"].kinds)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "--kinds is empty"),
        (" , ", "--kinds is empty"),
        ("domestic,,display", "has an empty name"),
        ("domestic,", "has an empty name"),
        ("display, domestic,display", "--kinds names 'display' twice"),
    ],
)
def test_empty_or_repeated_kinds_are_refused(text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_kinds(text, "mhclg", SOURCES["mhclg"].kinds)
