"""FilesystemIOManager: values as files under a base directory (JSON or cloudpickle)."""

from __future__ import annotations

from weir._config import ConfigurableIOManager
from weir._fs_values import FilesystemStorage


class FilesystemIOManager(FilesystemStorage, ConfigurableIOManager):
    """Stores each value in a file under `base_dir`: JSON for JSON values, else cloudpickle.

    Paths are ``base_dir/<asset/key/path>[/<partition>]`` plus ``.json`` or ``.pkl``. Writes
    go to a temporary file renamed into place, so a crash never leaves half a value.
    """

    base_dir: str = ""
