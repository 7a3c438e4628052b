"""What asset and check functions return: Output, MaterializeResult, AssetCheckResult."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from weir._key import AssetKey, CoercibleToAssetKey
from weir._metadata import MetadataValue, normalize_metadata

T = TypeVar("T")


class AssetCheckSeverity(StrEnum):
    WARN = "WARN"
    ERROR = "ERROR"


@dataclass(frozen=True)
class AssetCheckKey:
    asset_key: AssetKey
    name: str

    def to_user_string(self) -> str:
        return f"{self.asset_key.to_user_string()}:{self.name}"


class Output(Generic[T]):
    """A value with metadata: ``return Output(df, metadata={"rows": len(df)})``."""

    __slots__ = ("metadata", "output_name", "value")

    def __init__(
        self, value: T, output_name: str = "result", metadata: Mapping[str, Any] | None = None
    ):
        self.value = value
        self.output_name = output_name
        self.metadata = normalize_metadata(metadata)

    def __repr__(self) -> str:
        return f"Output(value={self.value!r}, output_name={self.output_name!r})"


@dataclass(frozen=True)
class AssetCheckResult:
    """The outcome of an asset check.

    >>> AssetCheckResult(passed=False, metadata={"nulls": 3}).severity
    <AssetCheckSeverity.ERROR: 'ERROR'>
    """

    passed: bool
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)
    description: str | None = None
    asset_key: AssetKey | None = None
    check_name: str | None = None

    def __init__(
        self,
        *,
        passed: bool,
        severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
        metadata: Mapping[str, Any] | None = None,
        description: str | None = None,
        asset_key: CoercibleToAssetKey | None = None,
        check_name: str | None = None,
    ):
        set_ = object.__setattr__
        set_(self, "passed", bool(passed))
        set_(self, "severity", AssetCheckSeverity(severity))
        set_(self, "metadata", normalize_metadata(metadata))
        set_(self, "description", description)
        set_(self, "asset_key", AssetKey.from_coercible(asset_key) if asset_key else None)
        set_(self, "check_name", check_name)


@dataclass(frozen=True)
class MaterializeResult:
    """What an asset returns when it stores its data itself: metadata and check results.

    No I/O manager is called for it.
    """

    asset_key: AssetKey | None = None
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)
    check_results: Sequence[AssetCheckResult] = ()
    data_version: str | None = None
    value: Any = None

    def __init__(
        self,
        *,
        asset_key: CoercibleToAssetKey | None = None,
        metadata: Mapping[str, Any] | None = None,
        check_results: Sequence[AssetCheckResult] | None = None,
        data_version: str | None = None,
        value: Any = None,
    ):
        set_ = object.__setattr__
        set_(self, "asset_key", AssetKey.from_coercible(asset_key) if asset_key else None)
        set_(self, "metadata", normalize_metadata(metadata))
        set_(self, "check_results", tuple(check_results or ()))
        set_(self, "data_version", data_version)
        set_(self, "value", value)
