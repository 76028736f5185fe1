"""The live service's monthly full loads: `/api/files/{kind}/{fmt}/info` gives size and date, the
file itself is a 302 to a pre-signed URL that expires in 30 s. The JSON zip holds JSON Lines of
`{"certificate_number", "document"}` per year, the document being what `/api/certificate` serves."""

from __future__ import annotations

import zipfile

from extract.bulk.archive import Member
from extract.bulk.download import Link, Remote
from extract.bulk.origin import BulkName, BulkOrigin, Documents, MemberLoad, check_status
from extract.errors import ConfigError, SourceDataError
from extract.kinds import KINDS
from extract.raw_tables import RawTable
from extract.settings import Settings
from extract.sources.mhclg.tables import KEY, REPORT_KINDS, SERVED_KINDS, certificates, reports

FORMATS = ("json", "csv")
CREDENTIALS = "EPC_API_TOKEN"
# the raw columns read out of each document (the first path holding a value), as the API path
# lifts them from the search summary
LIFTED = {
    "lodgement_date": (("registration_date",), ("date_of_registration",)),
    "postcode": (("postcode",), ("address", "postcode")),
    "uprn": (("uprn",),),
    "schema_type": (("schema_type",), ("schema_version_original",)),
    "related_certificate_number": (("related_certificate_number",),),
}


def live_name(text: str) -> BulkName:
    """`domestic`, `domestic-json` → the live full-load file `domestic-json`;
    `non-domestic-recommendations` → the recommendation reports of non-domestic certificates. Only
    the JSON files carry the documents `/api/certificate` serves, which is what the raw tables hold."""
    base, _, fmt = text.rpartition("-")
    if fmt not in FORMATS:
        base, fmt = text, "json"
    kind_name = base.removesuffix("-recommendations")
    part = "reports" if base != kind_name else "certs"
    reporting = [k.name for k in REPORT_KINDS]
    if kind_name not in SERVED_KINDS or (part == "reports" and kind_name not in reporting):
        raise ConfigError(
            f"unknown live bulk file {text!r}: use domestic, non-domestic or display, or "
            + " or ".join(f"{k}-recommendations" for k in reporting)
        )
    if fmt == "csv":
        raise ConfigError(
            f"bulk file {text}: the CSV full load lacks the certificate documents the raw tables "
            f"hold; use {base}-json"
        )
    return BulkName(f"{base}-{fmt}", KINDS[kind_name], part)


class LiveOrigin(BulkOrigin):
    """`…/info` gives size and date; the file itself is a 302 to a pre-signed URL."""

    source = "mhclg"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        token = settings.require_token()
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.root = settings.base_url.rstrip("/")

    def name(self, text: str) -> BulkName:
        return live_name(text)

    def _path(self, name: str) -> str:
        kind, _, fmt = name.rpartition("-")
        return f"{self.root}/api/files/{kind}/{fmt}"

    def describe(self, name: str) -> Remote:
        label = f"bulk {name}"
        response = self.get(self._path(name) + "/info", label, headers=self.headers)
        check_status(response, label, CREDENTIALS)
        if response.status_code == 404:
            raise ConfigError(f"unknown bulk file {name}: the service has no such full-load file")
        try:
            data = response.json()["data"]
            size, updated = int(data["fileSize"]), str(data.get("lastUpdated") or data.get("lastModified"))
        except (ValueError, KeyError, TypeError):
            raise SourceDataError(f"{label}: …/info did not give fileSize and lastUpdated") from None
        return Remote("mhclg", name, size, updated)

    def link(self, name: str) -> Link:
        """A fresh pre-signed URL (the bearer token never goes to the storage host)."""
        label = f"bulk {name}"
        response = self.get(self._path(name), label, headers=self.headers, allow_redirects=False)
        check_status(response, label, CREDENTIALS)
        location = response.headers.get("Location")
        if response.status_code not in (301, 302, 303, 307) or not location:
            raise SourceDataError(
                f"{label}: expected a redirect to the file, got HTTP {response.status_code}"
            )
        return Link(location, None, presigned=True)

    def tables(self, file: BulkName) -> tuple[RawTable, ...]:
        return (reports(file.kind) if file.part == "reports" else certificates(file.kind),)

    def members(self, archive: zipfile.ZipFile, file: BulkName, label: str) -> list[Member]:
        """`certificates-YYYY.jsonl` (`recommendations-YYYY.jsonl`) members, year by year."""
        stem = "recommendations" if file.part == "reports" else "certificates"
        names = sorted(
            i.filename for i in archive.infolist() if i.filename.rpartition("/")[2].startswith(stem)
            and i.filename.endswith(".jsonl")
        )  # fmt: skip
        if not names:
            raise SourceDataError(f"{label}: the zip holds no {stem}-YYYY.jsonl")
        return [Member(n, file.part) for n in names]

    def load_of(self, archive: zipfile.ZipFile, member: Member, file: BulkName, label: str) -> MemberLoad:
        return Documents(self.tables(file)[0], KEY, "document", LIFTED)
