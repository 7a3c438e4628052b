"""Each asset's part of the asset reads, kept while its recorded state stays the same.

A deployment's revision moves with every recorded change, so after any materialization
a whole-reply cache (api/reply_cache.py) holds nothing that can be reused, and a
10,000-asset listing would read and build all 10,000 assets again for the one that
changed. Here each built `Asset` is kept, as its wire bytes, under what it depends on:
the deployment, the definitions it was built from (the graph's content hash), the view,
the asset key and the asset's own revision (storage/asset_revisions.py: a count of its
changes), read before any of the state it shows. A page reads its assets' revisions in
one indexed query and builds only the assets whose revision moved; a reply is parsed
from the kept entries (`field_entry`) and its JSON joined from their kept text.

Example::

    assets = fragments.assets(scope, graph.content_hash, view, keys, build)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

from weir_protos.v1 import control_plane_pb2 as cp

from weir_controlplane.api.json_mapping import to_json_text
from weir_controlplane.storage import AssetRevisions, DeploymentScope

# About two views of a 10,000-asset deployment, with room for a reload's new definitions.
DEFAULT_MAX_ASSETS = 40_000
_Key = tuple[int, str, int, str, int]  # deployment, graph hash, view, asset key, revision


# The `assets` field of ListAssetsResponse and of GetAssetLineageResponse: a kept asset is
# kept encoded as an entry of it, so a reply is parsed from the entries joined.
ASSETS_FIELD = cp.ListAssetsResponse.ASSETS_FIELD_NUMBER
assert cp.GetAssetLineageResponse.ASSETS_FIELD_NUMBER == ASSETS_FIELD


class KeptAsset:
    """One built asset as an encoded entry of a reply's `assets` field (a third of the
    memory of the message, and a reply parses a page of entries faster than it copies
    messages), with its JSON text made when first asked."""

    __slots__ = ("_start", "_text", "entry", "size")

    def __init__(self, asset: cp.Asset) -> None:
        wire = asset.SerializeToString()
        self.entry = field_entry(ASSETS_FIELD, wire)
        self.size = len(self.entry)
        self._start = self.size - len(wire)
        self._text: str | None = None

    def message(self) -> cp.Asset:
        return cp.Asset.FromString(self.entry[self._start :])

    def text(self) -> str:
        """The asset as compact JSON text (json_mapping.to_json_text)."""
        if self._text is None:  # two threads may both make it: the same text
            self._text = to_json_text(self.message())
        return self._text


def field_entry(number: int, wire: bytes) -> bytes:
    """A message (by its wire bytes) encoded as one entry of repeated message field
    `number`: a reply parsed from entries joined fills that field in one pass."""
    return _varint(number << 3 | 2) + _varint(len(wire)) + wire  # wire type 2: delimited


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class AssetFragments:
    """Least recently used built assets by (deployment, graph, view, key, revision)."""

    def __init__(self, revisions: AssetRevisions, max_assets: int = DEFAULT_MAX_ASSETS) -> None:
        self._revisions = revisions
        self._max_assets = max_assets
        self._lock = threading.Lock()
        self._kept: OrderedDict[_Key, KeptAsset] = OrderedDict()

    def assets(
        self,
        scope: DeploymentScope,
        graph_hash: str,
        view: int,
        keys: Sequence[str],
        build: Callable[[Sequence[str]], list[cp.Asset]],
    ) -> list[KeptAsset]:
        """The assets of `keys` in order: kept ones as kept, the others from `build`
        (called once, with the keys not kept, in order), kept from then on."""
        revisions = self._revisions.of_assets(scope, keys)  # before the state is read
        wanted = [
            (scope.deployment_id, graph_hash, view, key, revisions.get(key, 0)) for key in keys
        ]
        found: list[KeptAsset | None] = []
        with self._lock:
            for key in wanted:
                kept = self._kept.get(key)
                if kept is not None:
                    self._kept.move_to_end(key)
                found.append(kept)
        missing = [index for index, kept in enumerate(found) if kept is None]
        if not missing:
            return found  # type: ignore[return-value]
        built = build([keys[index] for index in missing])
        with self._lock:
            for index, asset in zip(missing, built, strict=True):
                found[index] = self._kept[wanted[index]] = KeptAsset(asset)
            while len(self._kept) > self._max_assets:
                self._kept.popitem(last=False)
        return found  # type: ignore[return-value]
