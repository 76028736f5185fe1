"""Reading a downloaded bulk zip member by member without holding any member in memory: each
member is decompressed on a thread into a named pipe that the warehouse engine reads as a file."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import tempfile
import threading
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from extract.errors import SourceDataError

CHUNK = 1 << 20


@dataclass(frozen=True)
class Member:
    """One CSV or JSONL file inside the zip, and the part of the raw tables it fills."""

    path: str
    part: str  # certs | recs

    @property
    def folder(self) -> str:
        return self.path.rpartition("/")[0]


def open_zip(path: Path, label: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceDataError(f"{label}: the downloaded file is not a readable zip ({exc})") from None


def csv_header(archive: zipfile.ZipFile, member: str, label: str) -> list[str]:
    """The member's header row (a UTF-8 BOM dropped)."""
    try:
        with archive.open(member) as raw:
            line = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="").readline()
    except (zipfile.BadZipFile, zlib.error, UnicodeDecodeError, EOFError) as exc:
        raise SourceDataError(f"{label}: {member} cannot be read ({exc})") from None
    header = next(csv.reader([line]), [])
    if not header or not all(h.strip() for h in header):
        raise SourceDataError(f"{label}: {member} has no header row")
    return [h.strip() for h in header]


class MemberPipe:
    """`with MemberPipe(archive, member) as path:` the engine reads the decompressed member at
    `path` (a FIFO) while a thread writes it; `finish()` waits for the writer and raises if the
    member was damaged (bad CRC, truncated deflate stream), so the caller can roll back."""

    def __init__(self, archive: zipfile.ZipFile, member: str, label: str, scratch: Path) -> None:
        self.archive, self.member, self.label = archive, member, label
        scratch.mkdir(parents=True, exist_ok=True)
        self._dir = Path(tempfile.mkdtemp(prefix="member-", dir=scratch))
        self.path = self._dir / "member"
        self.failure: BaseException | None = None
        self.bytes = 0
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Path:
        os.mkfifo(self.path)
        self._thread = threading.Thread(target=self._write, daemon=True)
        self._thread.start()
        return self.path

    def _write(self) -> None:
        fd = os.open(self.path, os.O_WRONLY)
        try:
            with self.archive.open(self.member) as source:
                while chunk := source.read(CHUNK):
                    self.bytes += len(chunk)
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view) :]
        except BrokenPipeError:
            pass  # the reader stopped early (it failed): its error is the one reported
        except BaseException as exc:  # damaged member: reported by finish()
            self.failure = exc
        finally:
            os.close(fd)

    def finish(self) -> None:
        """Waits for the writer; raises a one-line error if the member could not be read whole."""
        self._unblock()
        if self.failure is not None:
            raise SourceDataError(
                f"{self.label}: {self.member} is damaged ({self.failure}); nothing of it was loaded"
            ) from None

    def _unblock(self) -> None:
        """A writer still waiting for a reader (the engine failed before opening the pipe) is
        given one, so the thread always ends."""
        if self._thread is None:
            return
        while self._thread.is_alive():
            with contextlib.suppress(OSError):
                fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
                with contextlib.suppress(OSError):
                    while os.read(fd, CHUNK):
                        pass
                os.close(fd)
            self._thread.join(0.05)

    def __exit__(self, *exc: object) -> None:
        self._unblock()
        shutil.rmtree(self._dir, ignore_errors=True)
