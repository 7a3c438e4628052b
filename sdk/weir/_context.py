"""AssetExecutionContext: what an asset or check function can ask about its run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

from weir._context_partitions import PartitionContextMethods, StepPartitions
from weir._errors import UsageError
from weir._key import AssetKey

# logging's level numbers; the module itself loads with the first log line (import cost).
DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40
_logger: Any = None


def _python_logger() -> Any:
    global _logger
    if _logger is None:
        import logging

        _logger = logging.getLogger("weir")
    return _logger


class RunLog:
    """``context.log``: each line becomes a LOG event of the run and goes to Python logging."""

    __slots__ = ("_emit", "_step_key")

    def __init__(self, emit: Callable[[str, int, str], None], step_key: str | None):
        self._emit = emit
        self._step_key = step_key

    def _log(self, level: int, msg: str, *args: Any) -> None:
        text = (msg % args) if args else str(msg)
        self._emit(self._step_key or "", level, text)
        logger = _python_logger()
        if logger.isEnabledFor(level):
            logger.log(level, "[%s] %s", self._step_key, text)

    def debug(self, msg: str, *args: Any) -> None:
        self._log(DEBUG, msg, *args)

    def info(self, msg: str, *args: Any) -> None:
        self._log(INFO, msg, *args)

    def warning(self, msg: str, *args: Any) -> None:
        self._log(WARNING, msg, *args)

    warn = warning

    def error(self, msg: str, *args: Any) -> None:
        self._log(ERROR, msg, *args)

    def exception(self, msg: str, *args: Any) -> None:
        self._log(ERROR, msg, *args)


class AssetExecutionContext(PartitionContextMethods):
    """Passed to an asset whose first parameter is ``context``."""

    def __init__(
        self,
        *,
        run_id: str,
        node_name: str,
        asset_keys: tuple[AssetKey, ...],
        partition_key: str | None,
        resources: Mapping[str, Any],
        log: RunLog,
        op_config: Any = None,
        run_tags: Mapping[str, str] | None = None,
        output_names: Mapping[AssetKey, str] | None = None,
        partitions: StepPartitions | None = None,
    ):
        self.run_id = run_id
        self.op_name = node_name
        self.asset_keys = asset_keys
        self._partition_key = partition_key
        self.resources = SimpleNamespace(**resources)
        self.log = log
        self.op_config = op_config
        self.run_tags = dict(run_tags or {})
        self.output_metadata: dict[AssetKey, dict[str, Any]] = {}
        self._output_names = dict(output_names or {})
        self._partitions = partitions

    @property
    def selected_asset_keys(self) -> set[AssetKey]:
        """The assets this run materializes of those the step can produce."""
        return set(self.asset_keys)

    @property
    def selected_output_names(self) -> set[str]:
        """The output names of `selected_asset_keys`: what a subsettable multi-asset yields."""
        return {self._output_names.get(k, k.to_python_identifier()) for k in self.asset_keys}

    @property
    def asset_key(self) -> AssetKey:
        if len(self.asset_keys) != 1:
            names = ", ".join(k.to_user_string() for k in self.asset_keys)
            raise UsageError(
                f"context.asset_key is ambiguous in '{self.op_name}', which produces {names}; "
                "use context.asset_keys"
            )
        return self.asset_keys[0]

    @property
    def has_partition_key(self) -> bool:
        return self._partition_key is not None

    @property
    def partition_key(self) -> str:
        if self._partition_key is None:
            raise UsageError(f"'{self.op_name}' is not running for a partition")
        return self._partition_key

    def add_output_metadata(
        self, metadata: Mapping[str, Any], output_name: str | None = None,
        asset_key: AssetKey | str | None = None,
    ) -> None:  # fmt: skip
        """Attach metadata to the materialization this step is producing."""
        if asset_key is not None:
            key = AssetKey.from_coercible(asset_key)
        elif output_name is not None and len(self.asset_keys) > 1:
            key = self._key_for_output(output_name)
        else:
            key = self.asset_key
        self.output_metadata.setdefault(key, {}).update(metadata)

    def _key_for_output(self, output_name: str) -> AssetKey:
        for key in self.asset_keys:
            if key.to_python_identifier() == output_name or key.path[-1] == output_name:
                return key
        raise UsageError(f"'{self.op_name}' has no output named {output_name!r}")


def build_asset_context(
    *,
    resources: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    run_id: str = "ephemeral",
    asset_key: AssetKey | str | None = None,
) -> AssetExecutionContext:
    """A context for calling an asset function directly in a unit test."""
    lines: list[tuple[str, int, str]] = []
    keys = (AssetKey.from_coercible(asset_key),) if asset_key else ()
    return AssetExecutionContext(
        run_id=run_id,
        node_name="ephemeral",
        asset_keys=keys,
        partition_key=partition_key,
        resources=resources or {},
        log=RunLog(lambda step, level, text: lines.append((step, level, text)), None),
    )
