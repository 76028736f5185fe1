"""Resumable downloads of bulk files: a partial file is continued with HTTP Range, never restarted,
and the finished file must have the size the source announced.

Written by hand rather than with dlt's REST client: it fetches JSON pages, not ranged binaries
behind redirects to pre-signed URLs that expire.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from extract.errors import ApiUnavailableError, CredentialsError, SourceDataError
from extract.progress import event

CHUNK = 1 << 16  # small reads: a connection cut mid-read loses at most one of them


@dataclass(frozen=True)
class Remote:
    """A bulk file as its source describes it before download."""

    source: str  # odc | mhclg
    name: str  # all-domestic-certificates.zip | domestic-json
    size: int
    version: str  # the source's date of the file (v1 /info updatedDate; live lastUpdated)

    @property
    def tag(self) -> str:
        """Names this version of the file: a new monthly file is a new download."""
        safe = "".join(c if c.isalnum() else "-" for c in self.version)
        return f"{safe}-{self.size}"

    @property
    def stem(self) -> str:
        return self.name.removesuffix(".zip")


@dataclass
class Link:
    """Where the bytes are fetched from now: a URL, the auth it needs, and whether it is a
    pre-signed URL (a 403 then means it expired, and a fresh one is asked for)."""

    url: str
    auth: requests.auth.AuthBase | None
    presigned: bool = False


class Downloader:
    """Fetches `remote` into `directory`, continuing a `.part` file left by an earlier run."""

    def __init__(
        self,
        session: requests.Session,
        link: Callable[[], Link],
        timeout: float,
        attempts: int,
        backoff: float,
        label: str,
    ) -> None:
        self.session, self.link, self.timeout = session, link, timeout
        self.attempts, self.backoff, self.label = attempts, backoff, label
        self.resumed_from: int | None = None

    def fetch(self, remote: Remote, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        final = directory / f"{remote.stem}.{remote.tag}.zip"
        if final.exists() and final.stat().st_size == remote.size:
            return final
        part = final.with_name(final.name + ".part")
        link = self.link()
        failures, last_error = 0, ""
        while True:
            have = part.stat().st_size if part.exists() else 0
            if have == remote.size:
                break
            if have > remote.size:
                part.unlink()
                continue
            if failures >= self.attempts:
                raise ApiUnavailableError(
                    f"{self.label}: download failed {failures} times ({last_error}); run again to "
                    f"continue from byte {have} of {remote.size}"
                )
            if have and self.resumed_from is None:
                self.resumed_from = have
                event(f"{self.label}: resuming at byte {have:,} of {remote.size:,}", resumed_from=have)
            try:
                progressed, link = self._request(remote, link, part, have)
                last_error = "" if progressed else "the pre-signed download link was refused"
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                progressed, last_error = False, type(exc).__name__
                if part.exists() and part.stat().st_size > have:
                    progressed = True
            except _RetryError as exc:
                progressed, last_error = False, str(exc)
            if progressed:
                failures = 0
            else:
                failures += 1
                time.sleep(self.backoff * 2 ** (failures - 1))
        if part.stat().st_size != remote.size:
            raise SourceDataError(
                f"{self.label}: downloaded {part.stat().st_size} bytes, expected {remote.size}"
            )
        part.rename(final)
        return final

    def _request(self, remote: Remote, link: Link, part: Path, have: int) -> tuple[bool, Link]:
        """One GET from byte `have`; True when bytes were added."""
        headers = {"Range": f"bytes={have}-"} if have else {}
        with self.session.get(
            link.url,
            headers=headers,
            auth=link.auth,
            stream=True,
            timeout=self.timeout,
            allow_redirects=False,
        ) as response:
            status = response.status_code
            if status == 403 and link.presigned:  # the pre-signed URL expired: ask for a new one
                event(f"{self.label}: download link expired, asking for a fresh one")
                return False, self.link()  # counts as a failed attempt: a link refused at once ends
            if status in (401, 403):
                raise CredentialsError(
                    f"{self.label}: the EPC API refused the credentials (HTTP {status}) for the download"
                )
            if status == 404:
                raise SourceDataError(f"{self.label}: the file is gone (HTTP 404) although it was listed")
            if status == 416:  # our partial file does not fit the file on the server any more
                part.unlink(missing_ok=True)
                return True, link
            if status == 429 or status >= 500:
                raise _RetryError(f"HTTP {status}")
            if status == 200:
                total, have, mode = _int(response.headers.get("Content-Length")), 0, "wb"
            elif status == 206:
                first, total = _content_range(response.headers.get("Content-Range"))
                if first != have:
                    raise SourceDataError(f"{self.label}: the server resumed at byte {first}, not {have}")
                mode = "ab"
            else:
                raise SourceDataError(f"{self.label}: unexpected HTTP {status} for the download")
            if total is not None and total != remote.size:
                raise SourceDataError(
                    f"{self.label}: the server sends {total} bytes but announced {remote.size}: "
                    "the file changed or is damaged; run again later"
                )
            written = 0
            with part.open(mode) as handle:
                for chunk in response.iter_content(CHUNK):
                    handle.write(chunk)
                    written += len(chunk)
                    if have + written > remote.size:
                        raise SourceDataError(f"{self.label}: the server sent more than {remote.size} bytes")
            return written > 0 or mode == "wb", link


class _RetryError(Exception):
    """A transient answer (429, 5xx): try again from where the file stands."""


def _int(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None


def _content_range(text: str | None) -> tuple[int, int | None]:
    """`bytes 100-199/200` → (100, 200)."""
    try:
        unit_span, _, total = (text or "").partition("/")
        first = int(unit_span.split()[1].split("-")[0])
        return first, _int(total)
    except (IndexError, ValueError):
        raise SourceDataError(f"the download's Content-Range {text!r} is not understood") from None
