"""Errors of the partitions engine. Each message says what to fix; callers show it as is.

PartitionsError                 (ValueError) anything wrong with a schedule or a key space
├── CronError                   a cron string croniter cannot read, or one that never fires
│   ├── CronFieldCountError     not five fields (Weir's cron has no seconds or years)
│   └── CronNeverFiresError     the fields name no date that exists (31 February)
├── UnknownTimezoneError        not an IANA time zone name; carries a close match
├── KeySpaceError               a key space that cannot be built (format too coarse, ...)
│   └── DynamicKeysUnknownError the keys of dynamic partitions were needed but none are at hand
├── MappingError                a partition mapping that cannot relate two definitions
├── MissingUpstreamKeysError    partitions a downstream one reads that the upstream lacks
└── UnknownPartitionKeyError    a key the key space does not have; says what valid keys are

The SDK re-raises these as `weir.DefinitionError` (MappingError, KeySpaceError) or
`weir.PartitionKeyError`, the control plane as INVALID_ARGUMENT or FAILED_PRECONDITION,
both with the message unchanged.
"""

from __future__ import annotations


class PartitionsError(ValueError):
    """Something is wrong with a schedule, a time zone or a partition key."""


class CronError(PartitionsError):
    """A cron string that cannot be read; ``reason`` is the message without the string."""

    def __init__(self, expression: object, reason: str):
        self.expression = expression
        self.reason = reason
        super().__init__(f"{expression!r}: {reason}")


class CronFieldCountError(CronError):
    """A cron string without exactly five fields."""

    def __init__(self, expression: str, field_count: int):
        self.field_count = field_count
        super().__init__(
            expression,
            f"has {field_count} fields; expected 5 (minute hour day-of-month month day-of-week)",
        )


class CronNeverFiresError(CronError):
    """A cron string whose fields name no date that exists, so it never fires."""

    def __init__(self, expression: str):
        super().__init__(expression, "names no date that exists, so it never fires")


class UnknownTimezoneError(PartitionsError):
    """A name that is not an IANA time zone; ``suggestion`` is a close match, if any."""

    def __init__(self, name: object, suggestion: str | None):
        self.name = name
        self.suggestion = suggestion
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        super().__init__(
            f"Unknown timezone {name!r}{hint}; use an IANA name such as 'UTC' or 'America/New_York'"
        )


class KeySpaceError(PartitionsError):
    """A partitions definition that cannot be turned into a key space."""


class DynamicKeysUnknownError(KeySpaceError):
    """The keys of dynamic partitions `name` were needed (to list or to map them), but the
    key space was built without them."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"The keys of dynamic partitions {name!r} are not at hand")


class MappingError(PartitionsError):
    """A partition mapping that cannot relate two partitions definitions; the message names
    the mapping and both definitions."""


class MissingUpstreamKeysError(PartitionsError):
    """Upstream partitions that downstream partitions read but the upstream does not have."""

    def __init__(self, keys: list[str], upstream: object, hint: str = ""):
        self.keys = keys
        shown = ", ".join(repr(k) for k in keys[:5])
        more = f" (and {len(keys) - 5} more)" if len(keys) > 5 else ""
        noun, verb = ("partition", "does") if len(keys) == 1 else ("partitions", "do")
        super().__init__(f"Upstream {noun} {shown}{more} {verb} not exist in {upstream!r}{hint}")


class UnknownPartitionKeyError(PartitionsError):
    """A key the key space does not have; the message says what the valid keys look like.

    `side` ("upstream", "downstream") says which asset of a mapping the key came from, and
    `others` how many more unknown keys came with it.
    """

    def __init__(self, key: object, detail: str, side: str = "", others: int = 0):
        self.key = key
        self.detail = detail
        self.side = side
        where = f"{side} " if side else ""
        more = f" (and {others} more)" if others else ""
        super().__init__(f"Unknown {where}partition key {key!r}{more}; {detail}")
