"""Config and ConfigurableResource: pydantic models users declare their settings with.

This module imports pydantic, so `weir/__init__.py` loads it lazily: `import weir` stays fast
for code that never touches config.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict

from weir._io import IOManager


class Config(BaseModel):
    """Run-time configuration of an asset, validated by pydantic.

    >>> class Scale(Config):
    ...     factor: int = 2
    >>> # def scaled(config: Scale) -> int: ...
    >>> # materialize([scaled], run_config={"ops": {"scaled": {"config": {"factor": 3}}}})
    """

    __weir_param_kind__ = "config"
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigurableResource(BaseModel):
    """A resource configured by its fields and bound by key in ``Definitions(resources=...)``.

    An asset receives it through a parameter annotated with the resource's class whose name
    is the resource key. Override `setup_for_execution` / `teardown_after_execution` for
    connections that live for the length of a run.
    """

    __weir_param_kind__ = "resource"
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    def setup_for_execution(self, context: Any) -> None:
        """Called once per run before the first step that needs this resource."""

    def teardown_after_execution(self, context: Any) -> None:
        """Called once per run after the last step, even when the run failed."""

    @contextmanager
    def lifecycle(self, context: Any) -> Iterator[ConfigurableResource]:
        self.setup_for_execution(context)
        try:
            yield self
        finally:
            self.teardown_after_execution(context)


class ConfigurableIOManager(ConfigurableResource, IOManager):
    """An I/O manager configured by pydantic fields, like a ConfigurableResource."""
