"""Each asset's part of the asset reads, kept while its recorded state stays the same.

A deployment's revision moves with every recorded change, so after any materialization
a whole-reply cache (api/reply_cache.py) holds nothing that can be reused, and a
10,000-asset listing would read and build all 10,000 assets again for the one that
changed. Here each built `Asset` is kept, as its wire bytes, under what it depends on:
the deployment, the definitions it was built from (the graph's content hash), the view,
the asset key and the asset's own revision (storage/asset_revisions.py: a count of its
changes), read before any of the state it shows. A page takes its assets' revisions
(storage reads only those changed since its last read) and builds only the assets whose
revision moved; a reply is parsed from the kept entries (`field_entry`) and its JSON
joined from their texts, each made once when first asked.

Example::

    assets = fragments.assets(scope, graph.content_hash, view, keys, build)
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

from weir_protos.v1 import control_plane_pb2 as cp

from weir_controlplane.api.asset_encoding import EncodedAsset, field_entry
from weir_controlplane.storage import AssetRevisions, DeploymentScope

# About two views of a 10,000-asset deployment, with room for a reload's new definitions.
DEFAULT_MAX_ASSETS = 40_000
_Group = tuple[int, str, int]  # deployment, graph hash, view


# The `assets` field of ListAssetsResponse and of GetAssetLineageResponse: a kept asset is
# kept encoded as an entry of it, so a reply is parsed from the entries joined.
ASSETS_FIELD = cp.ListAssetsResponse.ASSETS_FIELD_NUMBER
assert cp.GetAssetLineageResponse.ASSETS_FIELD_NUMBER == ASSETS_FIELD


class KeptAsset:
    """One built asset as an encoded entry of a reply's `assets` field (a third of the
    memory of the message, and a reply parses a page of entries faster than it copies
    messages), with its JSON text made when first asked, and the asset's revision it
    was built at."""

    __slots__ = ("_start", "_text", "_text_of", "entry", "revision", "size")

    def __init__(self, asset: EncodedAsset, revision: int = 0) -> None:
        wire = asset.wire
        self.entry = field_entry(ASSETS_FIELD, wire)
        self.size = len(self.entry)
        self.revision = revision
        self._start = self.size - len(wire)
        self._text: str | None = None
        self._text_of: Callable[[], str] | None = asset.text

    def message(self) -> cp.Asset:
        return cp.Asset.FromString(self.entry[self._start :])

    def text(self) -> str:
        """The asset as compact JSON text (json_mapping.to_json_text)."""
        text = self._text
        if text is None:
            text_of = self._text_of
            if text_of is None:  # another thread made it meanwhile
                return self._text  # type: ignore[return-value]
            text = self._text = text_of()  # two threads may both make it: the same text
            self._text_of = None  # the parts it was made from are no longer needed
        return text


class AssetFragments:
    """Built assets by (deployment, graph, view), then key, each with its revision; the
    least recently used (deployment, graph, view) goes first when there are too many.

    Looking up 10,000 assets is one dict lookup each, by key alone (no key tuples, no
    reordering): a whole-graph lineage after a change spent 8 ms on the lookups before."""

    def __init__(self, revisions: AssetRevisions, max_assets: int = DEFAULT_MAX_ASSETS) -> None:
        self._revisions = revisions
        self._max_assets = max_assets
        self._lock = threading.Lock()
        self._groups: OrderedDict[_Group, dict[str, KeptAsset]] = OrderedDict()
        self._count = 0

    def assets(
        self,
        scope: DeploymentScope,
        graph_hash: str,
        view: int,
        keys: Sequence[str],
        build: Callable[[Sequence[str]], list[EncodedAsset]],
    ) -> list[KeptAsset]:
        """The assets of `keys` in order: kept ones as kept, the others from `build`
        (called once, with the keys not kept, in order), kept from then on."""
        revisions = self._revisions.of_assets(scope, keys)  # before the state is read
        revision_of = revisions.get
        group_key = (scope.deployment_id, graph_hash, view)
        with self._lock:
            group = self._groups.get(group_key)
            if group is not None:
                self._groups.move_to_end(group_key)
                found: list[KeptAsset | None] = list(map(group.get, keys))
            else:
                found = [None] * len(keys)
        missing = [
            index
            for index, (key, kept) in enumerate(zip(keys, found, strict=True))
            if kept is None or kept.revision != revision_of(key, 0)
        ]
        if not missing:
            return found  # type: ignore[return-value]
        built = build([keys[index] for index in missing])
        with self._lock:
            group = self._groups.get(group_key)
            if group is None:
                group = self._groups[group_key] = {}
            for index, asset in zip(missing, built, strict=True):
                key = keys[index]
                kept = found[index] = KeptAsset(asset, revision_of(key, 0))
                # Newest last: within one group, the oldest built go first.
                self._count += 1 - (group.pop(key, None) is not None)
                group[key] = kept
            self._evict(group_key)
        return found  # type: ignore[return-value]

    def _evict(self, in_use: _Group) -> None:
        while self._count > self._max_assets:
            oldest = next((key for key in self._groups if key != in_use), None)
            if oldest is not None:
                self._count -= len(self._groups.pop(oldest))
                continue
            group = self._groups[in_use]  # the only one left: its oldest entries go
            for key in list(itertools.islice(group, self._count - self._max_assets)):
                del group[key]
            self._count = len(group)
