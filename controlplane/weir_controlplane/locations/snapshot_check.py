"""What the control plane accepts from a code location: a definitions snapshot it can hold
and reason about.

A code location is any server speaking the protos, in any language, and may be broken or
hostile. Its snapshot is refused, with a load error naming what is wrong, when it is too
big (bytes or assets, counted while it streams in, so a huge one is never held whole),
when its asset graph has a cycle or a key twice, or when it carries enum values this
control plane does not know (a newer or broken server). A refused snapshot only puts its
own location in ERROR; the others keep serving.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from weir_protos.v1 import definitions_pb2

from weir_controlplane.locations.graph import SnapshotGraph, key_string


@dataclass(frozen=True)
class SnapshotLimits:
    # Ten times the largest location measured in bench/ (10,000 assets) and more.
    max_assets: int = 100_000
    max_bytes: int = 256 * 1024 * 1024


class SnapshotRefusedError(Exception):
    """The snapshot breaks a rule above; the message says which, for the location's error."""


class SnapshotBudget:
    """Counts a streamed snapshot's parts against the limits as they arrive."""

    def __init__(self, location: str, limits: SnapshotLimits | None = None) -> None:
        self.location = location
        self.limits = limits or SnapshotLimits()
        self.bytes = 0
        self.assets = 0

    def add(self, part: definitions_pb2.DefinitionsSnapshot) -> None:
        self.bytes += part.ByteSize()
        self.assets += len(part.assets)
        if self.assets > self.limits.max_assets:
            raise SnapshotRefusedError(
                f"code location {self.location!r} defines more than "
                f"{self.limits.max_assets:,} assets; the control plane accepts at most that many "
                "per location (split it into several locations)"
            )
        if self.bytes > self.limits.max_bytes:
            raise SnapshotRefusedError(
                f"code location {self.location!r} sent a definitions snapshot over "
                f"{self.limits.max_bytes // (1024 * 1024)} MiB; the control plane accepts at "
                "most that much per location"
            )


def checked_graph(
    location: str, snapshot: definitions_pb2.DefinitionsSnapshot, limits: SnapshotLimits
) -> SnapshotGraph:
    """The snapshot's graph, or SnapshotRefusedError saying what is wrong with it."""
    SnapshotBudget(location, limits).add(snapshot)
    graph = SnapshotGraph(snapshot)
    # The graph holds each asset's message already: walking those is far cheaper than
    # wrapping every element of `snapshot.assets` again.
    _check_enums(location, snapshot, skip="assets")
    for node in graph.nodes.values():
        if _sets_enum_bearing_field(node):
            _check_enums(location, node, "assets.")
    if len(graph.nodes) != len(snapshot.assets):
        counts = Counter(key_string(node.key) for node in snapshot.assets)
        twice = sorted(key for key, count in counts.items() if count > 1)
        raise SnapshotRefusedError(
            f"code location {location!r} defines asset(s) {_names(twice)} more than once"
        )
    if len(graph.toposorted) != len(graph.nodes):
        placed = set(graph.toposorted)
        in_cycle = sorted(key for key in graph.nodes if key not in placed)
        raise SnapshotRefusedError(
            f"code location {location!r} has a dependency cycle among asset(s) "
            f"{_names(in_cycle)}; an asset graph must be acyclic"
        )
    return graph


def _names(keys: list[str]) -> str:
    shown = ", ".join(repr(key) for key in keys[:5])
    return shown + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def _check_enums(location: str, root: Message, path: str = "", skip: str = "") -> None:
    """Refuse enum values outside the proto's definition (proto3 enums are open, so they
    parse; everything downstream would meet a value it cannot name)."""
    stack: list[tuple[Message, str]] = [(root, path)]
    while stack:
        message, path = stack.pop()
        bearing = _enum_bearing_fields(message.DESCRIPTOR)
        if not bearing:
            continue
        # Only the fields set: ListFields() skips the unset ones without a call for each.
        for field, value in message.ListFields():
            if field not in bearing or (message is root and field.name == skip):
                continue
            if field.type == FieldDescriptor.TYPE_ENUM:
                enum_type = field.enum_type
                assert enum_type is not None  # an enum field always has its type
                known = enum_type.values_by_number
                for item in value if field.is_repeated else (value,):
                    if item not in known:
                        raise SnapshotRefusedError(
                            f"code location {location!r} sent {item} for {path}{field.name}, "
                            f"which is not a {enum_type.name} this control plane knows"
                        )
            elif (
                entry_type := field.message_type
            ) is not None and entry_type.GetOptions().map_entry:
                # A map's entries, checked as messages of their entry type.
                entry = entry_type._concrete_class  # type: ignore[attr-defined]  # not in the stubs
                stack.extend(
                    (entry(key=k, value=v), f"{path}{field.name}.") for k, v in value.items()
                )
            else:
                items = value if field.is_repeated else (value,)
                stack.extend((item, f"{path}{field.name}.") for item in items)


def _sets_enum_bearing_field(message: Message) -> bool:
    """Whether any field that can hold an enum is set: most assets set none (a 10,000-asset
    location's nodes are told apart by this in a few ms, walked in 15)."""
    presence, scalars, containers = _enum_bearing_names(message.DESCRIPTOR)
    for name in presence:
        if message.HasField(name):
            return True
    # Loops, not any(): a generator costs twice the whole test.
    for name in scalars:
        if getattr(message, name):  # an enum not 0
            return True
    if containers:
        # Through ListFields, not getattr: reading an empty repeated field or map makes
        # its container, which the message then keeps (4 MB over 10,000 nodes).
        for field, _ in message.ListFields():
            if field.name in containers:
                return True
    return False


@functools.cache
def _enum_bearing_names(
    descriptor: Descriptor,
) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]:
    """The enum-bearing fields' names: singular messages (with presence), enums, and
    repeated fields and maps."""
    bearing = sorted(_enum_bearing_fields(descriptor), key=lambda field: field.number)
    presence = tuple(
        f.name for f in bearing if f.type == FieldDescriptor.TYPE_MESSAGE and not f.is_repeated
    )
    scalars = tuple(
        f.name for f in bearing if f.type != FieldDescriptor.TYPE_MESSAGE and not f.is_repeated
    )
    containers = frozenset(f.name for f in bearing if f.is_repeated)
    return presence, scalars, containers


@functools.cache
def _enum_bearing_fields(descriptor: Descriptor) -> frozenset[FieldDescriptor]:
    """The fields of a message type that are, or can contain, an enum: the walk looks at
    nothing else."""
    return frozenset(
        field
        for field in descriptor.fields
        if field.type == FieldDescriptor.TYPE_ENUM
        or (field.type == FieldDescriptor.TYPE_MESSAGE and _has_enums(field.message_type))
    )


@functools.cache
def _has_enums(descriptor: Descriptor, _seen: frozenset[str] = frozenset()) -> bool:
    """Whether a message of this type can hold an enum anywhere inside (cached per type, so
    the walk skips the subtrees that cannot)."""
    if descriptor.full_name in _seen:
        return False
    seen = _seen | {descriptor.full_name}
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_ENUM:
            return True
        if field.type == FieldDescriptor.TYPE_MESSAGE and _has_enums(field.message_type, seen):
            return True
    return False
