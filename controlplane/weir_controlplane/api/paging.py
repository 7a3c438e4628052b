"""Page sizes and the cursors of listings the API pages itself (not storage).

List RPCs share one rule: limit 0 is the default page (100), more than the maximum
(1,000) is cut to it, a negative limit is a mistake. The sizes live in `limits`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from google.protobuf.message import Message

from weir_controlplane.api.limits import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_REPLY_BYTES
from weir_controlplane.errors import InvalidArgumentError

DEFAULT_LIMIT = DEFAULT_PAGE_SIZE
MAX_LIMIT = MAX_PAGE_SIZE


def page_size(limit: int) -> int:
    if limit < 0:
        raise InvalidArgumentError(f"limit must be 0 (the default, {DEFAULT_LIMIT}) or more")
    return min(limit or DEFAULT_LIMIT, MAX_LIMIT)


def fitting(items: Sequence[Message]) -> int:
    """How many of `items`, from the first, fit in one reply of `MAX_REPLY_BYTES`; at
    least one, which the API's size limits keep well under the budget."""
    return fitting_sizes([item.ByteSize() for item in items])


def fitting_sizes(sizes: Sequence[int]) -> int:
    """`fitting` of items of these wire sizes."""
    total = 0
    for count, size in enumerate(sizes):
        total += size + 8  # the field tag and length prefix, generously
        if total > MAX_REPLY_BYTES and count > 0:
            return count
    return len(sizes)


def encode_after(value: str) -> str:
    """An opaque cursor for "items ordered after `value`"."""
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_after(cursor: str) -> str | None:
    """The value an `encode_after` cursor stands for; None for no cursor."""
    if not cursor:
        return None
    try:
        return base64.b64decode(
            cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True
        ).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidArgumentError(
            f"cursor {cursor!r} is not valid; pass back a nextCursor from an earlier page"
        ) from None
