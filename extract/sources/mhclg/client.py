"""HTTP access to MHCLG's "Get energy performance of buildings data" API through dlt's REST client.

dlt gives the paging (`PageNumberPaginator` on `current_page` against `pagination.totalPages`),
timeouts and retries that honour `Retry-After`. Written here: the client-side rate limiter on the
transport, where retries pass too (the service allows 6,000 requests per 5 minutes per IP and
answers 429 beyond), 404 read as "no results" on search and deltas, and the checks that turn a
malformed answer into a clear error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs import RuntimeConfiguration
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator

from extract.errors import SourceDataError
from extract.kinds import Kind
from extract.settings import Settings
from extract.transport import (
    LimitedAdapter,
    PagingGuard,
    RateLimiter,
    RequestCounts,
    StatusChecks,
    TranslateErrors,
    checked_list,
    retrying_client,
)

Row = dict[str, Any]
MAX_ROWS_PER_DAY = 100_000  # of one kind; the register lodges about 5,000 on a busy day
# the spec says 401, the service's code answers 403
CHECKS = StatusChecks("the EPC API refused the token (HTTP {status}): check EPC_API_TOKEN")


class MhclgApi:
    """The live endpoints the extractor uses. Safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        token = settings.require_token()
        self.base_url = settings.base_url.rstrip("/") + "/"
        self.page_size = settings.page_size
        self.attempts = settings.retry_max + 1
        self.limiter = RateLimiter(*settings.rate_limit)
        self._auth = BearerTokenAuth(token=token)
        self.sent = RequestCounts()
        self._transport = LimitedAdapter.for_run(settings, self.sent, self.limiter)
        self._http = retrying_client(settings)
        self._rest_config = resolve_configuration(RuntimeConfiguration())  # once: a client per thread
        self._local = threading.local()

    @property
    def _rest(self) -> RESTClient:
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
                config=self._rest_config,
            )
        return client

    def search_pages(self, kind: Kind, days: Iterable[date]) -> Iterator[list[Row]]:
        """Summaries of certificates registered on `days`, one day at a time: the service orders
        only by date, so deep paging inside a wide window can skip or repeat rows."""
        for day in days:
            yield from self._search_day(kind, day)

    def _search_day(self, kind: Kind, day: date) -> Iterator[list[Row]]:
        where = f"{kind.name} search {day}"
        params = {"date_start": day.isoformat(), "date_end": day.isoformat(), "page_size": self.page_size}
        pages = self._rest.paginate(
            f"api/{kind.name}/search",
            params=params,
            paginator=PageNumberPaginator(
                base_page=1, page_param="current_page", total_path="pagination.totalPages"
            ),
            data_selector="$",
            hooks={"response": [CHECKS.not_found_is_end]},
        )
        guard = PagingGuard(where, "certificateNumber", MAX_ROWS_PER_DAY, self.page_size)
        number = 0
        while True:
            number += 1
            with self._errors(f"{where} page {number}"):
                page = next(pages, None)
            if page is None:
                return
            envelope = page[0] if page else None
            rows = checked_list(envelope, "data", f"{where} page {number}", "certificateNumber")
            yield guard.check(number, rows)

    def certificate(self, number: str) -> Row | None:
        """The full certificate document, or None when the service no longer has it."""
        where = f"certificate {number}"
        with self._errors(where):
            response = self._rest.get(
                "api/certificate",
                params={"certificate_number": number},
                hooks={"response": [CHECKS.allow_not_found]},
            )
            if response.status_code == 404:
                return None
            body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise SourceDataError(f"{where}: the response has no `data` document")
        return body["data"]

    def deltas(self, first: date, last: date) -> list[Row]:
        """Events (removed certificates, UPRN changes) from `first` to `last`."""
        where = f"deltas {first}..{last}"
        with self._errors(where):
            response = self._rest.get(
                "api/deltas",
                params={"date_start": first.isoformat(), "date_end": last.isoformat()},
                hooks={"response": [CHECKS.allow_not_found]},
            )
            if response.status_code == 404:
                return []
            body = response.json()
        return checked_list(body, "data", where, "certificateNumber")

    def code_names(self) -> list[str]:
        """The names of the service's code tables (`/api/codes`)."""
        where = "codes"
        with self._errors(where):
            body = self._rest.get("api/codes", hooks={"response": [CHECKS.allow_not_found]}).json()
        names = body.get("data") if isinstance(body, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise SourceDataError(f"{where}: the response has no `data` list of code names")
        return names

    def code_table(self, code: str) -> list[Row]:
        """The rows of one code table (`/api/codes/info?code=…`): `{key, values: [{value,
        schemaVersion, assessmentType}]}` per key; none when the service has no rows (404)."""
        where = f"codes of {code}"
        with self._errors(where):
            response = self._rest.get(
                "api/codes/info", params={"code": code}, hooks={"response": [CHECKS.allow_not_found]}
            )
            if response.status_code == 404:
                return []
            body = response.json()
        keys = checked_list(body, "data", where, "key")
        if not all(isinstance(k.get("values"), list) for k in keys):
            raise SourceDataError(f"{where}: a key has no `values` list")
        return keys

    def _errors(self, where: str) -> TranslateErrors:
        return TranslateErrors(where, self.base_url, self.attempts)
