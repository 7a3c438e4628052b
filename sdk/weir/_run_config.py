"""Run config: `RunConfig` and the plain dict form, for ops, assets and resources.

A run's config has the shape ``{"ops": {node: {"config": {...}}}, "resources": {key:
{"config": {...}}}}``. `RunConfig` builds the same thing from Config and resource objects.
Ops config is validated by the executors (they know the nodes); resource config is applied
here, to the resources a run binds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from weir._errors import ConfigError

_SECTIONS = frozenset({"ops", "resources", "execution", "loggers"})


class RunConfig:
    """Config for one run, as objects: ``RunConfig(ops={"scale": ScaleConfig(factor=3)})``.

    `ops` maps a node (op or asset) name to a Config instance or a plain dict; `resources`
    maps a resource key to a resource object (replacing the bound one) or a dict of fields.

    >>> RunConfig(ops={"scale": {"factor": 3}}).to_config_dict()["ops"]
    {'scale': {'config': {'factor': 3}}}
    """

    def __init__(
        self,
        ops: Mapping[str, Any] | None = None,
        resources: Mapping[str, Any] | None = None,
        loggers: Mapping[str, Any] | None = None,
        execution: Mapping[str, Any] | None = None,
    ):
        self.ops = dict(ops or {})
        self.resources = dict(resources or {})
        self.loggers = dict(loggers or {})
        self.execution = dict(execution or {})

    def to_config_dict(self) -> dict[str, Any]:
        """The plain dict form: each Config or resource object becomes ``{"config": fields}``."""
        return {
            "loggers": self.loggers,
            "resources": {key: {"config": _fields(value)} for key, value in self.resources.items()},
            "ops": {name: _op_entry(value) for name, value in self.ops.items()},
            "execution": self.execution,
        }

    def __repr__(self) -> str:
        return f"RunConfig(ops={self.ops!r}, resources={self.resources!r})"


def _fields(value: Any) -> Any:
    """A Config or resource object's own field values (nested objects kept as they are)."""
    model_fields = getattr(type(value), "model_fields", None)
    if model_fields is None:
        return value
    from weir._config import ConfigurableResource  # pydantic is loaded: value is a model

    if isinstance(value, ConfigurableResource):
        return value.field_values()  # keeps EnvVar fields unread
    return {name: getattr(value, name) for name in model_fields}


def _op_entry(value: Any) -> Any:
    # A nested graph's config is already ``{"ops": {...}}``; anything else is the op's own.
    if isinstance(value, Mapping) and set(value) <= {"config", "ops"} and value:
        return dict(value)
    return {"config": _fields(value)}


def as_config_dict(run_config: RunConfig | Mapping[str, Any] | None) -> dict[str, Any]:
    """`run_config` in the plain dict form, its sections checked."""
    if run_config is None:
        return {}
    if isinstance(run_config, RunConfig):
        return run_config.to_config_dict()
    if not isinstance(run_config, Mapping):
        raise ConfigError(
            f"run_config must be a RunConfig or a dict such as {{'ops': {{...}}}}, got "
            f"{type(run_config).__name__}"
        )
    unknown = sorted(set(run_config) - _SECTIONS)
    if unknown:
        raise ConfigError(
            f"Unknown run_config sections {unknown}; the sections are {sorted(_SECTIONS)}"
        )
    return dict(run_config)


def op_config_values(entry: Any) -> Any:
    """The config values of one ``run_config["ops"][node]`` entry."""
    if isinstance(entry, Mapping):
        return entry.get("config", {})
    return entry


def invalid_config(node: str, exc: Exception) -> ConfigError:
    """A pydantic validation failure as a ConfigError naming the node and where config goes.
    A nested graph's node ``inner.op`` is configured under ``{"inner": {"ops": {"op": ...}}}``."""
    *outer, last = node.split(".")
    path = f"{{'{last}': {{'config': {{...}}}}}}"
    for name in reversed(outer):
        path = f"{{'{name}': {{'ops': {path}}}}}"
    return ConfigError(
        f"Config for '{node}' is invalid: {_problems(exc)}. Pass it as run_config="
        f"{{'ops': {path}}} or RunConfig(ops={{'{last}': ...}})"
    )


def _problems(exc: Exception) -> str:
    """A pydantic ValidationError's lines after its title, joined on one line."""
    return "; ".join(ln.strip() for ln in str(exc).splitlines()[1:])


def configured_resources(
    resources: Mapping[str, Any], run_config: Mapping[str, Any]
) -> dict[str, Any]:
    """`resources` with ``run_config["resources"]`` applied: a field dict updates a configurable
    resource's fields (validated), anything else replaces the bound value."""
    section = run_config.get("resources") or {}
    if not isinstance(section, Mapping):
        raise ConfigError("run_config['resources'] must map resource keys to {'config': {...}}")
    out = dict(resources)
    for key, entry in section.items():
        if key not in out:
            bound = ", ".join(sorted(out)) or "none"
            raise ConfigError(
                f"run_config configures resource '{key}', which this run does not bind "
                f"(bound resources: {bound})"
            )
        values = entry.get("config", entry) if isinstance(entry, Mapping) else entry
        out[key] = _reconfigured(key, out[key], values)
    return out


def _reconfigured(key: str, resource: Any, values: Any) -> Any:
    from weir._resources import with_run_config

    applied = with_run_config(key, resource, values)
    if applied is not None:  # configured at launch, or an @io_manager's config
        return applied
    model_fields = getattr(type(resource), "model_fields", None)
    if model_fields is None or not isinstance(values, Mapping):
        return values
    return reconfigured_resource(key, type(resource), {**_fields(resource), **values})


def reconfigured_resource(key: str, resource_type: type, values: Mapping[str, Any]) -> Any:
    """A `resource_type` of `values`, bound as `key`; invalid values are a ConfigError."""
    try:
        return resource_type(**values)
    except Exception as exc:  # pydantic.ValidationError, kept lazy
        raise ConfigError(
            f"Config for resource '{key}' is invalid: {_problems(exc)}. Pass it as "
            f"run_config={{'resources': {{'{key}': {{'config': {{...}}}}}}}}"
        ) from None
