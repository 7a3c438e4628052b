"""The one mapping from what a request raised to the error its caller sees.

Both transports reach it through `ErrorMappingInterceptor`: `ApiError`s pass through,
storage and selection errors become the matching `ApiError`, and anything else is a bug:
logged here with its traceback and request id, answered as INTERNAL with only the id.
"""

from __future__ import annotations

import logging

from weir_selection import SelectionError

from weir_controlplane import errors
from weir_controlplane.storage import errors as storage_errors

log = logging.getLogger("weir_controlplane.api")

_KNOWN_ERRORS: tuple[tuple[type[Exception], type[errors.ApiError]], ...] = (
    (storage_errors.NotFoundError, errors.NotFoundError),
    (storage_errors.InvalidCursorError, errors.InvalidArgumentError),
    (storage_errors.InvalidEventError, errors.InvalidArgumentError),
    (storage_errors.DuplicateRunError, errors.AlreadyExistsError),
    (storage_errors.AlreadyExistsError, errors.AlreadyExistsError),
    # The database is restarting: a retryable status, so reporters and clients try again.
    (storage_errors.DatabaseUnavailableError, errors.UnavailableError),
    # A selection string that does not parse or names unknown assets; the message says which.
    (SelectionError, errors.InvalidArgumentError),
)


def known_api_error(exc: Exception) -> errors.ApiError | None:
    """The `ApiError` an expected exception stands for; None for a bug."""
    if isinstance(exc, errors.ApiError):
        return exc
    for known_class, api_class in _KNOWN_ERRORS:
        if isinstance(exc, known_class):
            return api_class(str(exc))
    return None


def to_api_error(exc: Exception, *, method: str, request_id: str) -> errors.ApiError:
    """The `ApiError` to answer `exc` with; logs the traceback of unexpected ones."""
    known = known_api_error(exc)
    if known is not None:
        return known
    log.error("internal error in %s (request id %s)", method, request_id, exc_info=exc)
    return errors.InternalError(
        f"internal error; the server logged the details under request id {request_id}"
    )
