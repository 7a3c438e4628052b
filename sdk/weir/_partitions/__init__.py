"""Partitions definitions: how an asset is split into independently materialized pieces."""

from weir._partitions.base import PartitionsDefinition
from weir._partitions.static import StaticPartitionsDefinition

__all__ = ["PartitionsDefinition", "StaticPartitionsDefinition"]
