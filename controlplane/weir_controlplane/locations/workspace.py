"""The workspace file (weir.yaml): which code locations a deployment serves and how to reach them.

    locations:
      - name: quickstart
        python_file: examples/quickstart/defs.py     # started as `weir-codeserver -f ...`
      - name: etl
        python_module: etl.definitions                # `weir-codeserver -m ...`
      - name: billing
        address: 127.0.0.1:4266                       # already running elsewhere
      - name: node-example
        command: ["node", "server.js"]                # any language; see protos/README.md
        working_directory: examples/node

A started location must print `WEIR_CODESERVER_READY port=<port>` on stdout once it
serves. Every command gets WEIR_CODESERVER_HOST, WEIR_CODESERVER_PORT=0 (pick a free
port) and WEIR_CODESERVER_PARENT_PID (exit when that process is gone) in its environment;
the Python code server also gets `--host` and `--port 0`. The file is the deployment's list:
a location it no longer names is removed when the control plane next starts.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weir_controlplane.errors import InvalidArgumentError

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-\.]*$")


@dataclass(frozen=True)
class LocationSpec:
    """One code location: either an `address` to connect to or a `command` to start."""

    name: str
    address: str | None = None
    command: tuple[str, ...] | None = None
    working_directory: str | None = None

    @property
    def managed(self) -> bool:
        return self.command is not None

    def describe(self) -> str:
        return self.address or " ".join(self.command or ())


def codeserver_command(
    python_file: str | None = None, module: str | None = None
) -> tuple[str, ...]:
    """The command that serves a Python code location with this interpreter's code server."""
    target = ("-f", python_file) if python_file else ("-m", module or "")
    return (sys.executable, "-m", "weir_codeserver", *target)


def parse_location(entry: Any, base_dir: Path) -> LocationSpec:
    if not isinstance(entry, dict) or "name" not in entry:
        raise InvalidArgumentError(f"Each workspace location needs a name, got {entry!r}")
    name = str(entry["name"])
    if not _NAME.match(name):
        raise InvalidArgumentError(
            f"Code location name {name!r} is invalid: use letters, digits, '_', '-', '.'"
        )
    kinds = [k for k in ("address", "command", "python_file", "python_module") if k in entry]
    if len(kinds) != 1:
        raise InvalidArgumentError(
            f"Code location '{name}' needs exactly one of address, command, python_file, "
            f"python_module; it has {kinds or 'none'}"
        )
    workdir = entry.get("working_directory")
    workdir_path = str((base_dir / workdir).resolve()) if workdir else None
    if "address" in entry:
        return LocationSpec(name, address=str(entry["address"]))
    if "python_file" in entry:
        path = (base_dir / str(entry["python_file"])).resolve()
        if not path.exists():
            raise InvalidArgumentError(f"Code location '{name}': file {path} does not exist")
        return LocationSpec(name, command=codeserver_command(python_file=str(path)))
    if "python_module" in entry:
        command = codeserver_command(module=str(entry["python_module"]))
        return LocationSpec(name, command=command, working_directory=workdir_path or str(base_dir))
    given = entry["command"]
    words = given.split() if isinstance(given, str) else given
    if not (isinstance(words, list | tuple) and words and all(isinstance(c, str) for c in words)):
        raise InvalidArgumentError(f"Code location '{name}': command must be a list of strings")
    return LocationSpec(name, command=tuple(words), working_directory=workdir_path)


def read_workspace_file(file: Path) -> dict[str, Any]:
    """The parsed weir.yaml: its `locations` here, its `run_queue` in runs/queue_config.py."""
    import yaml

    try:
        data = yaml.safe_load(file.read_text()) or {}
    except FileNotFoundError:
        raise InvalidArgumentError(f"Workspace file {file} does not exist") from None
    except yaml.YAMLError as exc:
        raise InvalidArgumentError(f"Workspace file {file} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidArgumentError(f"Workspace file {file} needs a top-level 'locations:' list")
    return data


def load_workspace(path: str | Path) -> list[LocationSpec]:
    """Parse a weir.yaml; paths inside it are relative to the file."""
    file = Path(path)
    data = read_workspace_file(file)
    entries = data.get("locations")
    if not isinstance(entries, list):
        raise InvalidArgumentError(f"Workspace file {file} needs a top-level 'locations:' list")
    specs = [parse_location(e, file.resolve().parent) for e in entries]
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidArgumentError(f"Workspace file {file} names {dupes} more than once")
    return specs
