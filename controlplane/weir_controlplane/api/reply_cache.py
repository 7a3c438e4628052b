"""Built replies of the large asset reads, reused while nothing they show has changed.

Listing 10,000 assets costs storage reads, message building and (over HTTP) protobuf's
pure-Python JSON mapping, yet a dashboard asks the same pages again and again. A reply is
kept under everything it depends on: the method and request bytes, the deployment, the
definitions it was built from (the graph's content hash, which also names the locations
the caller may read) and the deployment's asset state revision (storage/asset_revisions.py),
taken before the reply is built. Any definition reload, recorded state change or narrower
grant gives a new key, so a kept reply is never served after a change it does not show.

The HTTP side keeps each kept reply's JSON beside it (`encoded`), so a repeated page is
sent without converting it again; a builder that holds its parts' JSON already (kept
assets) says how to join it. Likewise the wire bytes (`wire`, for gRPC and binary
Connect): a reply joined from its parts' encoded entries is an `EncodedReply`, sent as
joined and parsed into a message only if something in this process reads it (parsing
the 4.3 MB of a whole 10,000-asset lineage took 17-19 ms of every cold read), and a kept
reply is never serialized twice (4.7 MB of lineage took 10-15 ms each time).

Example::

    revision = revisions.current(scope)  # before anything the reply shows is read
    key = ReplyKey.of("ListAssets", scope, graph.content_hash, visible, request, revision)
    reply = cache.get_or_build(key, lambda: Built(build(request), size))
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeAlias, TypeVar

from google.protobuf.message import Message

from weir_controlplane.storage import DeploymentScope

# What the kept replies may hold, as wire bytes plus their JSON (estimated, as the wire
# size times `_JSON_FACTOR`): a few full listings of a 10,000-asset deployment.
DEFAULT_MAX_BYTES = 48 * 1024 * 1024
_JSON_FACTOR = 3
_Reply = TypeVar("_Reply", bound=Message)


@dataclass(frozen=True)
class ReplyKey:
    method: str
    deployment_id: int
    graph_hash: str
    visible: tuple[str, ...] | None
    request: bytes
    revision: int

    @classmethod
    def of(
        cls,
        method: str,
        scope: DeploymentScope,
        graph_hash: str,
        visible: frozenset[str] | None,
        request: Message,
        revision: int,
    ) -> ReplyKey:
        return cls(
            method,
            scope.deployment_id,
            graph_hash,
            None if visible is None else tuple(sorted(visible)),
            request.SerializeToString(deterministic=True),
            revision,
        )


class EncodedReply(Generic[_Reply]):
    """A reply of type `message_type` as its wire bytes, which both transports send as
    they are (`ReplyCache.wire`); `message()` parses them, once, for what reads the reply
    in this process (the JSON mapping, a caller of the servicer).

    Example::

        reply = EncodedReply(cp.ListAssetsResponse, b"".join(kept.entry for kept in page))
        reply.message().assets[0].key
    """

    __slots__ = ("_message", "message_type", "wire")

    def __init__(self, message_type: type[_Reply], wire: bytes) -> None:
        self.message_type = message_type
        self.wire = wire
        self._message: _Reply | None = None

    def message(self) -> _Reply:
        if self._message is None:  # two threads may both parse: the same message
            self._message = self.message_type.FromString(self.wire)
        return self._message


# What an RPC that builds its reply from encoded parts returns: either kind of reply.
Reply: TypeAlias = "_Reply | EncodedReply[_Reply]"


def message_of(reply: Message | EncodedReply[Message]) -> Message:
    """The reply as a message (an encoded one parsed)."""
    return reply.message() if isinstance(reply, EncodedReply) else reply


@dataclass(frozen=True)
class Built(Generic[_Reply]):
    """A built reply with what its builder knows of it: its wire size, and when it
    holds its parts' JSON already, how to join its JSON from them."""

    reply: _Reply | EncodedReply[_Reply]
    size: int
    json: Callable[[], bytes] | None = None


class _Entry:
    __slots__ = ("json", "json_of", "reply", "size", "wire")

    def __init__(self, built: Built[Message]) -> None:
        self.reply = built.reply
        # The reply, its wire bytes (kept, or made on the first binary send) and its JSON.
        self.size = built.size * (2 + _JSON_FACTOR)
        self.json: bytes | None = None
        self.json_of = built.json
        self.wire = built.reply.wire if isinstance(built.reply, EncodedReply) else None


class ReplyCache:
    """Least recently used replies by `ReplyKey`, bounded by their estimated size."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[ReplyKey, _Entry] = OrderedDict()
        self._by_reply: dict[int, _Entry] = {}  # id(reply) of each kept reply
        self._bytes = 0

    def get_or_build(
        self, key: ReplyKey, build: Callable[[], Built[_Reply]]
    ) -> _Reply | EncodedReply[_Reply]:
        """The kept reply for `key`, else `build()`'s, kept. Two callers missing at once
        both build: the same reply, and neither waits on the other's storage reads."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry.reply  # type: ignore[return-value]
        built = build()
        reply = built.reply
        entry = _Entry(built)  # type: ignore[arg-type]
        if entry.size > self._max_bytes:
            return reply
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._forget(old)
            self._entries[key] = entry
            self._by_reply[id(reply)] = entry
            self._bytes += entry.size
            while self._bytes > self._max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._forget(evicted)
        return reply

    def encoded(
        self, reply: Message | EncodedReply[Message], encode: Callable[[Message], bytes]
    ) -> bytes:
        """`encode(reply)`, converted once per kept reply (any other reply every time),
        joined from its parts where its builder said how."""
        with self._lock:
            entry = self._by_reply.get(id(reply))
            if entry is None or entry.reply is not reply:
                entry = None
            elif entry.json is not None:
                return entry.json
        if entry is not None and entry.json_of is not None:
            encoded = entry.json_of()
        else:
            encoded = encode(message_of(reply))
        if entry is not None:
            entry.json = encoded
        return encoded

    def wire(
        self, reply: Message | EncodedReply[Message], serialize: Callable[[Message], bytes]
    ) -> bytes:
        """`serialize(reply)`, done once per kept reply (any other reply every time), or
        the bytes of an encoded one."""
        if isinstance(reply, EncodedReply):
            return reply.wire
        with self._lock:
            entry = self._by_reply.get(id(reply))
            if entry is None or entry.reply is not reply:
                return serialize(reply)
            if entry.wire is not None:
                return entry.wire
        entry.wire = wire = serialize(reply)  # two threads may both: the same bytes
        return wire

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._by_reply.clear()
            self._bytes = 0

    def _forget(self, entry: _Entry) -> None:
        self._by_reply.pop(id(entry.reply), None)
        self._bytes -= entry.size
