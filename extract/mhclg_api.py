"""HTTP access to MHCLG's "Get energy performance of buildings data" API through dlt's REST client.

dlt gives the paging (`PageNumberPaginator` on `current_page` against `pagination.totalPages`),
timeouts and retries that honour `Retry-After`. Written here: the client-side rate limiter on the
transport, where retries pass too (the service allows 6,000 requests per 5 minutes per IP and
answers 429 beyond), 404 read as "no results" on search and deltas, and the checks that turn a
malformed answer into a clear error.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import requests
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs import RuntimeConfiguration
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.exceptions import IgnoreResponseException
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from requests.adapters import HTTPAdapter

from extract.errors import CredentialsError, SourceDataError
from extract.kinds import Kind
from extract.odc_api import MAX_RETRY_DELAY_SECONDS, TranslateErrors
from extract.settings import Settings

Row = dict[str, Any]


class RateLimiter:
    """At most `allowed` requests in any `seconds`-long window, as the server counts them.

    The server stamps a request at some moment between its sending and its answer, so a request
    holds its slot from `acquire` until `seconds` after `release`. Counting only when requests are
    sent lets a slow request and a fast later one land in one server window: 429s at full speed.
    """

    def __init__(self, requests_allowed: int, seconds: float) -> None:
        self.allowed, self.seconds = requests_allowed, seconds
        self._in_flight = 0
        self._ended: collections.deque[float] = collections.deque()
        self._changed = threading.Condition()

    def acquire(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                while self._ended and now - self._ended[0] >= self.seconds:
                    self._ended.popleft()
                if self._in_flight + len(self._ended) < self.allowed:
                    self._in_flight += 1
                    return
                # all slots busy: wait for an answer, or for the oldest answered slot to expire
                self._changed.wait(self.seconds - (now - self._ended[0]) if self._ended else None)

    def release(self) -> None:
        with self._changed:
            self._in_flight -= 1
            self._ended.append(time.monotonic())
            self._changed.notify_all()


class _LimitedAdapter(HTTPAdapter):
    """Takes a limiter slot for every request sent, retries included: dlt's retries re-send the
    prepared request beneath auth and hooks, so only the transport sees each one."""

    def __init__(self, limiter: RateLimiter, pool_size: int) -> None:
        super().__init__(pool_connections=1, pool_maxsize=pool_size)
        self.limiter = limiter

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.limiter.acquire()
        try:
            return super().send(request, *args, **kwargs)
        finally:
            self.limiter.release()


def _refuse_credentials(response: requests.Response) -> None:
    if response.status_code in (401, 403):  # the spec says 401, the service's code answers 403
        raise CredentialsError(
            f"the EPC API refused the token (HTTP {response.status_code}): check EPC_API_TOKEN"
        )


def _not_found_is_empty(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Search and deltas answer 404 when nothing matches: that is an empty result."""
    _refuse_credentials(response)
    if response.status_code == 404:
        raise IgnoreResponseException
    response.raise_for_status()


def _allow_not_found(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    _refuse_credentials(response)
    if response.status_code != 404:
        response.raise_for_status()


class MhclgApi:
    """The live endpoints the extractor uses. Safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        token = settings.require_token()
        self.base_url = settings.base_url.rstrip("/") + "/"
        self.page_size = settings.page_size
        self.attempts = settings.retry_max + 1
        self.limiter = RateLimiter(*settings.rate_limit)
        self._auth = BearerTokenAuth(token=token)
        self._transport = _LimitedAdapter(self.limiter, pool_size=settings.max_concurrency + 2)
        self._http = Client(
            request_timeout=settings.request_timeout,
            request_max_attempts=self.attempts,
            request_backoff_factor=settings.retry_backoff,
            request_max_retry_delay=MAX_RETRY_DELAY_SECONDS,
            respect_retry_after_header=True,
            raise_for_status=False,
        )
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

    def search_pages(self, kind: Kind, first: date, last: date) -> Iterator[list[Row]]:
        """Summaries of certificates registered from `first` to `last`, one day at a time: the
        service orders only by date, so deep paging inside a wide window can skip or repeat rows."""
        day = first
        while day <= last:
            yield from self._search_day(kind, day)
            day += timedelta(days=1)

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
            hooks={"response": [_not_found_is_empty]},
        )
        number = 0
        while True:
            number += 1
            with self._errors(f"{where} page {number}"):
                page = next(pages, None)
            if page is None:
                return
            yield _list_of(page[0] if page else None, "data", f"{where} page {number}", "certificateNumber")

    def certificate(self, number: str) -> Row | None:
        """The full certificate document, or None when the service no longer has it."""
        where = f"certificate {number}"
        with self._errors(where):
            response = self._rest.get(
                "api/certificate",
                params={"certificate_number": number},
                hooks={"response": [_allow_not_found]},
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
                hooks={"response": [_allow_not_found]},
            )
            if response.status_code == 404:
                return []
            body = response.json()
        return _list_of(body, "data", where, "certificateNumber")

    def _errors(self, where: str) -> TranslateErrors:
        return TranslateErrors(where, self.base_url, self.attempts)


def _list_of(envelope: Any, member: str, where: str, key: str) -> list[Row]:
    """The `member` list of a JSON envelope, each row checked to carry `key`."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get(member), list):
        raise SourceDataError(f"{where}: the response has no `{member}` list")
    rows = envelope[member]
    for position, row in enumerate(rows):
        if not isinstance(row, dict) or not row.get(key):
            raise SourceDataError(f"{where}: row {position + 1} has no {key}")
    return rows
