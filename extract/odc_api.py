"""HTTP access to the legacy v1 API through dlt's REST client.

dlt gives the paging (`HeaderCursorPaginator` on `X-Next-Search-After` → `search-after`), Basic
auth, timeouts and retries with backoff that honour `Retry-After`. Written here: the hook that
reads the empty 200 body after the last page as the end of data, the 401 stop, and the checks
that turn a malformed page into a clear error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import requests
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth
from dlt.sources.helpers.rest_client.exceptions import IgnoreResponseException
from dlt.sources.helpers.rest_client.paginators import HeaderCursorPaginator

from extract.errors import ApiUnavailableError, CredentialsError, SourceDataError
from extract.kinds import Kind
from extract.months import Month
from extract.settings import Settings

Row = dict[str, Any]
MAX_RETRY_DELAY_SECONDS = 120


def _refuse_credentials(response: requests.Response) -> None:
    if response.status_code in (401, 403):
        raise CredentialsError(
            f"the EPC API refused the credentials (HTTP {response.status_code}): "
            "check EPC_EMAIL and EPC_API_KEY"
        )


def _end_on_empty_body(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """The v1 API answers the request after the last page (or an empty window) with 200 and
    no body; the stock client would fail to decode it, so it ends the paging instead."""
    _refuse_credentials(response)
    if response.status_code == 200 and not response.content.strip():
        raise IgnoreResponseException
    response.raise_for_status()  # 429 and 5xx are retried by the session, others stop


def _allow_not_found(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """For `/recommendations/{lmk-key}`: 404 means the certificate has none."""
    _refuse_credentials(response)
    if response.status_code != 404:
        response.raise_for_status()


class OdcApi:
    """The v1 endpoints the extractor uses. Safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        email, key = settings.require_credentials()
        self.base_url = _api_root(settings.base_url)
        self.page_size = settings.page_size
        self.attempts = settings.retry_max + 1
        self._auth = HttpBasicAuth(email, key)
        self._http = Client(
            request_timeout=settings.request_timeout,
            request_max_attempts=self.attempts,
            request_backoff_factor=settings.retry_backoff,
            request_max_retry_delay=MAX_RETRY_DELAY_SECONDS,
            respect_retry_after_header=True,
            raise_for_status=False,
        )
        self._local = threading.local()

    @property
    def _rest(self) -> RESTClient:
        """One REST client per thread, each on its own pooled session."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = RESTClient(
                base_url=self.base_url,
                headers={"Accept": "application/json"},
                auth=self._auth,
                session=self._http.session,
                paginator=HeaderCursorPaginator(
                    cursor_key="X-Next-Search-After", cursor_param="search-after"
                ),
                data_selector="$",  # the whole envelope, so a body without `rows` is caught
            )
        return client

    def search_pages(self, kind: Kind, month: Month) -> Iterator[list[Row]]:
        """Every page of certificates lodged in `month`, as lists of API rows."""
        params = {
            "from-year": month.year,
            "from-month": month.month,
            "to-year": month.year,
            "to-month": month.month,
            "size": self.page_size,
        }
        where = f"{kind.name} {month}"
        pages = self._rest.paginate(
            f"{kind.name}/search", params=params, hooks={"response": [_end_on_empty_body]}
        )
        number = 0
        while True:
            number += 1
            with self._errors(f"{where} page {number}"):
                page = next(pages, None)
            if page is None:
                return
            yield _rows(page[0] if page else None, f"{where} page {number}")

    def recommendations(self, kind: Kind, lmk_key: str) -> list[Row]:
        """The certificate's recommendations; none when the API answers 404."""
        where = f"{kind.name} recommendations of {lmk_key}"
        with self._errors(where):
            response = self._rest.get(
                f"{kind.name}/recommendations/{lmk_key}", hooks={"response": [_allow_not_found]}
            )
            if response.status_code == 404:
                return []
            return _rows(response.json(), where)

    def _errors(self, where: str) -> TranslateErrors:
        return TranslateErrors(where, self.base_url, self.attempts)


class TranslateErrors:
    """Turns transport failures into one-line user errors naming what was being fetched."""

    def __init__(self, where: str, base_url: str, attempts: int) -> None:
        self.where, self.base_url, self.attempts = where, base_url, attempts

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or isinstance(exc, (CredentialsError, SourceDataError)):
            return False
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            status = exc.response.status_code
            if status == 429 or status >= 500:
                raise ApiUnavailableError(
                    f"{self.where}: the EPC API answered HTTP {status} {self.attempts} times; "
                    "try again later (RETRY_MAX and RETRY_BACKOFF set the patience)"
                ) from None
            raise SourceDataError(
                f"{self.where}: the EPC API rejected the request with HTTP {status}: "
                f"{exc.response.text[:200].strip()}"
            ) from None
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            raise SourceDataError(f"{self.where}: the response was cut short {self.attempts} times") from None
        if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
            raise ApiUnavailableError(
                f"{self.where}: cannot reach the EPC API at {self.base_url} "
                f"({type(exc).__name__}) after {self.attempts} attempts"
            ) from None
        if isinstance(exc, ValueError):  # includes JSONDecodeError
            raise SourceDataError(f"{self.where}: the response is not JSON") from None
        return False


def _rows(envelope: Any, where: str) -> list[Row]:
    """The `rows` of a v1 envelope, each checked to carry an `lmk-key`."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("rows"), list):
        raise SourceDataError(f"{where}: the response has no `rows` list")
    rows = envelope["rows"]
    for position, row in enumerate(rows):
        if not isinstance(row, dict) or not row.get("lmk-key"):
            raise SourceDataError(f"{where}: row {position + 1} has no lmk-key")
    return rows


def _api_root(base_url: str) -> str:
    """`https://host` and `https://host/api/v1` both mean the v1 API root."""
    base = base_url.rstrip("/")
    if requests.utils.urlparse(base).path in ("", "/"):
        base += "/api/v1"
    return base + "/"
