"""I/O managers: how an asset's value is stored after it runs and loaded by its dependents."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from weir._errors import WeirError
from weir._key import AssetKey, CoercibleToAssetKey


class _IOContext:
    """What output and input contexts share: the asset, partition, run and resources."""

    def __init__(
        self,
        asset_key: AssetKey | None,
        name: str,
        partition_key: str | None,
        run_id: str,
        *,
        step_key: str | None,
        resources: Any,
        resource_config: Mapping[str, Any] | None,
        log: Any,
    ):
        self._asset_key = asset_key
        self.name = name
        self.partition_key = partition_key
        self.run_id = run_id
        self.step_key = step_key
        self.resources = SimpleNamespace(**dict(resources or {}))
        self.resource_config = dict(resource_config or {})
        self.log = log

    @property
    def has_asset_key(self) -> bool:
        return self._asset_key is not None

    @property
    def asset_key(self) -> AssetKey:
        if self._asset_key is None:
            raise WeirError(
                f"This {type(self).__name__} has no asset key: it stores an op's output, or "
                "was built without build_output_context(asset_key=...)"
            )
        return self._asset_key

    @property
    def has_partition_key(self) -> bool:
        return self.partition_key is not None

    def get_asset_identifier(self) -> list[str]:
        """The asset key's path, plus the partition key when there is one."""
        return list(storage_id(self.asset_key, self.partition_key))


class OutputContext(_IOContext):
    """What an I/O manager knows about the value it is asked to store."""

    def __init__(
        self,
        asset_key: AssetKey | None = None,
        name: str = "result",
        partition_key: str | None = None,
        run_id: str = "",
        metadata: Mapping[str, Any] | None = None,
        definition_metadata: Mapping[str, Any] | None = None,
        log: Any = None,
        *,
        step_key: str | None = None,
        resources: Any = None,
        resource_config: Mapping[str, Any] | None = None,
        dagster_type: Any = None,
    ):
        super().__init__(
            asset_key, name, partition_key, run_id, step_key=step_key, resources=resources,
            resource_config=resource_config, log=log,
        )  # fmt: skip
        self.metadata = dict(metadata or {})
        self.definition_metadata: Mapping[str, Any] = definition_metadata or {}  # as defined
        self.dagster_type = dagster_type
        self._added_metadata: dict[str, Any] = {}

    def add_output_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Metadata the I/O manager reports about the stored value (a path, a row count)."""
        self._added_metadata.update(metadata)

    def get_identifier(self) -> list[str]:
        """Where the value belongs: the asset's identifier, else run, step and output."""
        if self.has_asset_key:
            return self.get_asset_identifier()
        return [self.run_id, self.step_key or "", self.name]


class InputContext(_IOContext):
    """What an I/O manager knows about the value it is asked to load."""

    def __init__(
        self,
        asset_key: AssetKey | None = None,
        name: str = "result",
        partition_key: str | None = None,
        run_id: str = "",
        metadata: Mapping[str, Any] | None = None,
        upstream_output: OutputContext | None = None,
        log: Any = None,
        *,
        step_key: str | None = None,
        resources: Any = None,
        resource_config: Mapping[str, Any] | None = None,
        dagster_type: Any = None,
        config: Any = None,
    ):
        super().__init__(
            asset_key, name, partition_key, run_id, step_key=step_key, resources=resources,
            resource_config=resource_config, log=log,
        )  # fmt: skip
        self.metadata = dict(metadata or {})
        self.definition_metadata = self.metadata
        self.config = config
        self.upstream_output = upstream_output
        self.dagster_type = dagster_type


class IOManager(ABC):
    """Stores outputs and loads inputs. Subclass and implement both methods."""

    __weir_param_kind__ = "resource"

    @abstractmethod
    def handle_output(self, context: OutputContext, obj: Any) -> None: ...

    @abstractmethod
    def load_input(self, context: InputContext) -> Any: ...


class MissingValueError(WeirError, KeyError):
    """An I/O manager has no stored value for an upstream asset; a KeyError too, which is
    what Dagster's in-memory I/O manager raises."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""  # KeyError's own quotes the message


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


def build_output_context(
    step_key: str | None = None,
    name: str | None = None,
    definition_metadata: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    *,
    asset_key: CoercibleToAssetKey | None = None,
    partition_key: str | None = None,
    resources: Mapping[str, Any] | None = None,
    resource_config: Mapping[str, Any] | None = None,
    dagster_type: Any = None,
) -> OutputContext:
    """An OutputContext for calling ``handle_output`` in a unit test.

    >>> build_output_context(asset_key="orders", partition_key="2024-01-01").get_identifier()
    ['orders', '2024-01-01']
    """
    return OutputContext(
        AssetKey.from_coercible(asset_key) if asset_key is not None else None,
        name or "result", partition_key, run_id or "",
        definition_metadata=dict(definition_metadata or {}), step_key=step_key,
        resources=resources, resource_config=resource_config, dagster_type=dagster_type,
    )  # fmt: skip


def build_input_context(
    name: str | None = None,
    config: Any = None,
    definition_metadata: Mapping[str, Any] | None = None,
    upstream_output: OutputContext | None = None,
    dagster_type: Any = None,
    resource_config: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    *,
    asset_key: CoercibleToAssetKey | None = None,
    partition_key: str | None = None,
) -> InputContext:
    """An InputContext for calling ``load_input`` in a unit test.

    >>> build_input_context(asset_key="orders").asset_key
    AssetKey(['orders'])
    """
    key = AssetKey.from_coercible(asset_key) if asset_key is not None else None
    return InputContext(
        key, name or "result", partition_key, metadata=definition_metadata,
        upstream_output=upstream_output, resources=resources, resource_config=resource_config,
        dagster_type=dagster_type, config=config,
    )  # fmt: skip
