"""RecordedCallContext: the part of `grpc.ServicerContext` both transports answer alike.

The interceptors and servicers see a synchronous servicer context on either transport;
each transport subclasses this with how it aborts, tracks liveness and sends metadata
(`grpc_server.GrpcCallContext`, `connect.ConnectCallContext`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc


class RecordedCallContext:
    """The call's metadata and peer, and the status a handler sets, kept for the
    transport to deliver."""

    def __init__(self, metadata: Sequence[tuple[str, str]], peer: str) -> None:
        self._metadata = tuple(metadata)
        self._peer = peer
        self._code: grpc.StatusCode | None = None
        self._details = ""

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def peer(self) -> str:
        return self._peer

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise NotImplementedError

    def abort_with_status(self, status: Any) -> None:
        self.abort(status.code, status.details)

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def details(self) -> str:
        return self._details

    def set_code(self, code: grpc.StatusCode) -> None:
        self._code = code

    def set_details(self, details: str) -> None:
        self._details = details
