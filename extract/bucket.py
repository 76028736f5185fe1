"""The bucket: a local folder (`file://`) or `gs://`, reached through dlt's fsspec helpers so that
GCS credentials and endpoints resolve exactly as for dlt's filesystem destination."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.storages.configuration import FilesystemConfiguration
from dlt.common.storages.fsspec_filesystem import fsspec_from_config

from extract.errors import ConfigError, CredentialsError


class Bucket:
    """Objects under one root URL; every write is atomic (all or nothing at its final key)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        try:
            config = resolve_configuration(
                FilesystemConfiguration(bucket_url=self.url), sections=("destination", "filesystem")
            )
        except ConfigFieldMissingException:
            raise CredentialsError(
                f"no credentials for the bucket {self.url}: set GOOGLE_APPLICATION_CREDENTIALS to a "
                "service-account key file or run `gcloud auth application-default login`"
            ) from None
        self.fs, root = fsspec_from_config(config)
        self.root = root.rstrip("/")
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        self.local = "file" in protocols
        if not self.local:
            try:  # listing needs only storage.objects.list, which object admin on the bucket grants
                self.fs.ls(self.root.split("/")[0])
            except (FileNotFoundError, PermissionError):
                raise ConfigError(
                    f"the bucket {self.url} does not exist or cannot be read: check BUCKET"
                ) from None

    def path(self, key: str) -> str:
        return f"{self.root}/{key.lstrip('/')}"

    def uri(self, key: str) -> str:
        """The object's URL as users see it (`file:///…` or `gs://…`)."""
        return f"{self.url}/{key.lstrip('/')}"

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self.path(key)))

    def read_json(self, key: str) -> Any:
        path = self.path(key)
        if not self.fs.exists(path):
            return None
        with self.fs.open(path, "rb") as handle:
            return orjson.loads(handle.read())

    def write_json(self, key: str, value: Any) -> None:
        self.write_bytes(key, orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))

    def write_bytes(self, key: str, data: bytes) -> None:
        if self.local:
            partial = self._partial(key)
            with self.fs.open(partial, "wb") as handle:
                handle.write(data)
            self.fs.mv(partial, self.path(key))
        else:  # an object store makes an object visible only once its upload completes
            with self.fs.open(self.path(key), "wb") as handle:
                handle.write(data)

    def put_file(self, local: Path, key: str) -> str:
        """Uploads (or moves, when local) a finished file to `key`; returns its URL."""
        if self.local:
            partial = self._partial(key)
            self.fs.put_file(str(local), partial)
            self.fs.mv(partial, self.path(key))
        else:
            self.fs.put_file(str(local), self.path(key))
        return self.uri(key)

    def delete(self, key: str) -> None:
        path = self.path(key)
        if self.fs.exists(path):
            self.fs.rm(path)

    def list(self, prefix: str) -> list[str]:
        """Keys under `prefix` (recursive), relative to the bucket root."""
        base = self.path(prefix)
        if not self.fs.exists(base):
            return []
        start = len(self.root) + 1
        return sorted(p[start:] if p.startswith(self.root) else p for p in self.fs.find(base))

    def _partial(self, key: str) -> str:
        path = self.path(key)
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        return path + ".partial"
