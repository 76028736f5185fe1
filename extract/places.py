"""The places a run writes: the local folders checked before the first request, and an I/O error
of a place during the run (read-only, full, not a folder) turned into one line."""

from __future__ import annotations

import errno
import tempfile

import requests

from extract.errors import StorageError
from extract.settings import Settings

# errors of the place itself, not of a connection (requests' errors are OSErrors too)
PLACE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EIO}


def check_writable(settings: Settings) -> None:
    """Each local folder the run writes can hold a new file, else StorageError naming its setting.
    (The bucket is checked by writing the run lock into it.)"""
    places = [("DATA_DIR", settings.data_dir)]
    if settings.destination == "duckdb":
        places.append(("DUCKDB_PATH", settings.duckdb_path.parent))
    for name, folder in places:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
                pass
        except OSError as exc:
            raise StorageError(f"{name}: {folder} cannot be written ({exc.strerror or exc})") from None


def storage_error(exc: BaseException) -> StorageError | None:
    """The one-line error of an I/O failure of a place the run writes, if `exc` is one."""
    if isinstance(exc, requests.RequestException) or not isinstance(exc, OSError):
        return None
    if exc.errno in PLACE_ERRNOS:
        where = f" {exc.filename}" if exc.filename else ""
        return StorageError(
            f"cannot write{where}: {exc.strerror or exc}; the run stopped, and what it had not "
            "checkpointed is fetched again next run"
        )
    return None
