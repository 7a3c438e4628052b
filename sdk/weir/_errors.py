"""Every error the SDK raises.

WeirError
├── DefinitionError            a definition is invalid (raised while declaring assets
│   │                          or building Definitions; says what to fix)
│   ├── CycleError             the asset graph has a cycle
│   ├── MissingUpstreamError   an asset depends on a key nothing produces
│   ├── DuplicateKeyError      two definitions produce the same key
│   └── DbtManifestError       a dbt manifest.json that cannot be read (names file and field)
├── SelectionError             an asset selection names an unknown asset or is malformed
├── PartitionKeyError          a partition key the partitions definition does not contain
├── DynamicPartitionsStoreError
│                              a dynamic partitions definition's keys were needed, but
│                              no dynamic_partitions_store was given to look them up
├── ConfigError                run config that does not fit the asset's Config
├── UsageError                 an API used where it does not apply (context.partition_key
│                              in an unpartitioned run, a result asked for a node it lacks)
├── InvocationError            a definition called directly with arguments it does not take
├── TickEvaluationError        a schedule or sensor function raised, or returned something
│                              that is not a run request, skip reason or sensor result
└── StepError                  a step failed while materializing
    ├── TypeCheckError         a value does not match its type hint
    ├── CheckFailedError       a blocking asset check failed
    ├── UnselectedOutputError  a subset run's multi-asset returned an output not selected
    │                          (also a UsageError, as Dagster's invariant violation)
    └── DbtCliError            a dbt command failed (its failed nodes, or why it could not run)

Code ported from Dagster catches these under Dagster's names, which are aliases of the
classes above (``DagsterInvalidConfigError is ConfigError``), listed at the end.
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


class DbtManifestError(DefinitionError):
    """A dbt manifest.json is missing, is not JSON, or lacks a field; says which."""

    def __init__(self, path: object, field: str, problem: str):
        super().__init__(f"dbt manifest {path}: {field} {problem}")
        self.path = path
        self.field = field


class SelectionError(WeirError):
    """An asset selection is malformed or names assets that do not exist."""


class PartitionKeyError(WeirError):
    """A partition key that the asset's partitions definition does not contain."""


class DynamicPartitionsStoreError(WeirError):
    """The keys of a DynamicPartitionsDefinition were needed but no store was given."""


class ConfigError(WeirError):
    """Run config that does not fit an asset's Config."""


class UsageError(WeirError):
    """An API used where it does not apply, e.g. context.partition_key in an unpartitioned run."""


class InvocationError(WeirError):
    """A definition called directly (as in a unit test) with arguments it does not take."""


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


class UnselectedOutputError(StepError, UsageError):
    """A multi-asset returned an output that the run did not select; what Dagster raises
    as an invariant violation, so it is a UsageError too."""


class DbtCliError(StepError):
    """A dbt command exited with an error; the message names the nodes that failed."""


# Dagster's public names for the same errors, so that ``pytest.raises(dg.DagsterXxx)`` in
# ported tests catches what Weir raises where Dagster raises it.
DagsterError = WeirError
DagsterInvalidDefinitionError = DefinitionError
DagsterInvalidConfigError = ConfigError
DagsterInvariantViolationError = UsageError
DagsterInvalidInvocationError = InvocationError
DagsterUnknownPartitionError = PartitionKeyError
DagsterExecutionStepExecutionError = StepError
DagsterTypeCheckDidNotPass = TypeCheckError
