"""What a source tells the bulk runner about its files, and what an engine needs to load a member.

Each source's `bulk.py` subclasses `BulkOrigin`: how its file names read, where the bytes come from
(size and date first), which members an archive holds and how each one loads, as one of the member
loads below. The engines (`extract/bulk/engines/`) turn a member load into their own SQL; neither
side knows the other.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from extract.bulk.archive import Member
from extract.bulk.download import Link, Remote
from extract.errors import ApiUnavailableError, CredentialsError
from extract.kinds import Kind
from extract.raw_tables import RawTable
from extract.settings import Settings


@dataclass(frozen=True)
class BulkName:
    """A bulk file name the user gave, with the certificate kind whose tables it fills, and what
    of that kind it holds (`certs`; `reports`, the live service's recommendation reports)."""

    name: str
    kind: Kind
    part: str = "certs"


@dataclass(frozen=True)
class CsvRecords:
    """A CSV member of keyed records (one per row). `lifted` maps a raw column to the CSV column
    it is read from (absent ones are NULL); the payload is every CSV column under `payload_keys`,
    `""` where empty. A key repeated inside the member keeps its first row."""

    table: RawTable
    header: tuple[str, ...]
    key_column: str
    lifted: Mapping[str, str]
    payload_keys: Mapping[str, str]


@dataclass(frozen=True)
class CsvChildren:
    """A CSV member of records belonging to a `parent` record by its key (recommendations): the
    lifted columns are the parent's; a parent's earlier set is replaced as a whole."""

    table: RawTable
    parent: RawTable
    header: tuple[str, ...]
    key_column: str
    payload_keys: Mapping[str, str]


@dataclass(frozen=True)
class Documents:
    """A JSON Lines member of `{key_field: …, document_field: {…}}`: the document is the payload;
    `lifted` maps a raw column to the JSON paths it is read from (the first holding a value)."""

    table: RawTable
    key_field: str
    document_field: str
    lifted: Mapping[str, tuple[tuple[str, ...], ...]]


MemberLoad = CsvRecords | CsvChildren | Documents


def check_status(response: requests.Response, label: str, credentials: str) -> None:
    """Refused credentials (naming the settings in `credentials`) and unavailability, in one line."""
    status = response.status_code
    if status in (401, 403):
        raise CredentialsError(
            f"{label}: the EPC API refused the credentials (HTTP {status}): check {credentials}"
        )
    if status == 429 or status >= 500:
        raise ApiUnavailableError(f"{label}: the EPC API answered HTTP {status}; try again later")


class BulkOrigin:
    """Where a source's bulk files come from and how their members load."""

    source: str

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.session = requests.Session()

    def get(self, url: str, label: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.get(url, timeout=self.settings.request_timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ApiUnavailableError(
                f"{label}: cannot reach the EPC API at {self.settings.base_url} ({type(exc).__name__})"
            ) from None

    def name(self, text: str) -> BulkName:
        """The file the user means by `text`; a bad name fails before any request."""
        raise NotImplementedError

    def describe(self, name: str) -> Remote:
        """The file's size and date, asked for without downloading it."""
        raise NotImplementedError

    def link(self, name: str) -> Link:
        """Where its bytes are fetched from now."""
        raise NotImplementedError

    def tables(self, file: BulkName) -> tuple[RawTable, ...]:
        """The raw tables `file` fills."""
        raise NotImplementedError

    def members(self, archive: zipfile.ZipFile, file: BulkName, label: str) -> list[Member]:
        """The members to load, in the order they must load."""
        raise NotImplementedError

    def load_of(self, archive: zipfile.ZipFile, member: Member, file: BulkName, label: str) -> MemberLoad:
        """How `member` loads (read before its rows are streamed)."""
        raise NotImplementedError
