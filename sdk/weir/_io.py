"""I/O managers: how an asset's value is stored after it runs and loaded by its dependents."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from weir._errors import WeirError
from weir._key import AssetKey
from weir._metadata import MetadataValue


@dataclass
class OutputContext:
    """What an I/O manager knows about the value it is asked to store."""

    asset_key: AssetKey
    name: str = "result"
    partition_key: str | None = None
    run_id: str = ""
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)
    definition_metadata: Mapping[str, MetadataValue] = field(default_factory=dict)
    log: Any = None
    _added_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def has_partition_key(self) -> bool:
        return self.partition_key is not None

    def add_output_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Metadata the I/O manager reports about the stored value (a path, a row count)."""
        self._added_metadata.update(metadata)


@dataclass
class InputContext:
    """What an I/O manager knows about the value it is asked to load."""

    asset_key: AssetKey
    name: str
    partition_key: str | None = None
    run_id: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    upstream_output: OutputContext | None = None
    log: Any = None

    @property
    def has_partition_key(self) -> bool:
        return self.partition_key is not None


class IOManager(ABC):
    """Stores outputs and loads inputs. Subclass and implement both methods."""

    __weir_param_kind__ = "resource"

    @abstractmethod
    def handle_output(self, context: OutputContext, obj: Any) -> None: ...

    @abstractmethod
    def load_input(self, context: InputContext) -> Any: ...


class MissingValueError(WeirError):
    """An I/O manager has no stored value for an upstream asset."""


def storage_id(asset_key: AssetKey, partition_key: str | None) -> tuple[str, ...]:
    return (*asset_key.path, partition_key) if partition_key is not None else asset_key.path


class InMemoryIOManager(IOManager):
    """Keeps values in a dict for the life of the process: the default of `materialize`."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, ...], Any] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        self.values[storage_id(context.asset_key, context.partition_key)] = obj

    def load_input(self, context: InputContext) -> Any:
        sid = storage_id(context.asset_key, context.partition_key)
        try:
            return self.values[sid]
        except KeyError:
            part = f" partition {context.partition_key!r}" if context.partition_key else ""
            raise MissingValueError(
                f"No stored value for asset '{context.asset_key.to_user_string()}'{part} in "
                "memory: materialize it in the same call, or use a persistent I/O manager "
                "such as FilesystemIOManager"
            ) from None
