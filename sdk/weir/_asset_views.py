"""Read-only views of an AssetsDefinition that tests and tools read, keyed by asset."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from weir._errors import DefinitionError
from weir._key import AssetKey

if TYPE_CHECKING:
    from weir._checks import AssetCheckSpec
    from weir._ops.op import OpDefinition
    from weir._results import AssetCheckKey
    from weir._signature import FunctionParams
    from weir._specs import AssetSpec

# The group of an asset declared without one.
DEFAULT_GROUP = "default"


class AssetKeys(tuple[AssetKey, ...]):
    """The keys of an AssetsDefinition in the order of its specs, equal to the set of the
    same keys too: ``my_asset.keys == {AssetKey("a")}`` holds, as Dagster's set does."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AbstractSet):
            return set(self) == other
        return tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = tuple.__hash__


class AssetsDefinitionViews:
    """Per-key views over `specs`, and the op an executable definition runs."""

    __slots__ = ()  # AssetsDefinition's fields are slots (see there)

    node_name: str
    specs: tuple[AssetSpec, ...]
    fn: Callable[..., Any] | None
    params: FunctionParams
    output_names: Mapping[AssetKey, str]
    io_manager_keys: Mapping[AssetKey, str]
    required_outputs: AbstractSet[AssetKey]
    check_specs: tuple[AssetCheckSpec, ...]
    op_tags: Mapping[str, str]

    @property
    def code_versions_by_key(self) -> dict[AssetKey, str | None]:
        return {s.key: s.code_version for s in self.specs}

    @property
    def group_names_by_key(self) -> dict[AssetKey, str]:
        return {s.key: s.group_name or DEFAULT_GROUP for s in self.specs}

    @property
    def descriptions_by_key(self) -> dict[AssetKey, str | None]:
        return {s.key: s.description for s in self.specs}

    @property
    def asset_deps(self) -> dict[AssetKey, set[AssetKey]]:
        """The upstream keys of each asset this definition produces."""
        return {s.key: set(s.dep_keys) for s in self.specs}

    @property
    def check_keys(self) -> set[AssetCheckKey]:
        return {c.key for c in self.check_specs}

    @property
    def op(self) -> OpDefinition:
        """The op this definition runs: its name, inputs, outputs, resources and tags."""
        from weir._ops.op import In, OpDefinition, Out

        if self.fn is None:
            raise DefinitionError(f"'{self.node_name}' is an external asset; it runs no op")
        required = frozenset(self.required_outputs)
        return OpDefinition(
            name=self.node_name,
            fn=self.fn,
            params=self.params,
            ins={p: In(dagster_type=hint) for p, hint in self.params.input_params.items()},
            outs={
                name: Out(io_manager_key=self.io_manager_keys.get(key), is_required=key in required)
                for key, name in self.output_names.items()
            },
            required_resource_keys=frozenset(),
            description=_shared_description(self.specs),
            tags=self.op_tags,
        )

    @property
    def node_def(self) -> OpDefinition:
        return self.op


def _shared_description(specs: Sequence[AssetSpec]) -> str | None:
    descriptions = {s.description for s in specs}
    return descriptions.pop() if len(descriptions) == 1 else None
