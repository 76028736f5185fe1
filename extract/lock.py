"""One run at a time per bucket and dataset: a lock object in the bucket, held for the whole run.

Two runs on the same bucket and dataset would interleave their checkpoints and loads. Every run
that writes (API or bulk files, the extractor alone or the daily job) first creates
`locks/{dataset}.json` in the bucket, create-only (a local file written whole, then hard-linked
into place; `ifGenerationMatch=0` on GCS), then read back, so that of two runs racing for it
exactly one holds it. The holder
refreshes the object's `heartbeat_at` while it runs and deletes it at the end. A second run exits
at once (exit 6) naming the holder; a lock whose owner is gone (same host, no such process) or whose
heartbeat is older than LOCK_MAX_AGE_MINUTES is stale and taken over with a warning.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from extract.bucket import Bucket
from extract.errors import ConcurrentRunError, StorageError
from extract.progress import event
from extract.settings import Settings


def _now() -> datetime:
    return datetime.now(UTC)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


class RunLock:
    """The lock object of `dataset` in `bucket`; `owner` says what holds it (the command)."""

    def __init__(self, bucket: Bucket, dataset: str, owner: str, max_age: timedelta) -> None:
        self.bucket, self.key, self.max_age = bucket, f"locks/{dataset}.json", max_age
        self.record: dict[str, Any] = {
            "owner": owner,
            "token": uuid.uuid4().hex,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": _now().isoformat(),
        }
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    # --- the lock object ------------------------------------------------------------------
    def _create(self) -> bool:
        """Creates the object if there is none; whether this run now holds it."""
        data = orjson.dumps(self.record | {"heartbeat_at": _now().isoformat()}, option=orjson.OPT_INDENT_2)
        path = self.bucket.path(self.key)
        try:
            if self.bucket.local:  # written whole beside it, then linked: never seen half-written
                self.bucket.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
                partial = f"{path}.{self.record['token']}"
                with open(partial, "wb") as handle:
                    handle.write(data)
                try:
                    os.link(partial, path)
                finally:
                    os.unlink(partial)
            else:
                self.bucket.fs.pipe_file(path, data, mode="create")
        except FileExistsError:
            return False
        except OSError as exc:  # read-only, full, not a folder, or refused (GCS: 403)
            raise StorageError(
                f"BUCKET: {self.bucket.uri(self.key)} cannot be written ({exc.strerror or exc})"
            ) from None
        held = self._read()
        return held is not None and held.get("token") == self.record["token"]

    def _read(self) -> dict[str, Any] | None:
        try:
            value = self.bucket.read_json(self.key)
        except (FileNotFoundError, orjson.JSONDecodeError):
            return None
        return value if isinstance(value, dict) else None

    def _stale(self, held: dict[str, Any]) -> str | None:
        """Why the lock `held` is stale (its owner is gone, or it is too old), or None."""
        pid = held.get("pid")
        if held.get("host") == self.record["host"] and isinstance(pid, int) and not _alive(pid):
            return f"its process {pid} is gone"
        try:
            beat = datetime.fromisoformat(str(held.get("heartbeat_at") or held.get("started_at")))
        except ValueError:
            return "it is unreadable"
        if _now() - beat > self.max_age:
            return f"its last heartbeat is older than {self.max_age.total_seconds() / 60:g} minutes"
        return None

    # --- holding it -----------------------------------------------------------------------
    def acquire(self) -> None:
        for _ in range(3):  # a stale lock taken over by another run at the same moment: look again
            if self._create():
                break
            held = self._read()
            if held is None:
                continue  # released between the two looks
            reason = self._stale(held)
            if reason is None:
                raise ConcurrentRunError(
                    f"another run holds {self.bucket.uri(self.key)}: {held.get('owner')} "
                    f"(pid {held.get('pid')} on {held.get('host')}, since {held.get('started_at')}); "
                    "wait for it to end (a lock whose owner is gone is taken over)"
                )
            event(
                f"warning: taking over the stale lock {self.bucket.uri(self.key)} of pid {held.get('pid')} "
                f"on {held.get('host')} ({reason})",
                stale_owner=held.get("owner"),
            )
            self.bucket.delete(self.key)
        else:
            raise ConcurrentRunError(f"could not take {self.bucket.uri(self.key)}: other runs keep taking it")
        self._beat = threading.Thread(target=self._heartbeat, name="run-lock", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        every = max(self.max_age.total_seconds() / 4, 0.5)
        while not self._stop.wait(every):
            held = self._read()
            if held is None or held.get("token") != self.record["token"]:
                return  # taken over: the other run's error or ours will say so
            self.bucket.write_json(self.key, self.record | {"heartbeat_at": _now().isoformat()})

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        held = self._read()
        if held is not None and held.get("token") == self.record["token"]:
            self.bucket.delete(self.key)


@contextmanager
def run_lock(settings: Settings, owner: str) -> Iterator[RunLock]:
    """Holds the run lock of the settings' bucket and dataset for the block."""
    max_age = timedelta(minutes=settings.lock_max_age_minutes)
    lock = RunLock(Bucket(settings.bucket_url), settings.dataset, owner, max_age)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
