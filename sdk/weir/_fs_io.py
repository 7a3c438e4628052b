"""FilesystemIOManager: values as files under a base directory (JSON or cloudpickle)."""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from weir._config import ConfigurableIOManager
from weir._file_swap import replace_file
from weir._io import InputContext, MissingValueError, OutputContext, storage_id
from weir._key import AssetKey
from weir._metadata import MetadataValue


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
        return self._base().joinpath(*storage_id(asset_key, partition_key))

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        path = self._path(context.asset_key, context.partition_key)
        if _is_json_value(obj):
            target, data = path.with_suffix(".json"), json.dumps(obj).encode()
            stale = path.with_suffix(".pkl")
        else:
            target, data = path.with_suffix(".pkl"), _cloudpickle().dumps(obj)
            stale = path.with_suffix(".json")
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        except FileNotFoundError:  # the first value of this asset: make its directory
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        replace_file(tmp, str(target))
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


def _cloudpickle() -> Any:
    import cloudpickle  # only when a value is not JSON: keeps the common path light

    return cloudpickle
