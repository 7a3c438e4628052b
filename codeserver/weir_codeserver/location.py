"""The code location this server holds: the user's Definitions loaded once, or why not.

The snapshot the definitions RPCs send is built here at load and kept as one copy of
bytes; GetDefinitions and StreamDefinitions of tens of thousands of assets frame a reply
from it, which costs a copy for the time of the call.
"""

from __future__ import annotations

import platform
import time
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import weir
from weir import Definitions
from weir_protos.v1 import code_location_pb2

from weir_codeserver.loader import CodeTarget, LoadError, load_definitions
from weir_codeserver.run_plan import bound_resources
from weir_codeserver.snapshot import BuiltSnapshot, build_snapshot, length_delimited
from weir_codeserver.wire_values import error_message, timestamp_message

# GetDefinitionsResponse.definitions and StreamDefinitionsResponse.part are field 1.
_RESPONSE_SNAPSHOT_FIELD = 1


@dataclass
class LoadedLocation:
    """`definitions` and `snapshot`, or `load_error`; never both."""

    target: CodeTarget
    server_id: str
    load_time: float
    definitions: Definitions | None = None
    resources: dict[str, Any] = field(default_factory=dict)
    snapshot: BuiltSnapshot | None = None
    load_error: LoadError | None = None

    @staticmethod
    def load(target: CodeTarget) -> LoadedLocation:
        """Import the user's code and convert it; failures become `load_error`."""
        location = LoadedLocation(target, server_id=str(uuid.uuid4()), load_time=time.time())
        try:
            defs = load_definitions(target)
            resources = bound_resources(defs)
            snapshot = build_snapshot(defs, resources)
        except LoadError as exc:
            location.load_error = exc
            return location
        except Exception as exc:  # converting the definitions failed: show it, keep serving
            location.load_error = LoadError(
                f"Error converting the definitions of {target.describe()}: "
                f"{type(exc).__name__}: {exc}",
                traceback.format_exc(),
                type(exc).__name__,
            )
            return location
        location.definitions = defs
        location.resources = resources
        location.snapshot = snapshot
        return location

    def definitions_response(self) -> bytes:
        """A serialized GetDefinitionsResponse of the snapshot (there must be one)."""
        assert self.snapshot is not None
        return length_delimited(_RESPONSE_SNAPSHOT_FIELD, self.snapshot.snapshot_bytes)

    def stream_responses(self) -> Iterator[bytes]:
        """Serialized StreamDefinitionsResponses of the snapshot, made one at a time."""
        assert self.snapshot is not None
        return self.snapshot.framed_parts(
            lambda part: length_delimited(_RESPONSE_SNAPSHOT_FIELD, part)
        )

    def error(self) -> Any:
        """The load error as a wire Error (None when loaded)."""
        if self.load_error is None:
            return None
        return error_message(
            self.load_error.message, self.load_error.class_name, self.load_error.stack
        )

    def info(self) -> code_location_pb2.GetLocationInfoResponse:
        response = code_location_pb2.GetLocationInfoResponse(
            server_id=self.server_id,
            runtime=code_location_pb2.RuntimeInfo(
                language="python",
                language_version=platform.python_version(),
                sdk="weir",
                sdk_version=weir.__version__,
            ),
            content_hash=self.snapshot.content_hash if self.snapshot else "",
            load_time=timestamp_message(self.load_time),
        )
        if self.load_error is not None:
            response.load_error.CopyFrom(self.error())
        return response
