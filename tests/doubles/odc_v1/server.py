"""A local double of the legacy EPC v1 API (epc.opendatacommunities.org/api/v1) on 127.0.0.1.

It follows ../shared/reference/epc-api.md sections 1 and 6. Where the public material is silent
the double picks a behaviour and says so here (do not mistake these for the real API's):
- a `size` outside 1..5000, an unknown parameter, a bad month or year, an unknown cursor, or
  `from` + `size` beyond 10,000 → 400 with a short text body;
- no `Accept` header or `*/*` → CSV; Excel types → 406; `application/zip` on recommendations → 406;
- 401 carries `WWW-Authenticate: Basic` and a one-word body (the real body is undocumented).
- Bulk files (bulk.py): `GET /api/v1/files` lists `{"files": {"<name>.zip": {"size": N}}}`;
  `GET /api/v1/files/{name}` (Basic auth) serves the zip with `Content-Length`, `ETag`,
  `Last-Modified` and `Accept-Ranges: bytes`, honours one `Range: bytes=a-b` (206 +
  `Content-Range`; 416 when unsatisfiable) and HEAD; an unknown name is a 404. Files given as
  `files={name: path}` are served from disk in chunks (benchmarks). `file_chunk_delay` sleeps
  between 64 KiB chunks (to kill a client mid-download). Fault bodies for files: `truncated`
  (the connection closes half-way), `corrupt` (same size, bytes flipped mid-file).

Test controls: `add_fault(...)` scripts failures (a status with a short text body, or a broken 200:
`not_json`, `cut` half the JSON with an honest length, `truncated` the connection closing before
the announced length, `missing_key` a row without `lmk-key`, `no_rows`), `log` records every
request, `clear()` forgets both.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import socket
import threading
import time
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson

from tests.doubles.odc_v1 import bulk, fields
from tests.doubles.odc_v1.dataset import Dataset, month_span
from tests.doubles.served import Fault, QuietServer, ServedDouble, echoed, write_body

KINDS = ("domestic", "non-domestic")
SEARCH_PARAMS = {
    "address",
    "postcode",
    "uprn",
    "local-authority",
    "constituency",
    "property-type",
    "floor-area",
    "energy-band",
    "from-month",
    "to-month",
    "from-year",
    "to-year",
    "size",
    "search-after",
    "from",
}
MAX_SIZE = 5000
FLOOR_AREA = {
    "unknown": (0, 0),
    "s": (1, 80),
    "m": (80, 160),
    "l": (160, 300),
    "xl": (300, 700),
    "xxl": (700, 10**9),
    "xxxl": (700, 10**9),
}
EXCEL = ("application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class Rows(Protocol):
    """What the double serves: a generated `Dataset` or the official sample bodies."""

    def months(self) -> list[str]: ...
    def rows(self, kind: str, month: str) -> tuple[dict[str, str], ...]: ...
    def certificate(self, kind: str, lmk_key: str) -> dict[str, str] | None: ...
    def recommendations(self, kind: str, lmk_key: str) -> list[dict[str, str]]: ...


@dataclass
class Logged:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    authorised: bool
    at: float = field(default_factory=time.monotonic)
    range: str | None = None


class PageCache:
    """Serialised page bodies by request signature, bounded in bytes (pages repeat in benchmarks).
    An empty page is never cached, so data added later (the current month) is still found."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes, self.size = max_bytes, 0
        self._items: OrderedDict[tuple, tuple[bytes, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple[bytes, int] | None:
        """(body, rows in it) of a page served before."""
        with self._lock:
            entry = self._items.get(key)
            if entry is not None:
                self._items.move_to_end(key)
            return entry

    def put(self, key: tuple, entry: tuple[bytes, int]) -> None:
        if len(entry[0]) > self.max_bytes:
            return
        with self._lock:
            self._items[key] = entry
            self.size += len(entry[0])
            while self.size > self.max_bytes:
                self.size -= len(self._items.popitem(last=False)[1][0])


class OdcV1Double(ServedDouble):
    """The double: `with OdcV1Double() as api: api.base_url …`; `api.log` records requests."""

    def __init__(
        self,
        data: Rows | None = None,
        email: str = "analyst@example.org",
        api_key: str = "double-api-key",
        host: str = "127.0.0.1",
        port: int = 0,
        cache_bytes: int = 64 * 2**20,
        today: date | None = None,
        files: dict[str, Path] | None = None,
        file_chunk_delay: float = 0.0,
    ) -> None:
        super().__init__(_Handler, host, port)
        self.data = data if data is not None else Dataset()
        self.files = dict(files or {})
        self.file_chunk_delay = file_chunk_delay
        self._zips: dict[str, bytes | None] = {}
        self.email, self.api_key = email, api_key
        self.today = today or date.today()
        self.cache = PageCache(cache_bytes)
        self._cursors: dict[str, tuple[str, int]] = {}

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/api/v1"

    # --- test controls ------------------------------------------------------------------
    def searches(self, kind: str = "domestic") -> list[Logged]:
        return [r for r in self.log if r.path == f"/api/v1/{kind}/search"]

    def authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            email, _, key = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return email == self.email and key == self.api_key

    # --- bulk files ---------------------------------------------------------------------
    def bulk_file(self, name: str) -> bytes | Path | None:
        """A bulk file's bytes (made once from the data), or its path on disk, or None."""
        if name in self.files:
            return self.files[name]
        with self._lock:
            if name not in self._zips:
                self._zips[name] = bulk.build(self.data, name)
            return self._zips[name]

    def bulk_listing(self) -> dict[str, dict[str, dict[str, int]]]:
        listed = {n: self.bulk_file(n) for n in [*bulk.names(self.data), *self.files]}
        return {"files": {n: {"size": _size(c)} for n, c in listed.items() if c is not None}}

    # --- cursors: opaque tokens that stand for (query, offset) --------------------------
    def cursor_for(self, signature: str, offset: int) -> str:
        token = hashlib.blake2b(f"{signature}|{offset}".encode(), digest_size=8).hexdigest()
        with self._lock:
            self._cursors[token] = (signature, offset)
        return token

    def offset_of(self, token: str, signature: str) -> int | None:
        hit = self._cursors.get(token)
        return hit[1] if hit and hit[0] == signature else None


class BadRequestError(Exception):
    """A 400 with a short text body."""


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
        double = self.server.double
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        authorised = double.authorised(self.headers.get("Authorization"))
        self._entry = Logged(self.command, url.path, query, 0, authorised, range=self.headers.get("Range"))
        self._answer(double, url.path, query, authorised)

    def do_HEAD(self) -> None:
        self.do_GET()

    def _answer(self, double: OdcV1Double, path: str, query: dict, authorised: bool) -> int:
        parts = path.strip("/").split("/")
        if parts[:2] != ["api", "v1"]:
            return self._text(404, "Not found")
        rest = parts[2:]
        if rest == ["info"]:
            return self._json(200, orjson.dumps(self._info(double)))
        if not authorised:
            return self._text(401, "Unauthorized", {"WWW-Authenticate": 'Basic realm="EPC"'})
        fault = double.take_fault(self.path)
        if fault and fault.status:
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            text = "Slow down" if fault.status == 429 else "Error"
            text = echoed(self.headers) if fault.body == "echo" else text
            return self._text(fault.status, text, extra)
        if rest == ["files"]:
            return self._json(200, orjson.dumps(double.bulk_listing()))
        if len(rest) == 2 and rest[0] == "files":
            return self._file(double, rest[1], fault)
        try:
            if len(rest) == 2 and rest[0] in KINDS and rest[1] == "search":
                return self._search(double, rest[0], query, fault)
            if len(rest) == 3 and rest[0] in KINDS and rest[1] in ("certificate", "recommendations"):
                return self._by_key(double, rest[0], rest[1], rest[2], fault)
        except BadRequestError as exc:
            return self._text(400, str(exc))
        return self._text(404, "Not found")

    # --- endpoints ----------------------------------------------------------------------
    def _info(self, double: OdcV1Double) -> dict[str, str]:
        months = [m for m in double.data.months() if any(double.data.rows(k, m) for k in KINDS)]
        last = (
            max((r["lodgement-date"] for k in KINDS for r in double.data.rows(k, months[-1])), default="")
            if months
            else ""
        )
        return {"latestDate": last, "updatedDate": double.today.isoformat()}

    def _search(self, double: OdcV1Double, kind: str, query: dict, fault: Fault | None) -> int:
        unknown = sorted(set(query) - SEARCH_PARAMS)
        if unknown:
            raise BadRequestError(f"Unknown parameter: {unknown[0]}")
        size = _int(query, "size", 25, 1, MAX_SIZE)
        window = month_span(
            f"{_int(query, 'from-year', 2008, 2008, double.today.year):04d}-"
            f"{_int(query, 'from-month', 1, 1, 12):02d}",
            f"{_int(query, 'to-year', double.today.year, 2008, double.today.year):04d}-"
            f"{_int(query, 'to-month', 12, 1, 12):02d}",
        )
        filters = {k: v for k, v in query.items() if k not in ("size", "search-after", "from")}
        signature = f"{kind}|{sorted(filters.items())}|{size}"
        offset = 0
        if "search-after" in query:
            found = double.offset_of(query["search-after"][-1], signature)
            if found is None:
                raise BadRequestError("Invalid search-after value")
            offset = found
        elif "from" in query:
            offset = _int(query, "from", 0, 0, 10_000)
            if offset + size > 10_000:
                raise BadRequestError("from + size may not exceed 10000; use search-after")
        fmt = _negotiate(self.headers.get("Accept"), allow_zip=True)
        if fmt is None:
            return self._text(406, "Not Acceptable")
        lie = fault.body if fault and fault.body in PAGING_LIES else None
        key = (signature, offset, fmt, str(window))
        cached = double.cache.get(key) if fault is None else None
        if cached is None:
            page = _page(double.data, kind, window, filters, 0 if lie == "repeat" else offset, size)
            if not page and lie != "endless":  # no results: 200 with an empty body and no cursor
                return self._send(200, b"", "application/json" if fmt == "json" else _MIME[fmt])
            served = len(page)
            if fault and fault.body == "duplicate" and offset == 0:  # a certificate of another month too
                page = [_elsewhere(double.data, kind, window), *page]
            body = _render(double, kind, fields.CERTIFICATES[kind], page, fmt, fault)
            cached = (body, served)
            if fault is None:
                double.cache.put(key, cached)
        body, length = cached
        token = double.cursor_for(signature, offset if lie == "stuck_cursor" else offset + length)
        link_query = urlencode(
            [(k, v) for k, vs in query.items() if k not in ("search-after", "from") for v in vs]
            + [("search-after", token)]
        )
        headers = {"X-Next-Search-After": token, "Link": f'/api/v1/{kind}/search?{link_query}; rel="next"'}
        return self._send(200, body, _MIME[fmt], headers, fault)

    def _by_key(self, double: OdcV1Double, kind: str, what: str, lmk: str, fault: Fault | None) -> int:
        fmt = _negotiate(self.headers.get("Accept"), allow_zip=what == "certificate")
        if fmt is None:
            return self._text(406, "Not Acceptable")
        cert = double.data.certificate(kind, lmk)
        if cert is None:
            return self._text(404, "Not found")
        if what == "certificate":
            body = _render(double, kind, fields.CERTIFICATES[kind], [cert], fmt, fault)
            return self._send(200, body, _MIME[fmt], fault=fault)
        recs = double.data.recommendations(kind, lmk)
        if not recs:
            return self._text(404, "Not found")
        body = _render(double, kind, fields.RECOMMENDATIONS[kind], recs, fmt, fault)
        return self._send(200, body, _MIME[fmt], fault=fault)

    def _file(self, double: OdcV1Double, name: str, fault: Fault | None) -> int:
        content = double.bulk_file(name)
        if content is None:
            return self._text(404, "Not found")
        size = _size(content)
        headers = {
            "Accept-Ranges": "bytes",
            "ETag": f'"{size:x}-{hashlib.blake2b(name.encode(), digest_size=6).hexdigest()}"',
            "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT",
        }
        first, last = 0, size - 1
        wanted = self.headers.get("Range")
        if wanted:
            span = _byte_range(wanted, size)
            if span is None:
                headers["Content-Range"] = f"bytes */{size}"
                return self._text(416, "Requested range not satisfiable", headers)
            first, last = span
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        status = 206 if wanted else 200
        self._entry.status = status
        double.record(self._entry)
        self.send_response(status)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(last - first + 1))
        for key, value in headers.items():
            self.send_header(key, value)
        cut = fault is not None and fault.body == "truncated"
        if cut:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            return status
        stop = first + (last - first + 1) // 2 if cut else last + 1
        corrupt_at = size // 2 if fault is not None and fault.body == "corrupt" else -1
        try:
            for offset, chunk in _chunks(content, first, stop):
                if offset <= corrupt_at < offset + len(chunk):
                    i = corrupt_at - offset
                    chunk = chunk[:i] + bytes(b ^ 0xFF for b in chunk[i : i + 64]) + chunk[i + 64 :]
                self.wfile.write(chunk)
                if double.file_chunk_delay:
                    time.sleep(double.file_chunk_delay)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        return status

    # --- writing ------------------------------------------------------------------------
    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        fault: Fault | None = None,
    ) -> int:
        # logged before the answer leaves, so a client never sees a response the log lacks
        self._entry.status = status
        self.server.double.record(self._entry)
        announced = len(body)
        if fault and fault.body == "truncated":
            body = body[: len(body) // 2]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(announced))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if fault and fault.body == "truncated":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        write_body(self.wfile, body, fault)
        return status

    def _text(self, status: int, text: str, headers: dict[str, str] | None = None) -> int:
        return self._send(status, text.encode(), "text/plain; charset=utf-8", headers)

    def _json(self, status: int, body: bytes) -> int:
        return self._send(status, body, "application/json")


# pagination that lies (fault bodies of a search): the cursor does not move; every page is the
# first; past the last page, empty pages with a cursor for ever. (`duplicate`: the first page also
# lists a certificate of another month.)
PAGING_LIES = ("stuck_cursor", "repeat", "endless")
_MIME = {"json": "application/json", "csv": "text/csv; charset=utf-8", "zip": "application/zip"}


CHUNK = 64 * 1024


def _size(content: bytes | Path) -> int:
    return content.stat().st_size if isinstance(content, Path) else len(content)


def _chunks(content: bytes | Path, start: int, stop: int):
    """(offset, bytes) pieces of `content[start:stop]`, read from disk piece by piece."""
    if isinstance(content, bytes):
        for offset in range(start, stop, CHUNK):
            yield offset, content[offset : min(offset + CHUNK, stop)]
        return
    with content.open("rb") as handle:
        handle.seek(start)
        offset = start
        while offset < stop:
            piece = handle.read(min(CHUNK * 16, stop - offset))
            if not piece:
                return
            yield offset, piece
            offset += len(piece)


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) of one `bytes=a-b` / `bytes=a-` / `bytes=-n` range, or None if unsatisfiable."""
    unit, _, spec = header.partition("=")
    first_raw, dash, last_raw = spec.strip().partition("-")
    if unit.strip() != "bytes" or not dash or "," in spec:
        return None
    try:
        if not first_raw:
            first, last = max(0, size - int(last_raw)), size - 1
        else:
            first = int(first_raw)
            last = min(int(last_raw), size - 1) if last_raw else size - 1
    except ValueError:
        return None
    return (first, last) if 0 <= first <= last < size else None


def _int(query: dict, name: str, default: int, low: int, high: int) -> int:
    if name not in query:
        return default
    raw = query[name][-1]
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequestError(f"Invalid {name}: must be a whole number from {low} to {high}")
    return int(raw)


def _negotiate(accept: str | None, allow_zip: bool) -> str | None:
    for media in (accept or "*/*").split(","):
        media = media.split(";")[0].strip().lower()
        if media == "application/json":
            return "json"
        if media in ("text/csv", "*/*", "text/*"):
            return "csv"
        if media == "application/zip":
            return "zip" if allow_zip else None
        if media in EXCEL:
            return None
    return None


def _elsewhere(data: Rows, kind: str, window: list[str]) -> dict[str, str]:
    """The first certificate of the first month outside `window` that has one."""
    return next(r for month in data.months() if month not in window for r in data.rows(kind, month)[:1])


def _page(data: Rows, kind: str, window: list[str], filters: dict, offset: int, size: int) -> list[dict]:
    """Rows `offset`..`offset + size` of the window, in API order."""
    if filters:
        rows = [r for month in window for r in data.rows(kind, month) if _matches(r, kind, filters)]
        return rows[offset : offset + size]
    page: list[dict[str, str]] = []
    for month in window:
        rows = data.rows(kind, month)
        if offset >= len(rows):
            offset -= len(rows)
            continue
        page.extend(rows[offset : offset + size - len(page)])
        offset = 0
        if len(page) == size:
            break
    return page


def _matches(row: dict[str, str], kind: str, filters: dict[str, list[str]]) -> bool:
    for name, values in filters.items():
        if name in ("from-month", "to-month", "from-year", "to-year"):
            continue
        if not any(_match_one(row, kind, name, v) for v in values):
            return False
    return True


def _match_one(row: dict[str, str], kind: str, name: str, value: str) -> bool:
    value = value.strip().lower()
    if name == "postcode":
        return row["postcode"].replace(" ", "").lower().startswith(value.replace(" ", ""))
    if name == "uprn":
        return row["uprn"].lstrip("0") == value.lstrip("0") != ""
    if name == "address":
        return value in row["address"].lower()
    if name in ("local-authority", "constituency"):
        return row[name].lower() == value
    if name == "property-type":
        return row["property-type"].lower().startswith(value.split("-")[0])
    if name == "energy-band":
        band = row["current-energy-rating" if kind == "domestic" else "asset-rating-band"]
        return band.lower() == value
    if name == "floor-area":
        low, high = FLOOR_AREA.get(value, (-1, -1))
        area = row.get("total-floor-area") or row.get("floor-area") or "0"
        return low <= float(area) <= high
    return False


def _render(
    double: OdcV1Double,
    kind: str,
    names: tuple[str, ...],
    rows: list[dict[str, str]],
    fmt: str,
    fault: Fault | None,
) -> bytes:
    if fault and fault.body == "not_json":
        return b"<html><body>Internal error</body></html>"
    if fault and fault.body == "missing_key":
        rows = [{k: v for k, v in r.items() if k != "lmk-key"} for r in rows]
    if fmt == "csv":
        return _csv(names, rows)
    if fmt == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("certificates.csv", _csv(names, rows))
            recs = [x for r in rows for x in double.data.recommendations(kind, r["lmk-key"])]
            archive.writestr("recommendations.csv", _csv(fields.RECOMMENDATIONS[kind], recs))
        return buffer.getvalue()
    envelope: dict[str, Any] = {"column-names": list(names), "rows": rows}
    if fault and fault.body == "no_rows":
        envelope = {"column-names": list(names)}
    body = orjson.dumps(envelope)
    return body[: len(body) // 2] if fault and fault.body == "cut" else body


def _csv(names: tuple[str, ...], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(names), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()
