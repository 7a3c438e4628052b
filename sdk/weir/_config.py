"""Config and ConfigurableResource: pydantic models users declare their settings with.

This module imports pydantic, so `weir/__init__.py` loads it lazily: `import weir` stays fast
for code that never touches config.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr

from weir._io import IOManager
from weir._resources import EnvVar, PartialResource


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
    connections that live for the length of a run. A field may hold another resource
    (set up before this one) or an ``EnvVar("NAME")``, read when a run uses the resource.
    """

    __weir_param_kind__ = "resource"
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    _env_vars: dict[str, EnvVar] = PrivateAttr(default_factory=dict)

    def __init__(self, **data: Any):
        env_vars = {name: value for name, value in data.items() if isinstance(value, EnvVar)}
        super().__init__(**data)
        self._env_vars = env_vars

    @classmethod
    def configure_at_launch(cls, **fields: Any) -> PartialResource:
        """Bind this resource now and give the rest of its config in each run's config:
        ``run_config={"resources": {key: {"config": {...}}}}``."""
        return PartialResource(cls, fields)

    def field_values(self) -> dict[str, Any]:
        """The fields as given: an EnvVar field is the EnvVar, not yet read."""
        return {**{name: getattr(self, name) for name in type(self).model_fields}, **self._env_vars}

    def with_env_vars_read(self, key: str) -> ConfigurableResource:
        """A copy whose EnvVar fields, and those of resources in its fields, hold the
        variables' values now. A variable that is not set is a ConfigError naming it."""
        changes: dict[str, Any] = {
            name: var.read(f"field '{name}' of resource '{key}'")
            for name, var in self._env_vars.items()
        }
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, ConfigurableResource):
                changes[name] = value.with_env_vars_read(f"{key}.{name}")
        if not changes:
            return self
        from weir._run_config import reconfigured_resource

        resource: ConfigurableResource = reconfigured_resource(
            key, type(self), {**self.field_values(), **changes}
        )
        return resource

    def setup_for_execution(self, context: Any) -> None:
        """Called once per run before the first step that needs this resource."""

    def teardown_after_execution(self, context: Any) -> None:
        """Called once per run after the last step, even when the run failed."""

    @contextmanager
    def lifecycle(self, context: Any) -> Iterator[ConfigurableResource]:
        """Set up the resources in this one's fields, then this one; tear down in reverse."""
        with ExitStack() as nested:
            for name in type(self).model_fields:
                value = getattr(self, name)
                if isinstance(value, ConfigurableResource):
                    nested.enter_context(value.lifecycle(context))
            self.setup_for_execution(context)
            try:
                yield self
            finally:
                self.teardown_after_execution(context)


class ConfigurableIOManager(ConfigurableResource, IOManager):
    """An I/O manager configured by pydantic fields, like a ConfigurableResource."""


class ConfigurableIOManagerFactory(ConfigurableResource):
    """Configured by pydantic fields; builds the I/O manager each run uses.

    >>> class LakeIOManagerFactory(ConfigurableIOManagerFactory):
    ...     root: str
    ...     def create_io_manager(self, context) -> IOManager:
    ...         return LakeIOManager(self.root)  # doctest: +SKIP
    """

    @abstractmethod
    def create_io_manager(self, context: Any) -> IOManager: ...
