"""Errors a user can act on. The CLI prints their message on one line and exits non-zero."""


class UserError(Exception):
    """Something the user can fix; `exit_code` is what the CLI returns."""

    exit_code = 1


class ConfigError(UserError):
    """Bad flags, environment or configuration, found before any request is sent."""

    exit_code = 2


class CredentialsError(UserError):
    """The API refused the credentials (401/403)."""

    exit_code = 3


class SourceDataError(UserError):
    """The API answered with something that is not what its contract says."""

    exit_code = 4


class ApiUnavailableError(UserError):
    """The API kept failing (429, 5xx, timeouts, refused connections) after every retry."""

    exit_code = 5


class ConcurrentRunError(UserError):
    """Another run holds the lock of the same bucket and dataset, or the DuckDB file is in use."""

    exit_code = 6


class StorageError(UserError):
    """A place the run writes (data folder, DuckDB folder, bucket) is read-only, full or missing."""

    exit_code = 9


class BuildError(UserError):
    """The daily job's `dbt build` failed: a model or a data test."""

    exit_code = 7


class StaleDataError(UserError):
    """The daily job's `dbt source freshness` found a raw table too old, or could not read it."""

    exit_code = 8
