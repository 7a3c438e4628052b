"""Values as files under a base directory (JSON or cloudpickle), without pydantic.

`FilesystemStorage` is how FilesystemIOManager stores and loads; `PlainFilesystemIOManager`
is the same storage for the I/O manager Weir binds by default (`fs_io_manager`). The
default has nothing to configure but the directory, so it needs no pydantic model: a run
worker, and the code server's zygote it is forked from, then never import pydantic (10 MB
and 50 ms) for a location whose own code does not.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import pickle
from pathlib import Path
from typing import IO, Any

from weir._file_swap import replace_file
from weir._io import InputContext, IOManager, MissingValueError, OutputContext, storage_id
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


class FilesystemStorage:
    """Stores each value in a file under `self.base_dir`; the class that mixes it in holds
    `base_dir` (a pydantic field, or a plain attribute)."""

    base_dir: str

    def _base(self) -> Path:
        if self.base_dir:
            return _path_of(self.base_dir)
        home = os.environ.get("WEIR_HOME") or os.path.join(os.path.expanduser("~"), ".weir")
        return _path_of(os.path.join(home, "storage"))

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
        directory = str(path.parent)
        try:
            tmp = _write_new_file(directory, path.name, data)
        except FileNotFoundError:  # the first value of this asset: make its directory
            os.makedirs(directory, exist_ok=True)
            tmp = _write_new_file(directory, path.name, data)
        replace_file(tmp, str(target))
        stale.unlink(missing_ok=True)
        context.add_output_metadata({"path": MetadataValue.path(str(target))})

    def load_input(self, context: InputContext) -> Any:
        path = self._path(context.asset_key, context.partition_key)
        json_path, pkl_path = path.with_suffix(".json"), path.with_suffix(".pkl")
        # Opened, not checked first: one system call a value instead of two.
        json_file = _open_if_present(json_path)
        if json_file is not None:
            with json_file:
                return json.loads(json_file.read())
        pkl_file = _open_if_present(pkl_path)
        if pkl_file is not None:
            with pkl_file:
                return pickle.load(pkl_file)
        part = f" partition {context.partition_key!r}" if context.partition_key else ""
        raise MissingValueError(
            f"No stored value for asset '{context.asset_key.to_user_string()}'{part} at "
            f"{path}.(json|pkl): materialize it first"
        )


# One Path per base directory: building it again for every value was a tenth of a run's
# storing time.
_path_of = functools.lru_cache(maxsize=64)(Path)
# Temporary names unique within this process; the pid keeps processes apart.
_temporary_numbers = itertools.count()


class PlainFilesystemIOManager(FilesystemStorage, IOManager):
    """FilesystemIOManager's storage, configured by its directory alone ("": $WEIR_HOME/storage).

    >>> PlainFilesystemIOManager("/tmp/values").base_dir
    '/tmp/values'
    """

    def __init__(self, base_dir: str = ""):
        self.base_dir = base_dir

    def __repr__(self) -> str:
        return f"PlainFilesystemIOManager(base_dir={self.base_dir!r})"


def _write_new_file(directory: str, name: str, data: bytes) -> str:
    """`data` in a new hidden file beside `name` in `directory` (mode 0600, as mkstemp
    makes it); its path. The name is the pid and a counter, not mkstemp's random letters,
    which cost more than the write; one left by a crashed process is skipped."""
    while True:
        tmp = os.path.join(directory, f".{name}.{os.getpid()}.{next(_temporary_numbers)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except BaseException:  # a full disk, say: leave no half-written temporary behind
            os.unlink(tmp)
            raise
        return tmp


def _open_if_present(path: Path) -> IO[bytes] | None:
    try:
        return open(path, "rb")  # the caller closes it
    except FileNotFoundError:
        return None


def _cloudpickle() -> Any:
    import cloudpickle  # only when a value is not JSON: keeps the common path light

    return cloudpickle
