"""Resources beyond a plain ConfigurableResource: typed plain-object parameters
(`ResourceParam`), environment variables read at run time (`EnvVar`), resources configured
at launch, and function-built I/O managers (`@io_manager`, `fs_io_manager`, `mem_io_manager`).

Everything bound under a resource key becomes the object a step receives in one place,
`ready_for_run`, which runs once per run (or per step process) when resources are set up.
"""

from __future__ import annotations

import inspect
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from weir._errors import ConfigError, DefinitionError
from weir._io import InMemoryIOManager, IOManager

if TYPE_CHECKING:
    from weir._config import ConfigurableResource

T = TypeVar("T")

# The marker in ``Annotated[T, ...]`` that makes a parameter a resource, not an input.
RESOURCE_PARAM_MARKER = "weir/resource_param"

if TYPE_CHECKING:  # to a type checker, ResourceParam[T] is T
    ResourceParam = Annotated[T, RESOURCE_PARAM_MARKER]
    ResourceDependency = Annotated[T, RESOURCE_PARAM_MARKER]
else:

    class ResourceParam:
        """``def report(api_key: ResourceParam[str])``: a resource of any type, bound under
        the parameter's name, rather than an upstream asset."""

        def __class_getitem__(cls, item: Any) -> Any:
            return Annotated[item, RESOURCE_PARAM_MARKER]

    class ResourceDependency:
        """A ConfigurableResource field holding another resource of any type:
        ``client: ResourceDependency[requests.Session]``."""

        def __class_getitem__(cls, item: Any) -> Any:
            return item


class EnvVar(str):
    """A resource field read from an environment variable when a run uses the resource,
    never when the code is loaded: ``Warehouse(password=EnvVar("DB_PASSWORD"))``.

    >>> EnvVar("HOME").env_var_name
    'HOME'
    """

    @property
    def env_var_name(self) -> str:
        return str.__str__(self)

    def get_value(self, default: str | None = None) -> str | None:
        return os.environ.get(self.env_var_name, default)

    def read(self, where: str) -> str:
        value = os.environ.get(self.env_var_name)
        if value is None:
            raise ConfigError(
                f"Environment variable '{self.env_var_name}' is not set; {where} reads it. "
                f"Set it in the environment the run executes in"
            )
        return value

    def __repr__(self) -> str:
        return f"EnvVar({self.env_var_name!r})"


@dataclass(frozen=True)
class PartialResource:
    """A resource whose remaining config comes from each run's config, made by
    ``MyResource.configure_at_launch(**known_fields)``."""

    resource_type: type[ConfigurableResource]
    fields: Mapping[str, Any]

    def configured(self, key: str, values: Mapping[str, Any]) -> ConfigurableResource:
        from weir._run_config import reconfigured_resource

        return reconfigured_resource(key, self.resource_type, {**self.fields, **values})


class InitResourceContext:
    """What an `@io_manager` function receives: its config and the other resources."""

    def __init__(self, resource_config: Any, resources: Mapping[str, Any] | None = None):
        from types import SimpleNamespace

        self.resource_config = resource_config
        self.resources = SimpleNamespace(**dict(resources or {}))
        # Dagster's is the run's logger; outside a run, messages go to this module's logger.
        self.log: logging.Logger = logging.getLogger("weir.resources")
        self.instance = None


def build_init_resource_context(
    config: Any = None, resources: Mapping[str, Any] | None = None
) -> InitResourceContext:
    """An InitResourceContext for calling an `@io_manager` function in a unit test:
    ``my_io_manager(build_init_resource_context(config={"root": "/tmp"}))``."""
    return InitResourceContext(config if config is not None else {}, resources)


class IOManagerDefinition:
    """An I/O manager built by a function of its config each run, as ``@io_manager`` makes.

    `config_schema` maps field names to Python types (``{"base_dir": str}``); the run's
    config for the resource key is checked against it and passed as ``resource_config``.
    """

    def __init__(
        self,
        resource_fn: Callable[..., IOManager],
        config_schema: Mapping[str, Any] | type | None = None,
        description: str | None = None,
        required_resource_keys: set[str] | None = None,
        *,
        config: Mapping[str, Any] | None = None,
    ):
        self.resource_fn = resource_fn
        self.config_schema = config_schema
        self.description = description
        self.required_resource_keys = frozenset(required_resource_keys or ())
        self.config = dict(config or {})

    def configured(self, config: Mapping[str, Any]) -> IOManagerDefinition:
        """This definition with `config` given now rather than by each run."""
        return IOManagerDefinition(
            self.resource_fn, self.config_schema, self.description,
            set(self.required_resource_keys), config={**self.config, **config},
        )  # fmt: skip

    @staticmethod
    def hardcoded_io_manager(
        value: IOManager, description: str | None = None
    ) -> IOManagerDefinition:
        return IOManagerDefinition(lambda _context: value, description=description)

    def __call__(self, context: InitResourceContext | None = None) -> IOManager:
        """Build the I/O manager directly, as in a unit test."""
        given = context or build_init_resource_context()
        return self.build("io_manager", vars(given.resources), given.resource_config)

    def build(self, key: str, resources: Mapping[str, Any], config: Any = None) -> IOManager:
        given = self.config if config is None else {**self.config, **config}
        config = _checked_config(key, self.config_schema, given)
        takes_context = bool(inspect.signature(self.resource_fn).parameters)
        built = (
            self.resource_fn(InitResourceContext(config, resources))
            if takes_context
            else self.resource_fn()
        )
        if not isinstance(built, IOManager):
            raise DefinitionError(
                f"The @io_manager function bound as '{key}' returned {type(built).__name__}, "
                "not an IOManager"
            )
        return built

    def __repr__(self) -> str:
        return f"<IOManagerDefinition {getattr(self.resource_fn, '__name__', '?')}>"


def io_manager(
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: set[str] | None = None,
) -> Any:
    """Make an IOManagerDefinition of a function ``(init_context) -> IOManager``.

    >>> @io_manager(config_schema={"prefix": str})
    ... def prefixed(init_context):
    ...     return InMemoryIOManager()
    """
    if callable(config_schema) and not isinstance(config_schema, type):
        return IOManagerDefinition(config_schema)  # used bare: @io_manager

    def build(fn: Callable[..., IOManager]) -> IOManagerDefinition:
        return IOManagerDefinition(fn, config_schema, description, required_resource_keys)

    return build


def _checked_config(key: str, schema: Any, config: Mapping[str, Any]) -> Any:
    if schema is None:
        return config
    if not isinstance(schema, Mapping):
        return config  # a single typed value, passed through
    where = f"run_config={{'resources': {{'{key}': {{'config': {{...}}}}}}}}"
    unknown = sorted(set(config) - set(schema))
    missing = sorted(set(schema) - set(config))
    problems = [f"unknown fields {unknown}"] if unknown else []
    problems += [f"missing fields {missing}"] if missing else []
    if problems:
        raise ConfigError(
            f"Config for resource '{key}' is invalid: {'; '.join(problems)}. Pass it as {where}"
        )
    for name, kind in schema.items():
        if isinstance(kind, type) and not isinstance(config[name], kind):
            raise ConfigError(
                f"Config for resource '{key}' is invalid: field '{name}' must be "
                f"{kind.__name__}, got {type(config[name]).__name__}. Pass it as {where}"
            )
    return dict(config)


@io_manager
def mem_io_manager(_init_context: InitResourceContext) -> IOManager:
    """Values kept in memory for the length of the run."""
    return InMemoryIOManager()


def _filesystem_io_manager(init_context: InitResourceContext) -> IOManager:
    from weir._fs_values import PlainFilesystemIOManager

    config = init_context.resource_config
    unknown = sorted(set(config) - {"base_dir"})
    if unknown:
        raise ConfigError(f"fs_io_manager takes only 'base_dir' as config, got {unknown}")
    return PlainFilesystemIOManager(str(config.get("base_dir", "")))


# Pickled or JSON files under `base_dir` (default $WEIR_HOME/storage), as FilesystemIOManager
# stores them, built without pydantic.
fs_io_manager = IOManagerDefinition(_filesystem_io_manager)


def is_io_manager_binding(binding: Any) -> bool:
    """Whether what is bound under a key stores and loads values: an IOManager, or what
    builds one for each run (an @io_manager definition, a ConfigurableIOManagerFactory)."""
    if isinstance(binding, (IOManager, IOManagerDefinition)):
        return True
    if isinstance(binding, PartialResource):
        return issubclass(binding.resource_type, (IOManager, _io_manager_factory_type()))
    return isinstance(binding, _io_manager_factory_type())


def _io_manager_factory_type() -> type:
    from weir._config import ConfigurableIOManagerFactory  # pydantic: only when asked

    return ConfigurableIOManagerFactory


def with_run_config(key: str, binding: Any, values: Any) -> Any | None:
    """`binding` with a run's config for its key applied, or None when it is not one of the
    kinds this module owns (a plain ConfigurableResource is reconfigured by run config)."""
    if isinstance(binding, PartialResource) and isinstance(values, Mapping):
        return binding.configured(key, values)
    if isinstance(binding, IOManagerDefinition) and isinstance(values, Mapping):
        return binding.configured(values)
    return None


def launch_configured(resources: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """`resources` with each of `keys` that is configured at launch built from what it was
    given: a run whose config left out a required field is refused before it starts."""
    out = dict(resources)
    for key in keys:
        binding = out.get(key)  # an unbound key is reported by the caller
        if isinstance(binding, PartialResource):
            out[key] = binding.configured(key, {})
    return out


def ready_for_run(
    key: str, binding: Any, resources: Mapping[str, Any]
) -> AbstractContextManager[Any]:
    """What a step receives for `binding` bound as `key`, set up for the run and torn down
    after: EnvVar fields read, I/O manager definitions and factories built."""
    return _ready(key, binding, resources)


@contextmanager
def _ready(key: str, binding: Any, resources: Mapping[str, Any]) -> Iterator[Any]:
    if isinstance(binding, PartialResource):
        binding = launch_configured({key: binding}, [key])[key]  # no run config: its defaults
    if isinstance(binding, IOManagerDefinition):
        yield binding.build(key, resources)
        return
    # A ConfigurableResource exists only once weir._config is imported: a run binding none
    # (say, only the in-memory I/O manager) does not import pydantic here.
    if "weir._config" not in sys.modules:
        yield binding
        return
    from weir._config import ConfigurableIOManagerFactory, ConfigurableResource

    if isinstance(binding, ConfigurableResource):
        resource = binding.with_env_vars_read(key)
        context = InitResourceContext(resource.field_values(), resources)
        with resource.lifecycle(context):
            if isinstance(resource, ConfigurableIOManagerFactory):
                yield resource.create_io_manager(context)
            else:
                yield resource
        return
    yield binding
