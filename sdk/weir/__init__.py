"""Weir: declare data assets in Python; Weir knows the graph, runs it and tracks it.

The public API is exactly what this module exports (pinned by tests/sdk/test_public_api.py).
Names mirror Dagster's where the concept is the same, so ``import weir as dg`` ports code.
"""

from weir._assets import AssetsDefinition, RetryPolicy, asset, multi_asset
from weir._checks import AssetChecksDefinition, AssetCheckSpec, asset_check
from weir._config import Config, ConfigurableResource
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
from weir._graph import AssetGraph
from weir._io import (
    ConfigurableIOManager,
    FilesystemIOManager,
    InMemoryIOManager,
    InputContext,
    IOManager,
    OutputContext,
)
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
from weir._specs import AssetDep, AssetIn, AssetOut, AssetSpec

__version__ = "0.1.0"

__all__ = [
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
    "AssetOut",
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
    "asset",
    "asset_check",
    "build_asset_context",
    "multi_asset",
]
