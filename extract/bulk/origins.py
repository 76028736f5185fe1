"""Where bulk files come from: the v1 API's `/files` (Basic auth) and the live service's
`/api/files/{kind}/{fmt}` (bearer token, 302 to a pre-signed URL that expires in 30 s)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from requests.auth import HTTPBasicAuth

from extract.bulk.download import Link, Remote
from extract.errors import ApiUnavailableError, ConfigError, CredentialsError, SourceDataError
from extract.kinds import KINDS, SOURCE_KINDS, Kind
from extract.settings import Settings

LIVE_FORMATS = ("json", "csv")


@dataclass(frozen=True)
class BulkName:
    """A bulk file name the user gave, with the certificate kind whose tables it fills."""

    name: str
    kind: Kind


def v1_kind(name: str) -> Kind:
    """The kind of a v1 bulk file from its name (`all-non-domestic-certificates.zip`,
    `domestic-2024.zip`, `domestic-E07000223-Adur.zip`)."""
    stem = name.removeprefix("all-")
    for kind in ("non-domestic", "domestic", "display"):
        if stem.startswith(f"{kind}-") and name.endswith(".zip"):
            if kind not in SOURCE_KINDS["odc"]:
                raise ConfigError(f"bulk file {name}: the v1 {kind} files have no raw table here")
            return KINDS[kind]
    raise ConfigError(
        f"bulk file {name!r} is not a v1 bulk file name: use e.g. all-domestic-certificates.zip, "
        "domestic-2024.zip or domestic-E07000223-Adur.zip"
    )


def live_name(text: str) -> BulkName:
    """`domestic`, `domestic-json` → the live full-load file `domestic-json`. Only the JSON files
    carry the documents `/api/certificate` serves, which is what the raw tables hold."""
    base, _, fmt = text.rpartition("-")
    if fmt not in LIVE_FORMATS:
        base, fmt = text, "json"
    if base.endswith("-recommendations"):
        raise ConfigError(
            f"bulk file {text}: recommendation reports are not landed by the API path either; "
            "load the certificates (domestic, non-domestic, display)"
        )
    if base not in SOURCE_KINDS["mhclg"]:
        raise ConfigError(f"unknown live bulk file {text!r}: use domestic, non-domestic or display")
    if fmt == "csv":
        raise ConfigError(
            f"bulk file {text}: the CSV full load lacks the certificate documents the raw tables "
            f"hold; use {base}-json"
        )
    return BulkName(f"{base}-{fmt}", KINDS[base])


def _check(response: requests.Response, label: str, token: bool) -> None:
    status = response.status_code
    if status in (401, 403):
        names = "EPC_API_TOKEN" if token else "EPC_EMAIL and EPC_API_KEY"
        raise CredentialsError(f"{label}: the EPC API refused the credentials (HTTP {status}): check {names}")
    if status == 429 or status >= 500:
        raise ApiUnavailableError(f"{label}: the EPC API answered HTTP {status}; try again later")


class _Origin:
    source: str

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.session = requests.Session()

    def _get(self, url: str, label: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.get(url, timeout=self.settings.request_timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ApiUnavailableError(
                f"{label}: cannot reach the EPC API at {self.settings.base_url} ({type(exc).__name__})"
            ) from None


class V1Origin(_Origin):
    """`GET /api/v1/files` lists names and sizes; `/api/v1/info` dates the data."""

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
            response = self._get(f"{self.root}/files", label, auth=self.auth)
            _check(response, label, token=False)
            try:
                self._listing = response.json()["files"]
            except (ValueError, KeyError, TypeError):
                raise SourceDataError(f"{label}: GET /files is not a listing of files") from None
        listed = self._listing.get(name)
        if not isinstance(listed, dict) or not isinstance(listed.get("size"), int):
            close = sorted(n for n in self._listing if n.split("-")[0] == name.split("-")[0])[:3]
            hint = f" (e.g. {', '.join(close)})" if close else ""
            raise ConfigError(f"unknown bulk file {name}: GET /api/v1/files does not list it{hint}")
        info = self._get(f"{self.root}/info", label, auth=self.auth)
        _check(info, label, token=False)
        try:
            updated = str(info.json().get("updatedDate") or "")
        except ValueError:
            updated = ""
        return Remote("odc", name, listed["size"], updated or "undated")

    def link(self, name: str) -> Link:
        return Link(f"{self.root}/files/{name}", self.auth)


class LiveOrigin(_Origin):
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
        response = self._get(self._path(name) + "/info", label, headers=self.headers)
        _check(response, label, token=True)
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
        response = self._get(self._path(name), label, headers=self.headers, allow_redirects=False)
        _check(response, label, token=True)
        location = response.headers.get("Location")
        if response.status_code not in (301, 302, 303, 307) or not location:
            raise SourceDataError(
                f"{label}: expected a redirect to the file, got HTTP {response.status_code}"
            )
        return Link(location, None, presigned=True)


def origin_for(settings: Settings) -> V1Origin | LiveOrigin:
    return V1Origin(settings) if settings.source == "odc" else LiveOrigin(settings)
