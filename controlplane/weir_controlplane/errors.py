"""Errors the control plane's API answers with, each tied to one status code.

Raise these anywhere behind the API (services, registry, coordinator); the API's error
layer turns them into a gRPC status or a Connect error with the HTTP status the Connect
protocol assigns, and the client turns a Connect error back into the same class.

ApiError                            (code "unknown" / 500 unless a subclass says otherwise)
├── InvalidArgumentError            invalid_argument    / 400
├── NotFoundError                   not_found           / 404
├── AlreadyExistsError              already_exists      / 409
├── FailedPreconditionError         failed_precondition / 400
├── PermissionDeniedError           permission_denied   / 403
├── UnauthenticatedError            unauthenticated     / 401
├── UnimplementedError              unimplemented       / 501
├── InternalError                   internal            / 500
└── UnavailableError                unavailable         / 503
    └── ControlPlaneUnreachableError  (client side: nothing answered at the URL)

InvalidSettingError (a ValueError)  a control-plane setting out of range, found before start

This module imports nothing heavy, so the CLI can use it without loading grpc.
"""

from __future__ import annotations

from typing import ClassVar

# Connect's error codes and the HTTP status each is sent with
# (https://connectrpc.com/docs/protocol#error-codes). gRPC uses the same codes,
# spelled in upper case ("canceled" is CANCELLED there).
CONNECT_HTTP_STATUS: dict[str, int] = {
    "canceled": 499,
    "unknown": 500,
    "invalid_argument": 400,
    "deadline_exceeded": 504,
    "not_found": 404,
    "already_exists": 409,
    "permission_denied": 403,
    "resource_exhausted": 429,
    "failed_precondition": 400,
    "aborted": 409,
    "out_of_range": 400,
    "unimplemented": 501,
    "internal": 500,
    "unavailable": 503,
    "data_loss": 500,
    "unauthenticated": 401,
}


def grpc_status_name(code: str) -> str:
    """The `grpc.StatusCode` member name of a Connect code: "not_found" -> "NOT_FOUND"."""
    return "CANCELLED" if code == "canceled" else code.upper()


def connect_code(grpc_name: str) -> str:
    """The Connect code of a `grpc.StatusCode` member name: "NOT_FOUND" -> "not_found"."""
    return "canceled" if grpc_name == "CANCELLED" else grpc_name.lower()


class ApiError(Exception):
    """An error the API reports to its caller, with a message that says what to fix.

    Example::

        raise NotFoundError(f"run {run_id!r} does not exist in deployment 'prod'")
    """

    code: ClassVar[str] = "unknown"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def http_status(self) -> int:
        return CONNECT_HTTP_STATUS.get(self.code, 500)

    @staticmethod
    def from_code(code: str, message: str) -> ApiError:
        """The error class for a Connect code (as a client receives it), with `message`."""
        error_class = _CLASS_BY_CODE.get(code)
        if error_class is not None:
            return error_class(message)
        error = ApiError(message)
        if code in CONNECT_HTTP_STATUS:
            error.code = code  # type: ignore[misc]  # a code with no class of its own
        return error


class InvalidArgumentError(ApiError):
    """The request is wrong whatever the system's state: a bad selection, an unknown key."""

    code = "invalid_argument"


class NotFoundError(ApiError):
    """The run, asset, code location or deployment the request addresses does not exist."""

    code = "not_found"


class AlreadyExistsError(ApiError):
    code = "already_exists"


class FailedPreconditionError(ApiError):
    """The request is fine but the system is not in a state to do it (say, a code location
    whose code failed to load)."""

    code = "failed_precondition"


class PermissionDeniedError(ApiError):
    code = "permission_denied"


class UnauthenticatedError(ApiError):
    code = "unauthenticated"


class UnimplementedError(ApiError):
    code = "unimplemented"


class InternalError(ApiError):
    """A bug on the server's side; its log holds the details under the request id."""

    code = "internal"


class UnavailableError(ApiError):
    """Something the request needs cannot be reached right now; retrying later may work."""

    code = "unavailable"


class ControlPlaneUnreachableError(UnavailableError):
    """The client got no answer at all from the control plane's URL."""


_CLASS_BY_CODE: dict[str, type[ApiError]] = {
    error_class.code: error_class
    for error_class in (
        InvalidArgumentError,
        NotFoundError,
        AlreadyExistsError,
        FailedPreconditionError,
        PermissionDeniedError,
        UnauthenticatedError,
        UnimplementedError,
        InternalError,
        UnavailableError,
    )
}


class InvalidSettingError(ValueError):
    """A control-plane setting that cannot work (say, `max_concurrent_runs=0`, which would
    leave every run queued forever), refused when the configuration is built.

    `setting` is the field's name; the CLI shows it as its flag (`--max-concurrent-runs`).
    """

    def __init__(self, setting: str, requirement: str, value: object) -> None:
        super().__init__(f"{setting} {requirement} (got {value!r})")
        self.setting = setting
        self.requirement = requirement
        self.value = value
