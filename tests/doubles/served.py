"""What both API doubles share: a quiet threaded server on 127.0.0.1, scripted faults, a request
log, and serving from the command line until stopped."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self


@dataclass
class Fault:
    """A scripted misbehaviour for requests whose path+query contains `match`.

    `status` answers with that code (429 and 503 carry `Retry-After` if given), with `body="echo"`
    an error body echoing the request's headers. Otherwise `body` spoils what would have been a
    200/206, in ways each double lists (both: `drip`, the body a few bytes at a time). `delay`
    holds the answer back that many seconds. The first `skip` matching requests pass; then
    `times` are hit (-1: all).
    """

    match: str = ""
    status: int | None = None
    body: str | None = None
    times: int = 1
    skip: int = 0
    retry_after: str | None = None
    delay: float = 0.0


class QuietServer(ThreadingHTTPServer):
    """One thread per connection; a client hanging up mid-request is not an error worth printing."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    double: Any

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Say nothing when the client went away (a stopped extractor, a killed run: both are what
        the tests do on purpose); anything else is printed as the stdlib does."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class ServedDouble:
    """Lifecycle, faults and request log of a double whose `handler` answers on a `QuietServer`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str, port: int) -> None:
        self.faults: list[Fault] = []
        self.log: list[Any] = []
        self._lock = threading.Lock()
        self._server = QuietServer((host, port), handler)
        self._server.double = self
        self._thread: threading.Thread | None = None

    @property
    def root_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """Where the API's paths start (clients are configured with this)."""
        return self.root_url

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_fault(self, **kwargs: Any) -> Fault:
        fault = Fault(**kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """Forget faults and the request log."""
        with self._lock:
            self.faults.clear()
            self.log.clear()

    def take_fault(self, target: str) -> Fault | None:
        """The fault to apply to the request for `target` (path and query), counting it as used."""
        with self._lock:
            for fault in self.faults:
                if fault.match not in target or fault.times == 0:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.times -= 1 if fault.times > 0 else 0
                break
            else:
                return None
        time.sleep(fault.delay)
        return fault

    def record(self, entry: Any) -> None:
        with self._lock:
            self.log.append(entry)


def echoed(headers: Any) -> str:
    """An error text echoing the request's headers (credentials included), as a badly configured
    server or proxy does: for a fault with `status` and `body="echo"`."""
    return "Bad request. You sent:\n" + "".join(f"{name}: {value}\n" for name, value in headers.items())


def write_body(wfile: Any, body: bytes, fault: Fault | None) -> None:
    """The body at once, or for a `drip` fault 8 bytes every 200 ms: each read of a client gets
    something long before its socket timeout, so only a whole-request deadline stops it."""
    if fault is None or fault.body != "drip":
        wfile.write(body)
        return
    for start in range(0, len(body), 8):
        wfile.write(body[start : start + 8])
        wfile.flush()
        time.sleep(0.2)


def serve_until_stopped(double: ServedDouble, name: str, url_file: Path | None) -> int:
    """Serve a started double until SIGTERM or Ctrl-C; `url_file` receives its base URL."""
    if url_file:
        url_file.write_text(double.base_url + "\n")
    print(f"{name} serving {double.base_url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    double.stop()
    return 0
