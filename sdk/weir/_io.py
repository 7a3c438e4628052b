"""I/O managers: how an asset's value is stored after it runs and loaded by its dependents."""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cloudpickle

from weir._config import ConfigurableResource
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

    @abstractmethod
    def handle_output(self, context: OutputContext, obj: Any) -> None: ...

    @abstractmethod
    def load_input(self, context: InputContext) -> Any: ...


class ConfigurableIOManager(ConfigurableResource, IOManager):
    """An I/O manager configured by pydantic fields, like a ConfigurableResource."""


class MissingValueError(WeirError):
    """An I/O manager has no stored value for an upstream asset."""


def _storage_id(asset_key: AssetKey, partition_key: str | None) -> tuple[str, ...]:
    return (*asset_key.path, partition_key) if partition_key is not None else asset_key.path


class InMemoryIOManager(IOManager):
    """Keeps values in a dict for the life of the process: the default of `materialize`."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, ...], Any] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        self.values[_storage_id(context.asset_key, context.partition_key)] = obj

    def load_input(self, context: InputContext) -> Any:
        sid = _storage_id(context.asset_key, context.partition_key)
        try:
            return self.values[sid]
        except KeyError:
            part = f" partition {context.partition_key!r}" if context.partition_key else ""
            raise MissingValueError(
                f"No stored value for asset '{context.asset_key.to_user_string()}'{part} in "
                "memory: materialize it in the same call, or use a persistent I/O manager "
                "such as FilesystemIOManager"
            ) from None


def _is_json_value(obj: Any) -> bool:
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return True
    if isinstance(obj, list):
        return all(_is_json_value(v) for v in obj)
    if isinstance(obj, dict):
        return all(isinstance(k, str) and _is_json_value(v) for k, v in obj.items())
    return False


class FilesystemIOManager(ConfigurableIOManager):
    """Stores each value in a file under `base_dir`: JSON for JSON values, else cloudpickle.

    Paths are ``base_dir/<asset/key/path>[/<partition>]`` plus ``.json`` or ``.pkl``. Writes
    go to a temporary file renamed into place, so a crash never leaves half a value.
    """

    base_dir: str = ""

    def _base(self) -> Path:
        if self.base_dir:
            return Path(self.base_dir)
        home = os.environ.get("WEIR_HOME") or os.path.join(os.path.expanduser("~"), ".weir")
        return Path(home) / "storage"

    def _path(self, asset_key: AssetKey, partition_key: str | None) -> Path:
        return self._base().joinpath(*_storage_id(asset_key, partition_key))

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        path = self._path(context.asset_key, context.partition_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        if _is_json_value(obj):
            target, data = path.with_suffix(".json"), json.dumps(obj).encode()
            stale = path.with_suffix(".pkl")
        else:
            target, data = path.with_suffix(".pkl"), cloudpickle.dumps(obj)
            stale = path.with_suffix(".json")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
        stale.unlink(missing_ok=True)
        context.add_output_metadata({"path": MetadataValue.path(str(target))})

    def load_input(self, context: InputContext) -> Any:
        path = self._path(context.asset_key, context.partition_key)
        json_path, pkl_path = path.with_suffix(".json"), path.with_suffix(".pkl")
        if json_path.exists():
            return json.loads(json_path.read_bytes())
        if pkl_path.exists():
            with pkl_path.open("rb") as f:
                return pickle.load(f)
        part = f" partition {context.partition_key!r}" if context.partition_key else ""
        raise MissingValueError(
            f"No stored value for asset '{context.asset_key.to_user_string()}'{part} at "
            f"{path}.(json|pkl): materialize it first"
        )
