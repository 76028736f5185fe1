"""What every API client shares: dlt's retrying HTTP client built from the settings, the checks of
an answer's status, the client-side rate limiter on the transport, and the translation of
transport failures into one-line user errors.

dlt gives the retries (429, 5xx and connection errors, with backoff that honours `Retry-After`)
and the paging; written here is only what it does not do, each piece saying why.
"""

from __future__ import annotations

import collections
import contextlib
import socket
import threading
import time
from typing import Any, Self
from urllib.parse import urlsplit

import requests
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client.exceptions import IgnoreResponseException
from requests.adapters import HTTPAdapter

from extract.errors import ApiUnavailableError, CredentialsError, SourceDataError
from extract.redaction import redact
from extract.settings import Settings

MAX_RETRY_DELAY_SECONDS = 120


def retrying_client(settings: Settings) -> Client:
    """dlt's requests client with the run's timeout and retry settings; statuses are checked by the
    hooks below, not raised by the client."""
    return Client(
        request_timeout=settings.request_timeout,
        request_max_attempts=settings.retry_max + 1,
        request_backoff_factor=settings.retry_backoff,
        request_max_retry_delay=MAX_RETRY_DELAY_SECONDS,
        respect_retry_after_header=True,
        raise_for_status=False,
    )


class StatusChecks:
    """Response hooks for dlt's REST client. `refused` is the one-line message of a 401/403, with
    `{status}` for the code; it names the settings to check, never their values."""

    def __init__(self, refused: str) -> None:
        self.refused = refused

    def refuse_credentials(self, response: requests.Response) -> None:
        if response.status_code in (401, 403):
            raise CredentialsError(self.refused.format(status=response.status_code))

    def allow_not_found(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """For a single resource: 404 is an answer the caller reads (none, or gone)."""
        self.refuse_credentials(response)
        if response.status_code != 404:
            response.raise_for_status()

    def not_found_is_end(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """For paging: 404 means nothing matches, which ends the paging empty."""
        self.refuse_credentials(response)
        if response.status_code == 404:
            raise IgnoreResponseException
        response.raise_for_status()

    def empty_body_is_end(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """For paging where the request after the last page is answered 200 with no body: the stock
        client would fail to decode it, so it ends the paging instead."""
        self.refuse_credentials(response)
        if response.status_code == 200 and not response.content.strip():
            raise IgnoreResponseException
        response.raise_for_status()  # 429 and 5xx are retried by the session, others stop


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


class RequestCounts:
    """Requests sent, retries included, by URL path: what the run summary and the audit report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: collections.Counter[str] = collections.Counter()

    def add(self, url: str) -> None:
        path = urlsplit(url).path
        with self._lock:
            self._counts[path] += 1

    def by_path(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


class LimitedAdapter(HTTPAdapter):
    """Counts every request sent and, with a `limiter`, takes a slot for it, retries included:
    dlt's retries re-send the prepared request beneath auth and hooks, so only the transport sees
    each one. With a `deadline`, a whole answer (its body included) must arrive within that many
    seconds of sending: the socket timeout bounds each read only, so a server sending its body a
    few bytes at a time would otherwise hold a request for ever. A request past its deadline is
    cut and fails as a timeout (which dlt retries)."""

    def __init__(
        self,
        limiter: RateLimiter | None,
        pool_size: int,
        counts: RequestCounts,
        deadline: float | None = None,
    ) -> None:
        super().__init__(pool_connections=1, pool_maxsize=pool_size)
        self.limiter, self.counts, self.deadline = limiter, counts, deadline

    @classmethod
    def for_run(cls, settings: Settings, counts: RequestCounts, limiter: RateLimiter | None = None) -> Self:
        """The transport of a source's client: a connection per request in flight (plus two), and
        REQUEST_TIMEOUT_SECONDS as each request's whole deadline as well as its socket timeout."""
        return cls(limiter, settings.max_concurrency + 2, counts, settings.request_timeout)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.counts.add(request.url or "")
        if self.limiter is None:
            return self._within_deadline(request, *args, **kwargs)
        self.limiter.acquire()
        try:
            return self._within_deadline(request, *args, **kwargs)
        finally:
            self.limiter.release()

    def _within_deadline(
        self, request: requests.PreparedRequest, stream: bool = False, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if self.deadline is None or stream:  # a streamed download is read, and bounded, by its caller
            return super().send(request, stream, *args, **kwargs)
        started = time.monotonic()
        response = super().send(request, True, *args, **kwargs)
        cut = threading.Event()

        def cut_off() -> None:
            cut.set()
            _hang_up(response)

        timer = threading.Timer(max(self.deadline - (time.monotonic() - started), 0.0), cut_off)
        timer.daemon = True
        timer.start()
        try:
            _ = response.content  # the body, read while the timer stands
        except (requests.RequestException, OSError, AttributeError, ValueError):
            if not cut.is_set():
                raise
        finally:
            timer.cancel()
        if cut.is_set():
            response.close()
            raise requests.exceptions.ReadTimeout(
                f"no whole answer within {self.deadline:g} s", request=request, response=response
            )
        return response


def _hang_up(response: requests.Response) -> None:
    """Closes the socket a response is being read from, so that the reading thread stops."""
    connection = getattr(response.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    response.close()


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
                f"{redact(' '.join(exc.response.text.split()))[:200]}"
            ) from None
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            raise SourceDataError(f"{self.where}: the response was cut short {self.attempts} times") from None
        if isinstance(exc, requests.Timeout) and str(exc).startswith("no whole answer"):
            raise ApiUnavailableError(
                f"{self.where}: {exc} after {self.attempts} attempts (the server sends too slowly; "
                "REQUEST_TIMEOUT_SECONDS bounds each whole request)"
            ) from None
        if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
            raise ApiUnavailableError(
                f"{self.where}: cannot reach the EPC API at {self.base_url} "
                f"({type(exc).__name__}) after {self.attempts} attempts"
            ) from None
        if isinstance(exc, ValueError):  # includes JSONDecodeError
            raise SourceDataError(f"{self.where}: the response is not JSON") from None
        return False


class PagingGuard:
    """Stops a search whose pages make no progress, before it checkpoints anything: a page beyond
    what `max_rows` rows could fill (a total of pages far beyond the rows), or a page after the
    first that brings no new key (empty, or served again: a cursor or page number that does not
    move). dlt's paginators trust the server's total and cursor; this does not."""

    def __init__(self, where: str, key: str, max_rows: int, page_size: int) -> None:
        self.where, self.key, self.max_rows = where, key, max_rows
        self.max_pages = -(-max_rows // page_size) + 1
        self.seen: set[str] = set()

    def check(self, number: int, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`rows`, page `number` of the search, once it is known to move the search on."""
        if number > self.max_pages:
            raise SourceDataError(
                f"{self.where} page {number}: more pages than {self.max_rows:,} rows could fill "
                "(the pagination does not end); stopped, nothing checkpointed"
            )
        keys = {row[self.key] for row in rows}
        if number > 1 and not keys - self.seen:
            raise SourceDataError(
                f"{self.where} page {number}: no new rows ({'an empty' if not keys else 'a repeated'} "
                "page: the pagination does not move); stopped, nothing checkpointed"
            )
        self.seen |= keys
        return rows


def checked_list(envelope: Any, member: str, where: str, key: str) -> list[dict[str, Any]]:
    """The `member` list of a JSON envelope, each row checked to carry `key`."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get(member), list):
        raise SourceDataError(f"{where}: the response has no `{member}` list")
    rows = envelope[member]
    for position, row in enumerate(rows):
        if not isinstance(row, dict) or not row.get(key):
            raise SourceDataError(f"{where}: row {position + 1} has no {key}")
    return rows
