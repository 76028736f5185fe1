"""Bounded concurrency for fetching: pages of upcoming units ahead, requests in parallel.

`Prefetcher`: while dlt loads one month into the warehouse (engine work that releases the GIL),
the next month's pages are already being fetched and parsed, so the two overlap instead of
alternating; at most `depth` pages wait in memory, whatever the size of a month.
`bounded_map`: one request per item (recommendations, live certificates) on a few threads.
dlt parallelises per resource, not per request, hence these.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

_END = object()


class Prefetcher:
    """`pages(key)` yields what `fetch(key)` yields, fetched ahead in the order of `keys`."""

    def __init__(self, keys: Iterable[Hashable], fetch: Callable[[Hashable], Iterable[Any]], depth: int = 3):
        self._keys = list(keys)
        self._fetch = fetch
        self._slots = threading.Semaphore(depth)
        self._queues: dict[Hashable, queue.SimpleQueue[Any]] = {k: queue.SimpleQueue() for k in self._keys}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="epc-prefetch", daemon=True)
        self._thread.start()

    def pages(self, key: Hashable) -> Iterator[Any]:
        """The pages of `key`; its fetch errors are raised here, in the consuming thread."""
        inbox = self._queues[key]
        while True:
            item = inbox.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            self._slots.release()
            yield item

    def close(self) -> None:
        self._stop.set()
        for _ in self._keys:  # unblock a fetcher waiting for a free slot
            self._slots.release()
        self._thread.join(timeout=30)

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        for position, key in enumerate(self._keys):
            inbox = self._queues[key]
            try:
                for page in self._fetch(key):
                    self._slots.acquire()
                    if self._stop.is_set():
                        return
                    inbox.put(page)
            except BaseException as error:  # raised by whoever consumes this key or a later one
                for later in self._keys[position:]:
                    self._queues[later].put(_Failure(error))
                return
            inbox.put(_END)


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def bounded_map(fn: Callable[[Any], Any], items: Sequence[Any], limit: int) -> Iterator[Any]:
    """`fn` over `items` on `limit` threads with at most `limit` calls in flight; results in
    completion order."""
    pending: set[Future[Any]] = set()
    source = iter(items)
    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="epc-fetch") as pool:
        try:
            while True:
                while len(pending) < limit and (item := next(source, None)) is not None:
                    pending.add(pool.submit(fn, item))
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()
