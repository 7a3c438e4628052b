"""Field-by-field accounts of how SDK objects become weir.v1 messages.

A `Conversion` says, for one SDK class, which of its fields the code server sends (and
how to read each back from the message), which it deliberately does not send (and why),
and which fields of the message nothing in that class fills (and why). The tests built on
it fail when:

- the SDK gains a field that is neither sent nor excused (a new field would otherwise
  silently stay off the wire);
- the message gains a field nobody fills or excuses;
- a sent field does not come back equal, or no sample exercises it (a field that is
  always empty on the wire proves nothing).

Field names ending in "()" are properties or methods the converter reads rather than
instance attributes; they take part in the round trip but not in the field census.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message


@dataclass(frozen=True)
class Sent:
    """One SDK field on the wire: the message field(s) it fills and how to compare."""

    wire: str | tuple[str, ...]
    read: Callable[[Any], Any]  # message -> a value comparable with `sdk(obj)`
    sdk: Callable[[Any], Any] | None = None  # obj -> comparable value; default: the attribute

    @property
    def wire_fields(self) -> tuple[str, ...]:
        return (self.wire,) if isinstance(self.wire, str) else self.wire


@dataclass(frozen=True)
class Conversion:
    sdk_type: type
    message_type: type[Message]
    # Each sample: an SDK object (of exactly sdk_type) and the message the code server made.
    samples: Callable[[], Iterable[tuple[Any, Any]]]
    sent: dict[str, Sent]
    not_sent: dict[str, str] = field(default_factory=dict)  # SDK field -> why it stays off
    wire_only: dict[str, str] = field(default_factory=dict)  # message field -> why unfilled
    empty: Callable[[], Any] | None = None  # the message with nothing set; default: type()

    @property
    def id(self) -> str:
        return self.sdk_type.__qualname__


def sdk_fields(obj: Any) -> set[str]:
    """The data an SDK object holds: dataclass fields, slots, public attributes, or
    properties that can be set (a slot kept private, whose value some objects derive)."""
    if dataclasses.is_dataclass(obj):
        return {f.name for f in dataclasses.fields(obj)}
    names: set[str] = set()
    for cls in type(obj).__mro__:
        names.update(getattr(cls, "__slots__", ()))
        names.update(
            name
            for name, value in vars(cls).items()
            if isinstance(value, property) and value.fset is not None
        )
    names.update(getattr(obj, "__dict__", {}))
    return {n for n in names if not n.startswith("_")}


def check_sdk_fields_accounted(conversion: Conversion) -> None:
    accounted = {n for n in conversion.sent if not n.endswith("()")} | set(conversion.not_sent)
    for obj, _ in conversion.samples():
        assert type(obj) is conversion.sdk_type, f"sample {obj!r} is not a {conversion.id}"
        fields = sdk_fields(obj)
        assert fields - accounted == set(), (
            f"{conversion.id} has fields the wire drops without a reason: "
            f"{sorted(fields - accounted)}; send them or list them as not sent"
        )
        assert accounted - fields == set(), (
            f"{conversion.id} no longer has fields {sorted(accounted - fields)}; "
            "update the conversion"
        )


def check_wire_fields_accounted(conversion: Conversion) -> None:
    wire = {f.name for f in conversion.message_type.DESCRIPTOR.fields}
    filled = {name for sent in conversion.sent.values() for name in sent.wire_fields}
    accounted = filled | set(conversion.wire_only)
    assert wire - accounted == set(), (
        f"{conversion.message_type.__name__} fields {sorted(wire - accounted)} are filled by "
        f"nothing in {conversion.id} and not explained"
    )
    assert accounted - wire == set(), f"no such fields: {sorted(accounted - wire)}"


def check_round_trip(conversion: Conversion) -> None:
    empty = conversion.empty() if conversion.empty else conversion.message_type()
    exercised: set[str] = set()
    samples = list(conversion.samples())
    assert samples
    for obj, message in samples:
        for name, sent in conversion.sent.items():
            expected = sent.sdk(obj) if sent.sdk else getattr(obj, name)
            got = sent.read(message)
            assert got == expected, f"{conversion.id}.{name}: wire has {got!r}, SDK {expected!r}"
            if got != sent.read(empty):
                exercised.add(name)
    unexercised = set(conversion.sent) - exercised
    assert unexercised == set(), (
        f"no sample of {conversion.id} sets {sorted(unexercised)} to anything but the "
        "empty message's value, so the round trip proves nothing for them"
    )


def ids(conversions: Sequence[Conversion]) -> list[str]:
    return [c.id for c in conversions]
