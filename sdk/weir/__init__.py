"""Weir: declare data assets in Python; Weir knows the graph, runs it and tracks it.

The public API is exactly what this module exports (pinned by tests/sdk/test_public_api.py).
Names mirror Dagster's where the concept is the same, so ``import weir as dg`` ports code.
"""

from weir._assets import AssetsDefinition, RetryPolicy, asset, multi_asset
from weir._checks import AssetChecksDefinition, AssetCheckSpec, asset_check
from weir._context import AssetExecutionContext, build_asset_context
from weir._definitions import Definitions
from weir._errors import (
    CheckFailedError,
    ConfigError,
    CycleError,
    DefinitionError,
    DuplicateKeyError,
    MissingUpstreamError,
    PartitionKeyError,
    SelectionError,
    StepError,
    TypeCheckError,
    WeirError,
)
from weir._execution.events import (
    AssetCheckEvaluation,
    AssetMaterialization,
    EventType,
    WeirEvent,
)
from weir._execution.materialize import materialize
from weir._execution.result import ExecuteInProcessResult
from weir._graph import AssetGraph
from weir._io import InMemoryIOManager, InputContext, IOManager, OutputContext
from weir._key import AssetKey
from weir._metadata import MetadataValue, TableColumn, TableSchema
from weir._partitions import PartitionsDefinition, StaticPartitionsDefinition
from weir._results import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    MaterializeResult,
    Output,
)
from weir._selection import AssetSelection
from weir._specs import AssetDep, AssetIn, AssetOut, AssetSpec

__version__ = "0.1.0"

# Names whose modules import pydantic load on first use, so `import weir` stays light.
_LAZY = {
    "Config": "weir._config",
    "ConfigurableResource": "weir._config",
    "ConfigurableIOManager": "weir._config",
    "FilesystemIOManager": "weir._fs_io",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'weir' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AssetCheckEvaluation",
    "AssetCheckKey",
    "AssetCheckResult",
    "AssetCheckSeverity",
    "AssetCheckSpec",
    "AssetChecksDefinition",
    "AssetDep",
    "AssetExecutionContext",
    "AssetGraph",
    "AssetIn",
    "AssetKey",
    "AssetMaterialization",
    "AssetOut",
    "AssetSelection",
    "AssetSpec",
    "AssetsDefinition",
    "CheckFailedError",
    "Config",
    "ConfigError",
    "ConfigurableIOManager",
    "ConfigurableResource",
    "CycleError",
    "DefinitionError",
    "Definitions",
    "DuplicateKeyError",
    "EventType",
    "ExecuteInProcessResult",
    "FilesystemIOManager",
    "IOManager",
    "InMemoryIOManager",
    "InputContext",
    "MaterializeResult",
    "MetadataValue",
    "MissingUpstreamError",
    "Output",
    "OutputContext",
    "PartitionKeyError",
    "PartitionsDefinition",
    "RetryPolicy",
    "SelectionError",
    "StaticPartitionsDefinition",
    "StepError",
    "TableColumn",
    "TableSchema",
    "TypeCheckError",
    "WeirError",
    "WeirEvent",
    "asset",
    "asset_check",
    "build_asset_context",
    "materialize",
    "multi_asset",
]
