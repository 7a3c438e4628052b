"""Declarative descriptions of assets and their edges: AssetSpec, AssetDep, AssetIn, AssetOut."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from weir._automation.validation import check_automation_condition, check_freshness_policy
from weir._errors import DefinitionError
from weir._key import AssetKey, CoercibleToAssetKey
from weir._metadata import checked_metadata

if TYPE_CHECKING:
    from weir._automation.conditions import AutomationCondition
    from weir._automation.freshness import FreshnessPolicy
    from weir._partitions import PartitionsDefinition

_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-\.]*$")
# Each empty frozenset is an object of its own (216 bytes); specs without kinds share one.
_NO_KINDS: frozenset[str] = frozenset()


def validate_group_name(name: str) -> str:
    """A group name: one name, or several joined by '/' for nested groups, as Dagster allows
    (``"marketing/attribution"``)."""
    if not isinstance(name, str) or not all(_NAME_RE.match(part) for part in name.split("/")):
        raise DefinitionError(
            f"Group {name!r} is not a valid name: use letters, digits, '_', '-' and '.', and "
            "'/' between the names of nested groups"
        )
    return name


def validate_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise DefinitionError(
            f"{what} {name!r} is not a valid name: use letters, digits, '_', '-' and '.'"
        )
    return name


_NO_TAGS: Mapping[str, str] = MappingProxyType({})


class _Where:
    """The "asset '<key>'" of an error message, written only when one is raised."""

    __slots__ = ("key",)

    def __init__(self, key: AssetKey) -> None:
        self.key = key

    def __str__(self) -> str:
        return f"asset '{self.key.to_user_string()}'"


def _validate_tags(tags: Mapping[str, str] | None, where: object) -> Mapping[str, str]:
    if not tags:
        return _NO_TAGS
    out: dict[str, str] = {}
    for k, v in (tags or {}).items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise DefinitionError(f"Tags of {where} must map str to str, got {k!r}: {v!r}")
        out[k] = v
    return out


def _validate_owners(owners: Sequence[str] | None, where: object) -> tuple[str, ...]:
    for owner in owners or ():
        if not isinstance(owner, str) or not ("@" in owner or owner.startswith("team:")):
            raise DefinitionError(
                f"Owner {owner!r} of {where} must be an email address or 'team:<name>'"
            )
    return tuple(owners or ())


class AssetDep:
    """An upstream asset this asset depends on, optionally with a partition mapping.

    >>> AssetDep("raw/orders")
    AssetDep(AssetKey(['raw', 'orders']))
    """

    __slots__ = ("asset_key", "partition_mapping")

    def __init__(self, asset: CoercibleToAssetKey | Any, *, partition_mapping: Any = None):
        self.asset_key = AssetKey.from_coercible(asset)
        self.partition_mapping = partition_mapping

    @staticmethod
    def coerce(value: AssetDep | CoercibleToAssetKey | Any) -> AssetDep:
        return value if isinstance(value, AssetDep) else AssetDep(value)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, AssetDep)
            and other.asset_key == self.asset_key
            and other.partition_mapping == self.partition_mapping
        )

    def __hash__(self) -> int:
        return hash(self.asset_key)

    def __repr__(self) -> str:
        mapping = self.partition_mapping
        mapping = f", partition_mapping={mapping!r}" if mapping is not None else ""
        return f"AssetDep({self.asset_key!r}{mapping})"


# Where `AssetSpec.with_io_manager_key` keeps the key, as Dagster keeps it in metadata.
IO_MANAGER_KEY_METADATA = "weir/io_manager_key"

_SPEC_ATTRIBUTES = frozenset({
    "key", "deps", "description", "metadata", "skippable", "group_name", "code_version",
    "automation_condition", "freshness_policy", "owners", "tags", "kinds", "partitions_def",
})  # fmt: skip


# Slots, not a __dict__: a large location keeps tens of thousands of specs, in the code
# server and in the pages its zygote maps, and a 13-entry __dict__ is 460 bytes of each.
@dataclass(frozen=True, kw_only=True, slots=True)
class AssetSpec:
    """Everything known about one asset except how to compute it.

    In ``Definitions(assets=[AssetSpec("raw/events")])`` it declares an external asset that
    other assets can depend on but Weir does not materialize.
    """

    key: AssetKey
    deps: tuple[AssetDep, ...] = ()
    description: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    skippable: bool = False
    group_name: str | None = None
    code_version: str | None = None
    automation_condition: AutomationCondition | None = None
    freshness_policy: FreshnessPolicy | None = None
    owners: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    kinds: frozenset[str] = frozenset()
    partitions_def: PartitionsDefinition | None = None

    def __init__(
        self,
        key: CoercibleToAssetKey,
        *,
        deps: Iterable[AssetDep | CoercibleToAssetKey | Any] | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        skippable: bool = False,
        group_name: str | None = None,
        code_version: str | None = None,
        automation_condition: AutomationCondition | None = None,
        freshness_policy: FreshnessPolicy | None = None,
        owners: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
        kinds: Iterable[str] | None = None,
        partitions_def: PartitionsDefinition | None = None,
    ):
        key = AssetKey.from_coercible(key)
        where = _Where(key)
        # Each check only for a value given: most specs set a key and deps alone, and a
        # large location builds tens of thousands of them. The slots are filled through
        # their descriptors (the frozen dataclass's __setattr__ refuses), in field order.
        values = (
            key,
            tuple(AssetDep.coerce(d) for d in deps) if deps else (),
            description,
            checked_metadata(metadata),
            skippable,
            validate_group_name(group_name) if group_name else None,
            code_version,
            (
                check_automation_condition(automation_condition, str(where))
                if automation_condition is not None
                else None
            ),
            (
                check_freshness_policy(freshness_policy, str(where))
                if freshness_policy is not None
                else None
            ),
            _validate_owners(owners, where) if owners else (),
            _validate_tags(tags, where),
            frozenset(kinds) if kinds else _NO_KINDS,
            partitions_def,
        )
        for set_slot, value in zip(_SPEC_SLOT_SETTERS, values, strict=True):
            set_slot(self, value)

    def replace(self, **changes: Any) -> AssetSpec:
        """A copy with the given attributes replaced."""
        current = {name: getattr(self, name) for name in _SPEC_ATTRIBUTES}
        current.update(changes)
        return AssetSpec(**current)

    def replace_attributes(self, **changes: Any) -> AssetSpec:
        """A copy with the given attributes replaced, as ``replace_attributes(group_name="x")``."""
        unknown = sorted(set(changes) - _SPEC_ATTRIBUTES)
        if unknown:
            raise DefinitionError(
                f"AssetSpec has no attributes {unknown}; it has {sorted(_SPEC_ATTRIBUTES)}"
            )
        return self.replace(**changes)

    def merge_attributes(
        self,
        *,
        deps: Iterable[AssetDep | CoercibleToAssetKey | Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        owners: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
        kinds: Iterable[str] | None = None,
    ) -> AssetSpec:
        """A copy with `deps` and `owners` added to its own and `metadata`, `tags` and
        `kinds` merged into its own (the given values win)."""
        new_deps = [*self.deps, *(AssetDep.coerce(d) for d in deps or ())]
        return self.replace(
            deps=list({d.asset_key: d for d in new_deps}.values()),
            metadata={**self.metadata, **(metadata or {})},
            owners=list(dict.fromkeys([*self.owners, *(owners or ())])),
            tags={**self.tags, **(tags or {})},
            kinds=self.kinds | set(kinds or ()),
        )

    def with_io_manager_key(self, io_manager_key: str) -> AssetSpec:
        """A copy stored and loaded by the I/O manager bound under `io_manager_key`."""
        return self.merge_attributes(metadata={IO_MANAGER_KEY_METADATA: io_manager_key})

    @property
    def io_manager_key(self) -> str | None:
        """The I/O manager key given by `with_io_manager_key`, if any."""
        value = self.metadata.get(IO_MANAGER_KEY_METADATA)
        return None if value is None else str(getattr(value, "value", value))

    @property
    def dep_keys(self) -> tuple[AssetKey, ...]:
        return tuple(d.asset_key for d in self.deps)


# The slots' own setters, in the order of the dataclass fields (AssetSpec.__init__'s values).
_SPEC_SLOT_SETTERS = tuple(
    getattr(AssetSpec, spec_field.name).__set__ for spec_field in fields(AssetSpec)
)


@dataclass(frozen=True, kw_only=True)
class AssetIn:
    """How a function parameter maps to an upstream asset (key, partition mapping, metadata)."""

    key: AssetKey | None = None
    metadata: Mapping[str, Any] | None = None
    key_prefix: Sequence[str] | None = None
    partition_mapping: Any = None

    def __init__(
        self,
        key: CoercibleToAssetKey | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        key_prefix: str | Sequence[str] | None = None,
        partition_mapping: Any = None,
    ):
        if key is not None and key_prefix is not None:
            raise DefinitionError("AssetIn takes either key or key_prefix, not both")
        prefix = (key_prefix,) if isinstance(key_prefix, str) else key_prefix
        # One __dict__ update instead of four frozen-dataclass setattr calls: AssetIn is
        # built twice per asset in generated graphs.
        self.__dict__.update(
            key=AssetKey.from_coercible(key) if key else None,
            metadata=metadata,
            key_prefix=tuple(prefix) if prefix else None,
            partition_mapping=partition_mapping,
        )

    def resolve_key(self, param_name: str) -> AssetKey:
        if self.key is not None:
            return self.key
        return AssetKey((*(self.key_prefix or ()), param_name))


@dataclass(frozen=True, kw_only=True)
class AssetOut:
    """One output of a `@multi_asset`: the asset it produces and how it is stored."""

    key: AssetKey | None = None
    key_prefix: Sequence[str] | None = None
    description: str | None = None
    io_manager_key: str | None = None
    metadata: Mapping[str, Any] | None = None
    group_name: str | None = None
    code_version: str | None = None
    tags: Mapping[str, str] | None = None
    owners: Sequence[str] | None = None
    kinds: Iterable[str] | None = None
    is_required: bool = True
    automation_condition: Any = None
    freshness_policy: Any = None

    def __init__(self, key: CoercibleToAssetKey | None = None, **kwargs: Any):
        object.__setattr__(self, "key", AssetKey.from_coercible(key) if key else None)
        for name, value in kwargs.items():
            if name not in self.__dataclass_fields__:
                raise DefinitionError(f"AssetOut got an unexpected argument {name!r}")
            if name == "key_prefix" and isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, value)
        for name, f in self.__dataclass_fields__.items():
            if name not in kwargs and name != "key":
                object.__setattr__(self, name, f.default)
