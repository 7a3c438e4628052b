"""Errors raised by the storage layer; the API layer maps each to a status code.

StorageError
├── NotFoundError                 (NOT_FOUND / 404)
│   ├── DeploymentNotFoundError
│   ├── RunNotFoundError
│   ├── CodeLocationNotFoundError
│   ├── BackfillNotFoundError
│   └── TokenNotFoundError
├── InvalidCursorError            (INVALID_ARGUMENT / 400)
├── InvalidEventError             (INVALID_ARGUMENT / 400)
│   └── UnplannedAssetError       an event names an asset outside its run's plan
├── DuplicateRunError             (ALREADY_EXISTS / 409)
├── AlreadyExistsError            (ALREADY_EXISTS / 409)
│   ├── DeploymentExistsError
│   └── RoleBindingExistsError    the token already holds a role in that deployment
├── DatabaseUnavailableError      (UNAVAILABLE / 503) the server is down or restarting
├── InvalidDatabaseUrlError       a database URL that does not parse or names no supported database
└── NaiveDatetimeError            (a programming error: pass UTC-aware datetimes)
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error the storage layer raises on purpose."""


class NotFoundError(StorageError):
    pass


class DeploymentNotFoundError(NotFoundError):
    def __init__(self, name: str) -> None:
        super().__init__(f"deployment {name!r} does not exist")
        self.name = name


class RunNotFoundError(NotFoundError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id!r} does not exist in this deployment")
        self.run_id = run_id


class CodeLocationNotFoundError(NotFoundError):
    def __init__(self, name: str) -> None:
        super().__init__(f"code location {name!r} does not exist in this deployment")
        self.name = name


class BackfillNotFoundError(NotFoundError):
    def __init__(self, backfill_id: str) -> None:
        super().__init__(f"backfill {backfill_id!r} does not exist in this deployment")
        self.backfill_id = backfill_id


class InvalidCursorError(StorageError):
    def __init__(self, cursor: str) -> None:
        super().__init__(
            f"cursor {cursor!r} is not valid; pass back a next_cursor from an earlier page"
        )
        self.cursor = cursor


class InvalidEventError(StorageError):
    """A reported event breaks the ingest contract (for example a sequence below 1)."""


class UnplannedAssetError(InvalidEventError):
    """A reported event names an asset (or a check on one) its run was not launched for."""

    def __init__(
        self, run_id: str, asset_keys: list[str], event_type: str, sequence: int | None
    ) -> None:
        shown = ", ".join(repr(key) for key in asset_keys[:5])
        more = f" and {len(asset_keys) - 5} more" if len(asset_keys) > 5 else ""
        super().__init__(
            f"{event_type} event {sequence} names asset {shown}{more}, which run {run_id!r} "
            "was not launched to materialize; nothing of the batch was stored"
        )
        self.run_id = run_id
        self.asset_keys = asset_keys


class DuplicateRunError(StorageError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"a run with id {run_id!r} already exists")
        self.run_id = run_id


class DatabaseUnavailableError(StorageError):
    """The database server could not be reached, or dropped the connection mid-transaction
    (a restart, a failover). Nothing of the transaction was committed; retrying works
    once the server is back."""

    def __init__(self) -> None:
        super().__init__("the database is unavailable right now; retry shortly")


class InvalidDatabaseUrlError(StorageError, ValueError):
    """A database URL Weir cannot use. The message never repeats the URL: it may hold a
    password."""


class NaiveDatetimeError(StorageError, ValueError):
    def __init__(self) -> None:
        super().__init__(
            "storage takes timezone-aware datetimes only; use datetime.now(UTC) or attach a tzinfo"
        )


class TokenNotFoundError(NotFoundError):
    def __init__(self, token_id: str) -> None:
        super().__init__(f"token {token_id!r} does not exist")
        self.token_id = token_id


class AlreadyExistsError(StorageError):
    pass


class DeploymentExistsError(AlreadyExistsError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a deployment named {name!r} already exists")
        self.name = name


class RoleBindingExistsError(AlreadyExistsError):
    def __init__(self, token_id: str, deployment: str) -> None:
        super().__init__(
            f"token {token_id!r} already holds a role in deployment {deployment!r}; delete "
            "that role binding first"
        )
