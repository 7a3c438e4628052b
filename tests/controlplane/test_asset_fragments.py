"""Kept assets: rebuilt exactly when their own revision moves, and bounded in number."""

from __future__ import annotations

from collections.abc import Sequence

from weir_controlplane.api.asset_encoding import EncodedAsset, encode_asset, encode_key
from weir_controlplane.api.asset_fragments import AssetFragments
from weir_controlplane.storage import DeploymentScope, Storage, asset_revisions


class Builder:
    """Builds assets whose code location says how many times each was built."""

    def __init__(self) -> None:
        self.built: list[str] = []

    def __call__(self, keys: Sequence[str]) -> list[EncodedAsset]:
        self.built += keys
        return [
            encode_asset(encode_key(key), str(self.built.count(key)), None, None, (), None)
            for key in keys
        ]


def _bump(storage: Storage, scope: DeploymentScope, *keys: str) -> None:
    with storage.database.write() as conn:
        asset_revisions.bump(conn, storage.database.dialect, scope.deployment_id, keys)


def _shown(
    fragments: AssetFragments, scope: DeploymentScope, graph: str, keys: list[str], build: Builder
) -> list[str]:
    return [kept.message().code_location for kept in fragments.assets(scope, graph, 0, keys, build)]


def test_only_the_assets_whose_revision_moved_are_built_again(
    storage: Storage, scope: DeploymentScope
) -> None:
    fragments = AssetFragments(storage.asset_revisions)
    build = Builder()
    keys = ["a", "b", "c"]
    assert _shown(fragments, scope, "g1", keys, build) == ["1", "1", "1"]
    assert _shown(fragments, scope, "g1", keys, build) == ["1", "1", "1"]
    _bump(storage, scope, "b")
    assert _shown(fragments, scope, "g1", keys, build) == ["1", "2", "1"]
    assert build.built == ["a", "b", "c", "b"]
    # Other definitions (a reload) are built apart.
    assert _shown(fragments, scope, "g2", ["a"], build) == ["2"]


def test_at_most_max_assets_are_kept_the_least_recently_used_definitions_first(
    storage: Storage, scope: DeploymentScope
) -> None:
    fragments = AssetFragments(storage.asset_revisions, max_assets=3)
    build = Builder()
    _shown(fragments, scope, "old", ["a", "b"], build)
    _shown(fragments, scope, "new", ["a", "b"], build)  # "old" goes
    _shown(fragments, scope, "new", ["a", "b"], build)
    assert build.built == ["a", "b", "a", "b"]
    assert _shown(fragments, scope, "old", ["a"], build) == ["3"]  # built again
    # One group alone over the bound keeps its newest.
    _shown(fragments, scope, "new", ["c", "d", "e"], build)
    build.built.clear()
    _shown(fragments, scope, "new", ["c", "d", "e", "a"], build)
    assert build.built == ["a"]
