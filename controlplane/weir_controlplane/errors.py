"""Errors the control plane answers requests with, one per wire status.

    ApiError                      base; carries the message a person can act on
    ├── InvalidArgumentError      INVALID_ARGUMENT / HTTP 400: bad selection, unknown asset
    ├── NotFoundError             NOT_FOUND / 404: unknown run, code location
    ├── FailedPreconditionError   FAILED_PRECONDITION / 400: e.g. a location that failed to load
    ├── UnavailableError          UNAVAILABLE / 503: a code location is down
    ├── UnauthenticatedError      UNAUTHENTICATED / 401
    └── PermissionDeniedError     PERMISSION_DENIED / 403

The gRPC and HTTP transports map these through one table; anything else is INTERNAL and is
logged with the request id, never shown as a traceback.
"""

from __future__ import annotations


class ApiError(Exception):
    """Base of the errors a request can end with."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgumentError(ApiError):
    pass


class NotFoundError(ApiError):
    pass


class FailedPreconditionError(ApiError):
    pass


class UnavailableError(ApiError):
    pass


class UnauthenticatedError(ApiError):
    pass


class PermissionDeniedError(ApiError):
    pass
