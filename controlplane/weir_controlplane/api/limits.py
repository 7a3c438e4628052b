"""The sizes the API accepts, in one place, and the checks that refuse what exceeds them.

A client can send anything up to the transport's body limit; without these a single
10 MB tag made every later ListRuns slow and its reply too big for a gRPC client's
4 MiB default. Each check raises INVALID_ARGUMENT naming the field and the limit, so
the caller knows what to shorten. The proto comments of the fields repeat these values.

Replies stay under `MAX_REPLY_BYTES` by paging: a list RPC ends its page early, with a
cursor, once the items it holds reach that size. Every single item fits, because the
limits below bound each one well under it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf.message import Message

from weir_controlplane.errors import InvalidArgumentError

# Page sizes of list RPCs: limit 0 is the default page, more than the maximum is cut to it.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# A list reply stops adding items at this size: under gRPC's default 4 MiB receive limit.
MAX_REPLY_BYTES = 3 * 1024 * 1024

# Run tags (LaunchRun.tags, and the tag filters of ListRuns).
MAX_TAGS = 100
MAX_TAG_KEY_BYTES = 256
MAX_TAG_VALUE_BYTES = 4 * 1024
# LaunchRun.run_config, serialized.
MAX_RUN_CONFIG_BYTES = 256 * 1024
# Selection strings (LaunchRun, ListAssets, GetAssetLineage).
MAX_SELECTION_CHARS = 10_000
# One reported event: the metadata entries of its payload, and the whole event.
MAX_EVENT_METADATA_BYTES = 256 * 1024
MAX_EVENT_BYTES = 512 * 1024
# A sensor's cursor (SetSensorCursor).
MAX_SENSOR_CURSOR_BYTES = 64 * 1024
# Row ids and per-run sequence numbers are stored as signed 64-bit integers.
MAX_INT64 = 2**63 - 1


def check_tags(tags: Mapping[str, str], *, field: str = "tags") -> None:
    """INVALID_ARGUMENT when `tags` has too many entries or an entry too long."""
    if len(tags) > MAX_TAGS:
        raise InvalidArgumentError(f"{field} has {len(tags)} entries; at most {MAX_TAGS} allowed")
    for key, value in tags.items():
        if not key:
            raise InvalidArgumentError(f"{field} has an empty key")
        if len(key.encode()) > MAX_TAG_KEY_BYTES:
            raise InvalidArgumentError(
                f"{field} key {_preview(key)} is {len(key.encode())} bytes; "
                f"at most {MAX_TAG_KEY_BYTES} allowed"
            )
        if len(value.encode()) > MAX_TAG_VALUE_BYTES:
            raise InvalidArgumentError(
                f"{field} value of {_preview(key)} is {len(value.encode())} bytes; "
                f"at most {MAX_TAG_VALUE_BYTES} allowed"
            )


def check_run_config(run_config: Message, *, field: str = "runConfig") -> None:
    size = run_config.ByteSize()
    if size > MAX_RUN_CONFIG_BYTES:
        raise InvalidArgumentError(
            f"{field} is {size} bytes; at most {MAX_RUN_CONFIG_BYTES} allowed"
        )


def check_selection(selection: str, *, field: str = "selection") -> None:
    if len(selection) > MAX_SELECTION_CHARS:
        raise InvalidArgumentError(
            f"{field} is {len(selection)} characters; at most {MAX_SELECTION_CHARS} allowed"
        )


def check_sensor_cursor(cursor: str, *, field: str = "cursor") -> None:
    size = len(cursor.encode())
    if size > MAX_SENSOR_CURSOR_BYTES:
        raise InvalidArgumentError(
            f"{field} is {size} bytes; at most {MAX_SENSOR_CURSOR_BYTES} allowed"
        )


def check_event(event: Any, *, where: str) -> None:
    """INVALID_ARGUMENT when a reported event (`where` says which, "event 3 of the
    batch") is too big as a whole or in its payload's metadata."""
    size = event.ByteSize()
    if size > MAX_EVENT_BYTES:
        raise InvalidArgumentError(f"{where} is {size} bytes; at most {MAX_EVENT_BYTES} allowed")
    which = event.WhichOneof("payload")
    if which is None:
        return
    payload = getattr(event, which)
    if "metadata" not in payload.DESCRIPTOR.fields_by_name:
        return
    metadata = sum(entry.ByteSize() for entry in payload.metadata)
    if metadata > MAX_EVENT_METADATA_BYTES:
        raise InvalidArgumentError(
            f"{where}: {which}.metadata is {metadata} bytes; at most "
            f"{MAX_EVENT_METADATA_BYTES} allowed"
        )


def check_int64(value: int, *, field: str) -> int:
    if value > MAX_INT64:
        raise InvalidArgumentError(f"{field} {value} is out of range; at most {MAX_INT64}")
    return value


def _preview(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")
