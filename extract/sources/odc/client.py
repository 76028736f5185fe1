"""HTTP access to the legacy v1 API through dlt's REST client.

dlt gives the paging (`HeaderCursorPaginator` on `X-Next-Search-After` → `search-after`), Basic
auth, timeouts and retries with backoff that honour `Retry-After`. Written here: the end of data
on the empty 200 body after the last page (`StatusChecks.empty_body_is_end`), the 401 stop, and
the checks that turn a malformed page into a clear error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import requests
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth
from dlt.sources.helpers.rest_client.paginators import HeaderCursorPaginator

from extract.kinds import Kind
from extract.months import Month
from extract.settings import Settings
from extract.transport import (
    LimitedAdapter,
    PagingGuard,
    RequestCounts,
    StatusChecks,
    TranslateErrors,
    checked_list,
    retrying_client,
)

Row = dict[str, Any]
MAX_ROWS_PER_MONTH = 1_000_000  # of one kind; the register's busiest months hold under 200,000
CHECKS = StatusChecks("the EPC API refused the credentials (HTTP {status}): check EPC_EMAIL and EPC_API_KEY")


class OdcApi:
    """The v1 endpoints the extractor uses. Safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        email, key = settings.require_credentials()
        self.base_url = _api_root(settings.base_url)
        self.page_size = settings.page_size
        self.attempts = settings.retry_max + 1
        self._auth = HttpBasicAuth(email, key)
        self._http = retrying_client(settings)
        self.sent = RequestCounts()
        self._transport = LimitedAdapter.for_run(settings, self.sent)
        self._local = threading.local()

    @property
    def _rest(self) -> RESTClient:
        """One REST client per thread, each on its own pooled session."""
        client = getattr(self._local, "client", None)
        if client is None:
            session = self._http.session  # this thread's, with dlt's retries around `send`
            for prefix in ("https://", "http://"):
                session.mount(prefix, self._transport)
            client = self._local.client = RESTClient(
                base_url=self.base_url,
                headers={"Accept": "application/json"},
                auth=self._auth,
                session=session,
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
            f"{kind.name}/search", params=params, hooks={"response": [CHECKS.empty_body_is_end]}
        )
        guard = PagingGuard(where, "lmk-key", MAX_ROWS_PER_MONTH, self.page_size)
        number = 0
        while True:
            number += 1
            with self._errors(f"{where} page {number}"):
                page = next(pages, None)
            if page is None:
                return
            rows = checked_list(page[0] if page else None, "rows", f"{where} page {number}", "lmk-key")
            yield guard.check(number, rows)

    def recommendations(self, kind: Kind, lmk_key: str) -> list[Row]:
        """The certificate's recommendations; none when the API answers 404."""
        where = f"{kind.name} recommendations of {lmk_key}"
        with self._errors(where):
            response = self._rest.get(
                f"{kind.name}/recommendations/{lmk_key}", hooks={"response": [CHECKS.allow_not_found]}
            )
            if response.status_code == 404:
                return []
            return checked_list(response.json(), "rows", where, "lmk-key")

    def _errors(self, where: str) -> TranslateErrors:
        return TranslateErrors(where, self.base_url, self.attempts)


def _api_root(base_url: str) -> str:
    """`https://host` and `https://host/api/v1` both mean the v1 API root."""
    base = base_url.rstrip("/")
    if requests.utils.urlparse(base).path in ("", "/"):
        base += "/api/v1"
    return base + "/"
