"""Errors of the partitions engine. Each message says what to fix; callers show it as is.

PartitionsError                 (ValueError) anything wrong with a schedule or a key space
├── CronError                   a cron string croniter cannot read, or one that never fires
│   ├── CronFieldCountError     not five fields (Weir's cron has no seconds or years)
│   └── CronNeverFiresError     the fields name no date that exists (31 February)
├── UnknownTimezoneError        not an IANA time zone name; carries a close match
├── KeySpaceError               a key space that cannot be built (format too coarse, ...)
└── UnknownPartitionKeyError    a key the key space does not have; says what valid keys are

The SDK re-raises these as `weir.DefinitionError` / `weir.PartitionKeyError`, the control
plane as INVALID_ARGUMENT, both with the message unchanged.
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


class UnknownPartitionKeyError(PartitionsError):
    """A key the key space does not have; the message says what the valid keys look like."""

    def __init__(self, key: object, detail: str):
        self.key = key
        self.detail = detail
        super().__init__(f"Unknown partition key {key!r}; {detail}")
