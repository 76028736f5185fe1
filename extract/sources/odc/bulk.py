"""The v1 bulk files: `GET /api/v1/files` lists names and sizes, `/api/v1/info` dates the data,
`/api/v1/files/{name}` is the zip (Basic auth). Each zip holds `certificates.csv` and
`recommendations.csv`, in one folder per local authority in the all-in-one files, with UPPER_SNAKE
headers whose lower-case, hyphenated names are the API's keys (epc-api.md section 2)."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from typing import Any

from requests.auth import HTTPBasicAuth

from extract.bulk.archive import Member, csv_header
from extract.bulk.download import Link, Remote
from extract.bulk.origin import BulkName, BulkOrigin, CsvChildren, CsvRecords, MemberLoad, check_status
from extract.errors import ConfigError, SourceDataError
from extract.kinds import KINDS, Kind
from extract.raw_tables import RawTable
from extract.settings import Settings
from extract.sources.odc.tables import certificates, recommendations

KEY_COLUMN = "LMK_KEY"
LIFTED = {"lodgement_date": "LODGEMENT_DATE", "postcode": "POSTCODE", "uprn": "UPRN"}
CREDENTIALS = "EPC_EMAIL and EPC_API_KEY"


def api_name(column: str) -> str:
    """`CO2_EMISS_CURR_PER_FLOOR_AREA` → `co2-emiss-curr-per-floor-area`: the v1 API's key for a
    bulk CSV column (epc-api.md section 2)."""
    return column.strip().lower().replace("_", "-")


def v1_kind(name: str) -> Kind:
    """The kind of a v1 bulk file from its name (`all-non-domestic-certificates.zip`,
    `domestic-2024.zip`, `domestic-E07000223-Adur.zip`)."""
    stem = name.removeprefix("all-")
    for kind in ("non-domestic", "domestic", "display"):
        if stem.startswith(f"{kind}-") and name.endswith(".zip"):
            return KINDS[kind]
    raise ConfigError(
        f"bulk file {name!r} is not a v1 bulk file name: use e.g. all-domestic-certificates.zip, "
        "domestic-2024.zip or domestic-E07000223-Adur.zip"
    )


def require(header: Sequence[str], needed: Sequence[str], label: str) -> None:
    missing = [n for n in needed if n not in header]
    if missing:
        raise SourceDataError(
            f"{label}: the CSV has no {missing[0]} column (header: {', '.join(header[:6])}, …)"
        )


class V1Origin(BulkOrigin):
    """The v1 API's `/files`, with Basic auth."""

    source = "odc"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        email, key = settings.require_credentials()
        self.auth = HTTPBasicAuth(email, key)
        base = settings.base_url.rstrip("/")
        self.root = base if base.endswith("/api/v1") else base + "/api/v1"
        self._listing: dict[str, Any] | None = None

    def name(self, text: str) -> BulkName:
        name = text if text.endswith(".zip") else text + ".zip"
        return BulkName(name, v1_kind(name))

    def describe(self, name: str) -> Remote:
        label = f"bulk {name}"
        if self._listing is None:
            response = self.get(f"{self.root}/files", label, auth=self.auth)
            check_status(response, label, CREDENTIALS)
            try:
                self._listing = response.json()["files"]
            except (ValueError, KeyError, TypeError):
                raise SourceDataError(f"{label}: GET /files is not a listing of files") from None
        listed = self._listing.get(name)
        if not isinstance(listed, dict) or not isinstance(listed.get("size"), int):
            close = sorted(n for n in self._listing if n.split("-")[0] == name.split("-")[0])[:3]
            hint = f" (e.g. {', '.join(close)})" if close else ""
            raise ConfigError(f"unknown bulk file {name}: GET /api/v1/files does not list it{hint}")
        info = self.get(f"{self.root}/info", label, auth=self.auth)
        check_status(info, label, CREDENTIALS)
        try:
            updated = str(info.json().get("updatedDate") or "")
        except ValueError:
            updated = ""
        return Remote("odc", name, listed["size"], updated or "undated")

    def link(self, name: str) -> Link:
        return Link(f"{self.root}/files/{name}", self.auth)

    def tables(self, file: BulkName) -> tuple[RawTable, ...]:
        return certificates(file.kind), recommendations(file.kind)

    def members(self, archive: zipfile.ZipFile, file: BulkName, label: str) -> list[Member]:
        """`[folder/]certificates.csv` then `[folder/]recommendations.csv`, folder by folder, so a
        folder's recommendations find their certificates loaded."""
        found: dict[str, dict[str, str]] = {}
        for info in archive.infolist():
            folder, _, base = info.filename.rpartition("/")
            if base.lower() in ("certificates.csv", "recommendations.csv") and not info.is_dir():
                found.setdefault(folder, {})[base.lower()] = info.filename
        if not any("certificates.csv" in parts for parts in found.values()):
            raise SourceDataError(f"{label}: the zip holds no certificates.csv")
        order = (("certificates.csv", "certs"), ("recommendations.csv", "recs"))
        return [
            Member(found[f][base], part) for f in sorted(found) for base, part in order if base in found[f]
        ]

    def load_of(self, archive: zipfile.ZipFile, member: Member, file: BulkName, label: str) -> MemberLoad:
        kind = file.kind
        header = tuple(csv_header(archive, member.path, label))
        require(header, (KEY_COLUMN,), label)
        keys = {h: api_name(h) for h in header}
        if member.part == "recs":
            return CsvChildren(recommendations(kind), certificates(kind), header, KEY_COLUMN, keys)
        lifted = {column: csv for column, csv in LIFTED.items() if csv in header}
        return CsvRecords(certificates(kind), header, KEY_COLUMN, lifted, keys)
