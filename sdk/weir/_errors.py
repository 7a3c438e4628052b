"""Every error the SDK raises.

WeirError
├── DefinitionError            a definition is invalid (raised while declaring assets
│   │                          or building Definitions; says what to fix)
│   ├── CycleError             the asset graph has a cycle
│   ├── MissingUpstreamError   an asset depends on a key nothing produces
│   └── DuplicateKeyError      two definitions produce the same key
├── SelectionError             an asset selection names an unknown asset or is malformed
├── PartitionKeyError          a partition key the partitions definition does not contain
├── DynamicPartitionsStoreError
│                              a dynamic partitions definition's keys were needed, but
│                              no dynamic_partitions_store was given to look them up
├── ConfigError                run config that does not fit the asset's Config
├── TickEvaluationError        a schedule or sensor function raised, or returned something
│                              that is not a run request, skip reason or sensor result
└── StepError                  a step failed while materializing
    ├── TypeCheckError         a value does not match its type hint
    └── CheckFailedError       a blocking asset check failed
"""

from __future__ import annotations


class WeirError(Exception):
    """Base class of every error Weir raises on purpose."""


class DefinitionError(WeirError):
    """A definition is invalid; the message says what to fix."""


class CycleError(DefinitionError):
    """The asset graph has a cycle."""


class MissingUpstreamError(DefinitionError):
    """An asset depends on a key that no definition produces."""


class DuplicateKeyError(DefinitionError):
    """Two definitions produce the same asset key."""


class SelectionError(WeirError):
    """An asset selection is malformed or names assets that do not exist."""


class PartitionKeyError(WeirError):
    """A partition key that the asset's partitions definition does not contain."""


class DynamicPartitionsStoreError(WeirError):
    """The keys of a DynamicPartitionsDefinition were needed but no store was given."""


class ConfigError(WeirError):
    """Run config that does not fit an asset's Config."""


class TickEvaluationError(WeirError):
    """A schedule or sensor function raised, or returned something Weir cannot launch.

    The user's exception, if any, is the ``__cause__``.
    """


class StepError(WeirError):
    """A step failed while materializing; raised by `materialize(raise_on_error=True)`."""

    def __init__(self, message: str, step_key: str | None = None):
        super().__init__(message)
        self.step_key = step_key


class TypeCheckError(StepError):
    """A value did not match its type hint."""


class CheckFailedError(StepError):
    """A blocking asset check failed."""
