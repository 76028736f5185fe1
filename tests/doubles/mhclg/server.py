"""A local double of MHCLG's "Get energy performance of buildings data" API on 127.0.0.1.

It follows ../shared/reference/epc-api.md sections 3 and 3.1 and the service's OpenAPI spec
(tests/fixtures/mhclg/api.yml, communitiesuk/epb-data-warehouse@3c9ad536). Where the spec and
MHCLG's code differ, or both are silent, the double chooses as follows (the switch, if any, in
brackets):
- Auth: `Authorization: Bearer <token>`. A missing or wrong token is a 401 with
  `{"error": "You are not authenticated"}` and `WWW-Authenticate: Bearer` (the spec's reading of
  `bearerToken`; api.yml lists no 401 or 403 at all). The code answers 403 [`auth_failure_status=403`]:
  epc-api.md 3.1 reads its body as `{"data": {"error": …}}`; base_controller.rb as stored (c10ff52)
  halts with `{"errors": [{"code": "UNAUTHORISED", "title": "You are not authenticated"}]}`, and that
  is what the double's 403 carries. The token is never echoed.
- Error bodies: `{"error": "…"}` as in the spec; the code wraps them as `{"data": {"error": …}}`
  (and a 500 as `{"data": {"errors": […]}}`) [`wrap_errors=True`]. Messages are the spec's, word for
  word; the code's page-size message differs ("The requested page size N is out of range. Please
  provide a page size between 1 and 5000") and is not used.
- `date_start` alone: `date_end` defaults to yesterday, as the spec says; the code ignores a lone
  date [`default_date_end=False`]. A lone `date_end` is ignored in both readings. A search with no
  usable filter is the 400 "please provide a valid date range or search parameter".
- Dates: `YYYY-MM-DD` (one-digit month and day accepted, as Ruby's Date.parse does); an unparsable or
  reversed range is "please provide a valid date range"; `date_end` on or after `today` (constructor
  argument, default the real date) is "the date cannot include today". The same rules hold for
  `/api/deltas`, where both dates are required.
- Filters, as the code applies them: `postcode` is upper-cased, re-spaced before its last three
  characters and must be a full UK postcode (else 400), then matched exactly; `uprn` must be a
  positive whole number (leading zeros allowed, as the docs' 12-digit padding needs); `council[]`
  and `constituency[]` are names, case-insensitive, checked against the known list (`dataset.COUNCILS`,
  `CONSTITUENCIES`; an unknown one is a 400, a known one with no certificates a 404);
  `efficiency_rating[]` is capitalised and matched on the current band; `address` is lower-cased,
  every non-alphanumeric turned into a space and squeezed, then matched as a substring of the
  certificate's address lines and post town joined by single spaces (so "42 moria" does not find
  "42, Moria Mines Lane": the code's quirk, kept). Array filters need the `[]` form; a bare
  `council=` is a 400 "please provide a valid date range or search parameter".
- Paging: `current_page` (default 1) and `page_size` (default 5000, 1..5000) read as Ruby's `to_i`
  does ("abc" → 0). Nothing found → 404 before the page is checked; a page past the last → 400
  "The requested page number N is out of range. Total pages: M". Rows are ordered by registration
  date then certificate number, so paging is stable; the code orders by registration date only
  (descending in some versions), which can repeat or skip rows inside a busy day.
- Search and `/api/certificate` show the state on `today` (settable between requests, as a test
  moves the clock): certificates registered before it and published by then (the code drops rows
  created today; some certificates are published days late: `Dataset(late_share=…)`), with the
  events before it applied.
- `/api/certificate` without `certificate_number` is a 500 `{"errors": [{"code": …}]}`, as the
  code's schema check falls through to its catch-all (the spec has no 400 there).
- Deltas: event types are the spec's enum, `removed` and `uprn_updated`. (epc-api.md 3/3.1 say the
  spec's enum has `address_id_updated` and the code maps it to `uprn_updated`; api.yml@3c9ad536
  itself has `uprn_updated`, and one stored version of audit_logs_gateway.rb emits
  `address_id_update`.) Events are selected from `date_start` 00:00 to `date_end` + 1 day 00:00
  (UTC), ordered by time; none → 404.
- `registrationDate` is `YYYY-MM-DD`, as the spec's own example and the code (`to_char(…,
  'YYYY-MM-DD')`) have it, although the schema says `format: date-time`.
- Rate limit: `rate_limit=(requests, seconds)` per client IP, a sliding window (default the real
  6000 per 300 s); every `/api` request it lets through counts, those refused for a bad token too;
  the pre-signed downloads (another host in reality) do not. Beyond it: 429, `Retry-After` = whole
  seconds until the window frees a slot, body `{"error": "Rate limit exceeded - …"}` (the real body
  is undocumented).
- Bulk files: `/api/files/{domestic|non-domestic|display}/{csv|json}` and
  `/api/files/{non-domestic|display}-recommendations/json` answer 302 to a pre-signed-looking URL
  on this server (`/_s3/<bucket>/full-load/<name>.zip?X-Amz-…`) that expires `presign_seconds`
  (30, as the code's `expires_in`) after it is issued: later, or with a tampered query, S3's 403 XML.
  The download honours one `Range: bytes=…` (206 + `Content-Range`; 416 when unsatisfiable) and HEAD.
  `…/info` → `{"data": {"fileSize", "lastUpdated"}}` (the spec's names; one stored version of the
  code returns `lastModified`). The files are remade on the 1st of `today`'s month at 00:31:19 UTC and
  hold the certificates registered before then, in their current state (exports.py).
- Code tables (codes.py): `/api/codes` lists the 17 code names; `/api/codes/info?code=…[&key=…]
  [&schemaVersion=…]` groups the real lookup rows by key; nothing matching (an unknown code, a
  missing or empty parameter) is a 404 "No codes could be found for that query", an answer api.yml
  does not document but the code gives.
- Unknown `/api` paths: 404 `{"error": "Not found"}`; an unknown file: 404 `{"error": "File not found"}`.

Test controls, as in the v1 double: `add_fault(...)` scripts failures (a status, with a JSON error
body; or a spoilt 200/206 body: `not_json` an HTML page, `cut` the first half with an honest length,
`truncated` the connection closing before the announced length), `log` records every request (path,
query, status, time) just before the answer leaves, `clear()` forgets both and the rate limiter's
memory.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import math
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import orjson

from tests.doubles.mhclg import codes, exports
from tests.doubles.mhclg.dataset import CONSTITUENCIES, COUNCILS, Certificate, Dataset, search_summary
from tests.doubles.served import Fault, QuietServer, ServedDouble, echoed, write_body

KINDS = ("domestic", "non-domestic", "display")
MAX_PAGE_SIZE = 5000
BUCKET = "epb-data-warehouse-exports"
INVALID = "The search query was invalid - "
MESSAGES = {
    "missing": INVALID + "please provide a valid date range or search parameter",
    "dates": INVALID + "please provide a valid date range",
    "today": INVALID + "the date cannot include today",
    "postcode": INVALID + "please provide a valid postcode",
    "uprn": INVALID + "the uprn should be an integer greater than 0",
    "council": INVALID + "provide valid council name(s)",
    "constituency": INVALID + "provide valid constituency name(s)",
    "page_size": INVALID + "provide valid page_size between 1 and 5000",
    "no_certificates": "No certificates could be found for that query",
    "no_events": "No audit logs could be found for that query",
    "not_found": "Certificate not found",
    "file_not_found": "File not found",
    "codes_not_found": "No codes could be found for that query",
}
UK_POSTCODE = re.compile(
    r"^(([Gg][Ii][Rr]\s?0[Aa]{2})|((([A-Za-z][0-9]{1,2})|([A-Za-z][A-Ha-hJ-Yj-y][0-9]{1,2})|"
    r"([A-Za-z][0-9][A-Za-z])|([A-Za-z][A-Ha-hJ-Yj-y][0-9]?[A-Za-z]))\s?[0-9][A-Za-z]{2}))$"
)
LOOSE_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
RUBY_INT = re.compile(r"\s*([+-]?\d+)")


@dataclass
class Logged:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    authorised: bool
    client: str
    range: str | None = None
    at: float = field(default_factory=time.time)


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class RateLimiter:
    """At most `allowed` requests per client in any `seconds`-long window."""

    def __init__(self, allowed: int, seconds: float, clock: Callable[[], float]) -> None:
        self.allowed, self.seconds, self.clock = allowed, seconds, clock
        self._starts: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def take(self, client: str) -> float | None:
        """None if admitted (and counted), else the seconds until a slot frees."""
        with self._lock:
            now = self.clock()
            starts = self._starts[client]
            while starts and now - starts[0] >= self.seconds:
                starts.popleft()
            if len(starts) < self.allowed:
                starts.append(now)
                return None
            return self.seconds - (now - starts[0])


class MhclgDouble(ServedDouble):
    """The double: `with MhclgDouble(Dataset(), token="t") as api: api.base_url …`."""

    def __init__(
        self,
        data: Dataset | None = None,
        token: str = "double-token",
        host: str = "127.0.0.1",
        port: int = 0,
        today: date | None = None,
        rate_limit: tuple[int, float] = (6000, 300),
        auth_failure_status: int = 401,
        wrap_errors: bool = False,
        default_date_end: bool = True,
        presign_seconds: int = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if auth_failure_status not in (401, 403):
            raise ValueError("auth_failure_status is 401 (the spec) or 403 (the code)")
        super().__init__(_Handler, host, port)
        self.data = data if data is not None else Dataset()
        self.token = token
        self.today = today or date.today()
        self.auth_failure_status = auth_failure_status
        self.wrap_errors = wrap_errors
        self.default_date_end = default_date_end
        self.presign_seconds = presign_seconds
        self.clock = clock
        self.limiter = RateLimiter(rate_limit[0], rate_limit[1], clock)
        self._secret = secrets.token_bytes(16)
        self._files: dict[tuple[str, datetime], exports.ExportFile] = {}

    # --- test controls ------------------------------------------------------------------
    def clear(self) -> None:
        """Forget faults, the request log and the rate limiter's memory."""
        super().clear()
        with self.limiter._lock:
            self.limiter._starts.clear()

    def requests_to(self, path: str) -> list[Logged]:
        return [entry for entry in self.log if entry.path == path]

    def authorised(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), self.token)

    # --- bulk files ---------------------------------------------------------------------
    def last_updated(self) -> datetime:
        """When the full-load files were last made: the 1st of `today`'s month, 00:31:19 UTC."""
        return datetime(self.today.year, self.today.month, 1, 0, 31, 19, tzinfo=UTC)

    def export(self, name: str) -> exports.ExportFile:
        """The full-load file `name` (e.g. `domestic-csv`), made once per `last_updated` and kept."""
        key = (name, self.last_updated())
        with self._lock:
            made = self._files.get(key)
        if made is None:
            made = exports.build(self.data, name, key[1])
            with self._lock:
                made = self._files.setdefault(key, made)
        return made

    def presign(self, key: str) -> str:
        """A pre-signed-looking URL for `key`, good for `presign_seconds` from now."""
        stamp = datetime.fromtimestamp(int(self.clock()), UTC).strftime("%Y%m%dT%H%M%SZ")
        query = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"ASIADOUBLEKEY/{stamp[:8]}/eu-west-2/s3/aws4_request",
            "X-Amz-Date": stamp,
            "X-Amz-Expires": str(self.presign_seconds),
            "X-Amz-SignedHeaders": "host",
        }
        query["X-Amz-Signature"] = self._signature(key, query)
        return f"{self.base_url}/_s3/{BUCKET}/{quote(key)}?{urlencode(query)}"

    def _signature(self, key: str, query: dict[str, str]) -> str:
        signed = "\n".join(
            [key, *(f"{k}={query.get(k, '')}" for k in sorted(query) if k != "X-Amz-Signature")]
        )
        return hmac.new(self._secret, signed.encode(), hashlib.sha256).hexdigest()

    def check_presigned(self, key: str, query: dict[str, str]) -> str | None:
        """None if the URL is valid now, else S3's error code for it."""
        wanted = self._signature(key, query)
        if not hmac.compare_digest(query.get("X-Amz-Signature", ""), wanted):
            return "SignatureDoesNotMatch"
        issued = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
        if self.clock() > issued + int(query["X-Amz-Expires"]):
            return "AccessDenied"
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: QuietServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the request log is `double.log`."""

    # --- dispatch -----------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch(head=False)

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def _dispatch(self, head: bool) -> None:
        double = self.server.double
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        self._head = head
        self._entry = Logged(
            "HEAD" if head else "GET",
            url.path,
            query,
            0,
            False,
            self.client_address[0],
            self.headers.get("Range"),
            double.clock(),
        )
        if url.path.startswith("/_s3/"):
            self._s3(double, url.path, query)
            return
        wait = double.limiter.take(self.client_address[0])
        if wait is not None:
            limit = f"{double.limiter.allowed} requests per {double.limiter.seconds:g} seconds"
            body = {"error": f"Rate limit exceeded - no more than {limit} from one IP address"}
            self._json(429, body, {"Retry-After": str(max(1, math.ceil(wait)))})
            return
        if not double.authorised(self.headers.get("Authorization")):
            if double.auth_failure_status == 403:
                self._json(403, {"errors": [{"code": "UNAUTHORISED", "title": "You are not authenticated"}]})
            else:
                self._json(401, {"error": "You are not authenticated"}, {"WWW-Authenticate": "Bearer"})
            return
        self._entry.authorised = True
        fault = double.take_fault(self.path)
        if fault and fault.status:
            self._fault_status(fault)
            return
        try:
            self._route(double, url.path, query, fault)
        except ApiError as exc:
            self._error(exc.status, exc.message)

    def _route(self, double: MhclgDouble, path: str, query: dict, fault: Fault | None) -> None:
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "api" and parts[1] in KINDS and parts[2] == "search":
            if fault and fault.body in PAGING_LIES:
                self._json(200, lying_search(double, parts[1], query, fault.body))
                return
            body = search(double, parts[1], query)
            if fault and fault.body == "duplicate":  # a certificate of another day listed too
                body["data"].insert(0, search_summary(_elsewhere(double, parts[1], query)))
            elif fault and fault.body == "unlist_first":  # the page's first certificate no longer listed
                del body["data"][0]
            self._json(200, body, fault=fault)
        elif parts == ["api", "certificate"]:
            self._certificate(double, query, fault)
        elif parts == ["api", "deltas"]:
            self._json(200, {"data": deltas(double, query)}, fault=fault)
        elif parts == ["api", "codes"]:
            self._json(200, {"data": codes.names()}, fault=fault)
        elif parts == ["api", "codes", "info"]:
            self._codes_info(query, fault)
        elif len(parts) in (4, 5) and parts[:2] == ["api", "files"]:
            self._file(double, parts[2:], fault)
        else:
            self._error(404, "Not found")

    # --- endpoints ----------------------------------------------------------------------
    def _certificate(self, double: MhclgDouble, query: dict, fault: Fault | None) -> None:
        if "certificate_number" not in query:
            message = "The property '#/' did not contain a required property of 'certificate_number'"
            self._server_error(message)
            return
        document = double.data.document(query["certificate_number"][-1], as_of=double.today)
        if document is None:
            raise ApiError(404, MESSAGES["not_found"])
        self._json(200, {"data": document}, fault=fault)

    def _codes_info(self, query: dict, fault: Fault | None) -> None:
        """A parameter sent empty filters on `''` (truthy in the service's Ruby): no match, 404."""
        first = {name: values[-1] for name, values in query.items()}
        found = codes.info(first.get("code", ""), first.get("key"), first.get("schemaVersion"))
        if not found:
            raise ApiError(404, MESSAGES["codes_not_found"])
        self._json(200, {"data": found}, fault=fault)

    def _file(self, double: MhclgDouble, rest: list[str], fault: Fault | None) -> None:
        name = f"{rest[0]}-{rest[1]}"
        if name not in exports.FILES or rest[2:] not in ([], ["info"]):
            raise ApiError(404, MESSAGES["file_not_found"])
        made = double.export(name)
        if rest[2:] == ["info"]:
            stamp = made.last_updated.strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
            self._json(200, {"data": {"fileSize": len(made.content), "lastUpdated": stamp}}, fault=fault)
            return
        self._send(302, b"", "application/json", {"Location": double.presign(made.key)})

    def _s3(self, double: MhclgDouble, path: str, query: dict[str, list[str]]) -> None:
        bucket, _, key = path[len("/_s3/") :].partition("/")
        flat = {k: v[-1] for k, v in query.items()}
        needed = ("X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature")
        if any(not flat.get(k) for k in needed) or not flat["X-Amz-Expires"].isdigit():
            self._s3_error(403, "AccessDenied", "Query-string authentication requires the X-Amz parameters")
            return
        try:
            problem = double.check_presigned(key, flat)
        except ValueError:
            problem = "AuthorizationQueryParametersError"
        if problem == "AccessDenied":
            self._s3_error(403, problem, "Request has expired")
            return
        if problem:
            self._s3_error(
                403, problem, "The request signature we calculated does not match the signature you provided."
            )
            return
        self._entry.authorised = True
        name = key.removeprefix("full-load/").removesuffix(".zip")
        if bucket != BUCKET or key != f"full-load/{name}.zip" or name not in exports.FILES:
            self._s3_error(404, "NoSuchKey", "The specified key does not exist.")
            return
        made = double.export(name)
        fault = double.take_fault(self.path)
        if fault and fault.status:
            self._fault_status(fault)
            return
        content, size = made.content, len(made.content)
        headers = {
            "Accept-Ranges": "bytes",
            "ETag": f'"{made.etag}"',
            "Last-Modified": made.last_updated.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        }
        wanted = _byte_range(self.headers.get("Range"), size)
        if wanted == "unsatisfiable":
            headers["Content-Range"] = f"bytes */{size}"
            self._s3_error(416, "InvalidRange", "The requested range is not satisfiable", headers)
            return
        if wanted is None:
            self._send(200, content, "application/zip", headers, fault)
            return
        first, last = wanted
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        self._send(206, content[first : last + 1], "application/zip", headers, fault)

    # --- writing ------------------------------------------------------------------------
    def _fault_status(self, fault: Fault) -> None:
        extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        if fault.body == "echo":
            self._error(fault.status or 400, echoed(self.headers), extra)
        elif fault.status == 500:
            body: dict[str, Any] = {"errors": [{"code": "Unexpected error message here"}]}
            self._json(500, {"data": body} if self.server.double.wrap_errors else body, extra)
        elif fault.status == 429:
            self._json(429, {"error": "Rate limit exceeded"}, extra)
        else:
            self._error(fault.status or 500, "Service unavailable" if fault.status == 503 else "Error", extra)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        body: dict[str, Any] = {"error": message}
        self._json(status, {"data": body} if self.server.double.wrap_errors else body, headers)

    def _server_error(self, message: str) -> None:
        body: dict[str, Any] = {"errors": [{"code": message}]}
        self._json(500, {"data": body} if self.server.double.wrap_errors else body)

    def _s3_error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        request_id = secrets.token_hex(8).upper()
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
        )
        self._send(status, body.encode(), "application/xml", headers)

    def _json(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        fault: Fault | None = None,
    ) -> None:
        self._send(status, orjson.dumps(body), "application/json", headers, fault)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        fault: Fault | None = None,
    ) -> None:
        spoil = fault.body if fault and status in (200, 206) else None
        if spoil == "not_json":
            body, content_type = b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
        elif spoil == "cut":
            body = body[: len(body) // 2]
        announced = len(body)
        if spoil == "truncated":
            body = body[: len(body) // 2]
        # logged before the answer leaves, so a client never sees a response the log lacks
        self._entry.status = status
        self.server.double.record(self._entry)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(announced))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if spoil == "truncated":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not self._head:
            write_body(self.wfile, body, fault if spoil else None)


# --- request handling, kept apart from HTTP so the rules read in one place -----------------------
def _ruby_int(raw: str) -> int:
    match = RUBY_INT.match(raw)
    return int(match.group(1)) if match else 0


def _parse_date(raw: str) -> date | None:
    match = LOOSE_DATE.fullmatch(raw.strip())
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _date_range(double: MhclgDouble, start_raw: str, end_raw: str) -> tuple[date, date]:
    start, end = _parse_date(start_raw), _parse_date(end_raw)
    if start is None or end is None or start > end:
        raise ApiError(400, MESSAGES["dates"])
    if end >= double.today:
        raise ApiError(400, MESSAGES["today"])
    return start, end


def normalise_postcode(raw: str) -> str | None:
    """The code's PostcodeValidator: upper case, one space before the last three characters."""
    stripped = re.sub(r"\s+", "", raw.upper())
    formatted = f"{stripped[:-3]} {stripped[-3:]}"
    return formatted if UK_POSTCODE.match(formatted) else None


def clean_address(raw: str) -> str:
    """The code's SearchParams.clean_address."""
    return " ".join(re.sub(r"[^0-9A-Za-zÀ-ÿ]", " ", raw.lower()).split())


def address_column(cert: Certificate) -> str:
    """The lower-case address the code searches in: lines 1-4 and post town, space-joined."""
    doc = cert.document
    keys = ("address_line_1", "address_line_2", "address_line_3", "address_line_4", "post_town")
    return " ".join(str(doc[k]) for k in keys if doc.get(k) not in (None, "")).lower()


def _names(values: list[str], known: tuple[str, ...], error: str) -> set[str]:
    lower = {name.lower(): name for name in known}
    if any(v.lower() not in lower for v in values):
        raise ApiError(400, MESSAGES[error])
    return {lower[v.lower()] for v in values}


def search(double: MhclgDouble, kind: str, query: dict[str, list[str]]) -> dict[str, Any]:
    """The body of a successful `/api/{kind}/search`, or ApiError."""
    last = {k: v[-1] for k, v in query.items()}
    if any(bare in query for bare in ("council", "constituency", "efficiency_rating")):
        raise ApiError(400, MESSAGES["missing"])  # a string where the schema wants an array
    start_raw, end_raw = last.get("date_start"), last.get("date_end")
    if start_raw is not None and end_raw is None and double.default_date_end:
        end_raw = (double.today - timedelta(1)).isoformat()
    has_range = start_raw is not None and end_raw is not None
    filters = ("postcode", "uprn", "address", "council[]", "constituency[]", "efficiency_rating[]")
    if not has_range and not any(name in query for name in filters):
        raise ApiError(400, MESSAGES["missing"])
    window = None
    if start_raw is not None and end_raw is not None:
        window = _date_range(double, start_raw, end_raw)
    postcode = None
    if "postcode" in last:
        postcode = normalise_postcode(last["postcode"])
        if postcode is None:
            raise ApiError(400, MESSAGES["postcode"])
    uprn = None
    if "uprn" in last:
        if not last["uprn"].strip().isdigit() or int(last["uprn"]) == 0:
            raise ApiError(400, MESSAGES["uprn"])
        uprn = int(last["uprn"])
    councils = _names(query["council[]"], COUNCILS, "council") if "council[]" in query else None
    constituencies = (
        _names(query["constituency[]"], CONSTITUENCIES, "constituency") if "constituency[]" in query else None
    )
    bands = {v.capitalize() for v in query["efficiency_rating[]"]} if "efficiency_rating[]" in query else None
    address = clean_address(last["address"]) if "address" in last else None
    page_size = _ruby_int(last.get("page_size", "5000"))
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ApiError(400, MESSAGES["page_size"])
    current_page = _ruby_int(last.get("current_page", "1"))

    pool = double.data.certificates(kind, *(window or (None, None)), as_of=double.today)
    rows = [
        cert
        for cert in pool
        if (postcode is None or cert.document.get("postcode") == postcode)
        and (uprn is None or cert.document.get("uprn") == uprn)
        and (councils is None or cert.council in councils)
        and (constituencies is None or cert.constituency in constituencies)
        and (bands is None or cert.document.get("current_energy_efficiency_band") in bands)
        and (address is None or address in address_column(cert))
    ]
    if not rows:
        raise ApiError(404, MESSAGES["no_certificates"])
    total_pages = math.ceil(len(rows) / page_size)
    if not 1 <= current_page <= total_pages:
        raise ApiError(
            400, f"The requested page number {current_page} is out of range. Total pages: {total_pages}"
        )
    page = rows[(current_page - 1) * page_size : current_page * page_size]
    return {
        "data": [search_summary(cert) for cert in page],
        "pagination": {
            "totalRecords": len(rows),
            "currentPage": current_page,
            "totalPages": total_pages,
            "nextPage": current_page + 1 if current_page < total_pages else None,
            "prevPage": current_page - 1 if current_page > 1 else None,
            "pageSize": page_size,
        },
    }


# pagination that lies (fault bodies of a search): `total_lie` announces a million pages and serves
# empty ones past the real last; `repeat` serves the first page for every page number
PAGING_LIES = ("total_lie", "repeat")


def lying_search(double: MhclgDouble, kind: str, query: dict[str, list[str]], lie: str) -> dict[str, Any]:
    asked = _ruby_int(query.get("current_page", ["1"])[-1])
    first = search(double, kind, {**query, "current_page": ["1"]})
    if lie == "repeat":
        body = first
    elif asked <= first["pagination"]["totalPages"]:
        body = search(double, kind, query)
    else:
        body = {"data": [], "pagination": dict(first["pagination"])}
    body["pagination"] |= {"currentPage": asked, "totalPages": 10**6, "nextPage": asked + 1}
    return body


def _elsewhere(double: MhclgDouble, kind: str, query: dict[str, list[str]]) -> Certificate:
    """The first certificate of `kind` registered on another day than the search's first."""
    day = query.get("date_start", [""])[-1]
    return next(c for c in double.data.certificates(kind) if c.registration_date.isoformat() != day)


def deltas(double: MhclgDouble, query: dict[str, list[str]]) -> list[dict[str, str]]:
    """The `data` of a successful `/api/deltas`, or ApiError."""
    if "date_start" not in query or "date_end" not in query:
        raise ApiError(400, MESSAGES["dates"])
    start, end = _date_range(double, query["date_start"][-1], query["date_end"][-1])
    events = double.data.deltas(start, end)
    if not events:
        raise ApiError(404, MESSAGES["no_events"])
    return events


def _byte_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """(first, last) of a single `bytes=` range, "unsatisfiable", or None to send everything."""
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header or "")
    if not match or match.groups() == ("", ""):
        return None
    first_raw, last_raw = match.groups()
    if first_raw == "":  # the last N bytes
        suffix = int(last_raw)
        return (max(0, size - suffix), size - 1) if suffix and size else "unsatisfiable"
    first = int(first_raw)
    last = min(int(last_raw), size - 1) if last_raw else size - 1
    if first >= size or (last_raw and int(last_raw) < first):
        return "unsatisfiable" if first >= size else None
    return first, last
