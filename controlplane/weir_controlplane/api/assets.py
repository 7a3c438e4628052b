"""Asset reads: ListAssets, GetAsset, GetAssetLineage, ListMaterializations.

Definitions come from the code locations' snapshot graphs; recorded state (latest
materialization, check results) from storage's derived tables, fetched in one batch per
page of assets. Nothing here reads the event log except an asset's own materializations
through its index. ListAssets and GetAssetLineage replies are kept and reused while
nothing they show changes (api/reply_cache.py).
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from google.protobuf.message import Message
from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import definitions_pb2

from weir_controlplane.api import convert, limits, paging
from weir_controlplane.api.access_checks import visible_locations
from weir_controlplane.api.asset_encoding import EncodedAsset, encode_asset, encode_key, field_entry
from weir_controlplane.api.asset_fragments import ASSETS_FIELD, AssetFragments, KeptAsset
from weir_controlplane.api.asset_graph import DeploymentGraph
from weir_controlplane.api.context import current_scope
from weir_controlplane.api.health import HealthApi, health_status
from weir_controlplane.api.json_mapping import to_json_text
from weir_controlplane.api.lineage_plan import LineagePlan, LineageSelector
from weir_controlplane.api.reply_cache import Built, EncodedReply, Reply, ReplyCache, ReplyKey
from weir_controlplane.errors import InvalidArgumentError, NotFoundError
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.partitions import DynamicSpaces, space_of
from weir_controlplane.storage import (
    AssetRevisions,
    AssetStorage,
    CheckResult,
    CodeLocationStorage,
    DeploymentScope,
    EventLog,
    EventType,
    HealthStatus,
    MetadataStorage,
)

# Longest metadata key a filter may name (the stored column's width).
MAX_METADATA_KEY = 255
_Request = TypeVar("_Request", bound=Message)
_Reply = TypeVar("_Reply", bound=Message)
# Replies are joined from encoded parts; the cursor, when there is one, is appended so.
_LIST_CURSOR_FIELD = cp.ListAssetsResponse.NEXT_CURSOR_FIELD_NUMBER
_LINEAGE_CURSOR_FIELD = cp.GetAssetLineageResponse.NEXT_CURSOR_FIELD_NUMBER


class AssetsApi:
    """Answers the asset RPCs of ControlPlaneService for the request's deployment."""

    def __init__(
        self,
        registry: CodeLocationRegistry,
        assets: AssetStorage,
        event_log: EventLog,
        code_locations: CodeLocationStorage,
        dynamic_spaces: Callable[[DeploymentScope], DynamicSpaces] | None = None,
        metadata: MetadataStorage | None = None,
        revisions: AssetRevisions | None = None,
        cache: ReplyCache | None = None,
    ) -> None:
        self._registry = registry
        self._assets = assets
        self._event_log = event_log
        self._code_locations = code_locations
        self._dynamic_spaces = dynamic_spaces
        self._metadata = metadata
        self._revisions = revisions  # None: every reply is built afresh
        self._cache = cache or ReplyCache()
        self._fragments = AssetFragments(revisions) if revisions is not None else None
        self.health: HealthApi | None = None  # set by the wiring: health of each asset

    def graph(self, scope: DeploymentScope) -> DeploymentGraph:
        """The assets of the code locations the caller may read: to a caller narrowed to
        some locations, the others' assets do not exist."""
        graphs = self._registry.all_graphs(scope)
        visible = visible_locations()
        if visible is not None:
            graphs = {name: graph for name, graph in graphs.items() if name in visible}
        return DeploymentGraph.of(graphs)

    def _recorded_only_visible(self) -> bool:
        # An asset no location defines belongs to no location: only a caller who may read
        # every location sees its recorded history.
        return visible_locations() is None

    # --- RPCs ---------------------------------------------------------------------------

    def list_assets(self, request: cp.ListAssetsRequest) -> Reply[cp.ListAssetsResponse]:
        scope = current_scope()
        graph = self.graph(scope)
        return self._kept("ListAssets", scope, graph, request, self._list_assets)

    def _kept(
        self,
        method: str,
        scope: DeploymentScope,
        graph: DeploymentGraph,
        request: _Request,
        build: Callable[[DeploymentScope, DeploymentGraph, _Request], Built[_Reply]],
    ) -> Reply[_Reply]:
        """`build`'s reply, reused while the definitions, the caller's locations and the
        recorded asset state stay the same (api/reply_cache.py)."""
        if self._revisions is None:
            return build(scope, graph, request).reply
        # The revision is read before the state the reply shows: see asset_revisions.py.
        key = ReplyKey.of(
            method,
            scope,
            graph.content_hash,
            visible_locations(),
            request,
            self._revisions.current(scope),
        )
        return self._cache.get_or_build(key, lambda: build(scope, graph, request))

    def _list_assets(
        self, scope: DeploymentScope, graph: DeploymentGraph, request: cp.ListAssetsRequest
    ) -> Built[cp.ListAssetsResponse]:
        if request.code_location and request.code_location not in graph.graphs:
            self._code_locations.get(scope, request.code_location)  # NOT_FOUND if unknown
        selected = graph.resolve(request.selection) if request.selection else None
        wanted_health = self._health_filter(scope, request)
        with_metadata = self._metadata_filter(scope, graph, request.metadata_key)
        limit = paging.page_size(request.limit)
        after = paging.decode_after(request.cursor)
        start = 0 if after is None else bisect.bisect_right(graph.sorted_keys, after)
        page: list[str] = []
        more = False
        for key in itertools.islice(graph.sorted_keys, start, None):
            if selected is not None and key not in selected:
                continue
            if not _matches_filters(request, graph, key):
                continue
            if wanted_health is not None and not wanted_health(key):
                continue
            if with_metadata is not None and key not in with_metadata:
                continue
            if len(page) == limit:
                more = True
                break
            page.append(key)
        if _view(request) == cp.ASSET_VIEW_HEALTH:
            kept = self._health_only(scope, graph, page)
        else:
            kept = self._describe(scope, graph, page)
        fitting = paging.fitting_sizes([asset.size for asset in kept])
        if fitting < len(kept):  # too big for one reply: the page ends early
            kept, page, more = kept[:fitting], page[:fitting], True
        cursor = _cursor_entry(_LIST_CURSOR_FIELD, page[-1]) if more else b""
        return _joined(cp.ListAssetsResponse, kept, sum(asset.size for asset in kept), cursor)

    def _health_filter(
        self, scope: DeploymentScope, request: cp.ListAssetsRequest
    ) -> Callable[[str], bool] | None:
        """Whether an asset's health is one of the request's, from one index-only read."""
        if not request.health:
            return None
        wanted = {health_status(value) for value in request.health}
        if self.health is None:
            raise InvalidArgumentError("this control plane keeps no asset health")
        statuses = self.health.statuses(scope)
        return lambda key: statuses.get(key, HealthStatus.UNKNOWN) in wanted

    def _metadata_filter(
        self, scope: DeploymentScope, graph: DeploymentGraph, metadata_key: str
    ) -> set[str] | None:
        """The assets with `metadata_key` in their definition or materialization metadata."""
        if not metadata_key:
            return None
        _check_metadata_key(metadata_key)
        found = {
            key
            for key, node in graph.nodes.items()
            if any(entry.label == metadata_key for entry in node.metadata)
        }
        if self._metadata is not None:
            found |= self._metadata.assets_with_key(scope, metadata_key)
        return found

    def get_asset(self, request: cp.GetAssetRequest) -> cp.GetAssetResponse:
        scope = current_scope()
        key = convert.key_text(request.key)
        graph = self.graph(scope)
        if graph.node(key) is None and (
            not self._recorded_only_visible() or not self._assets.summaries(scope, [key])
        ):
            raise NotFoundError(
                f"asset {key!r} is not defined by any code location of deployment "
                f"{scope.name!r} and was never materialized there"
            )
        return cp.GetAssetResponse(asset=self._describe(scope, graph, [key])[0].message())

    def get_asset_graph_layout(
        self, request: cp.GetAssetGraphLayoutRequest
    ) -> cp.GetAssetGraphLayoutResponse:
        graph = self.graph(current_scope())
        layout = graph.layout()
        return cp.GetAssetGraphLayoutResponse(
            layout_hash=graph.content_hash,
            keys=layout.keys,
            x=layout.x,
            y=layout.y,
            layer=layout.layer,
            group_index=layout.group_index,
            groups=layout.groups,
            group_boxes=[
                cp.LayoutBox(x=x, y=y, width=w, height=h) for x, y, w, h in layout.group_boxes
            ],
            edge_upstream=[up for up, _ in layout.edges],
            edge_downstream=[down for _, down in layout.edges],
            node_width=layout.node_width,
            node_height=layout.node_height,
            width=layout.width,
            height=layout.height,
        )

    def get_asset_lineage(
        self, request: cp.GetAssetLineageRequest
    ) -> Reply[cp.GetAssetLineageResponse]:
        scope = current_scope()
        graph = self.graph(scope)
        return self._kept("GetAssetLineage", scope, graph, request, self._lineage)

    def _lineage(
        self, scope: DeploymentScope, graph: DeploymentGraph, request: cp.GetAssetLineageRequest
    ) -> Built[cp.GetAssetLineageResponse]:
        has_key = bool(request.key.path)
        if has_key == bool(request.selection):
            raise InvalidArgumentError(
                "set either key (the asset at the centre) or selection, and not both"
            )
        # What the lineage shows of the definitions is kept with them (api/lineage_plan.py).
        selector = LineageSelector(
            convert.key_text(request.key) if has_key else None,
            request.selection,
            request.upstream_depth if request.HasField("upstream_depth") else None,
            request.downstream_depth if request.HasField("downstream_depth") else None,
        )
        plan = graph.derived(
            selector, lambda: LineagePlan.of(graph, self._lineage_keys(scope, graph, selector))
        )
        start = plan.start_after(request.cursor)
        end = len(plan.keys)
        if request.limit:
            end = min(end, start + paging.page_size(request.limit))
        view = _view(request)
        describe = self._health_only if view == cp.ASSET_VIEW_HEALTH else self._describe
        shown, stop, size = plan.fill(
            start, end, lambda keys: describe(scope, graph, keys), limits.MAX_REPLY_BYTES
        )
        rest = b"".join(plan.edges[start:stop])
        if stop < len(plan.keys):
            rest += _cursor_entry(_LINEAGE_CURSOR_FIELD, plan.keys[stop - 1])
        return _joined(cp.GetAssetLineageResponse, shown, size, rest)

    def _lineage_keys(
        self, scope: DeploymentScope, graph: DeploymentGraph, selector: LineageSelector
    ) -> set[str]:
        if selector.key is None:
            return graph.resolve(selector.selection)
        if graph.node(selector.key) is None:
            raise NotFoundError(
                f"asset {selector.key!r} is not defined by any code location of deployment "
                f"{scope.name!r}"
            )
        return graph.walk(selector.key, upstream=selector.upstream, downstream=selector.downstream)

    def list_materializations(
        self, request: cp.ListMaterializationsRequest
    ) -> cp.ListMaterializationsResponse:
        scope = current_scope()
        key = convert.key_text(request.key)
        limit = paging.page_size(request.limit)
        partition = request.partition_key or None
        metadata_key = request.metadata_key or None
        if metadata_key is not None:
            _check_metadata_key(metadata_key)
        if not self._recorded_only_visible() and self.graph(scope).node(key) is None:
            raise NotFoundError(
                f"asset {key!r} is not defined by any code location of deployment "
                f"{scope.name!r} that this token may read"
            )
        if partition is not None:
            dynamic = self._dynamic_spaces(scope) if self._dynamic_spaces else None
            _check_partition_exists(self.graph(scope), key, partition, dynamic)
        if request.run_id:
            # A run's own events are few: filter them rather than the asset's history.
            run_events = self._event_log.get_run_events(
                scope, request.run_id, limit=paging.MAX_LIMIT * 10
            ).items
            records = [
                convert.materialization_record(event)
                for event in reversed(run_events)
                if event.event_type == EventType.ASSET_MATERIALIZATION
                and event.asset_key == key
                and (partition is None or event.partition == partition)
            ]
            if metadata_key is not None:
                records = [
                    record
                    for record in records
                    if any(e.label == metadata_key for e in record.materialization.metadata)
                ]
            return cp.ListMaterializationsResponse(materializations=records[:limit])
        cursor = request.cursor or None
        page = self._assets.list_materializations(
            scope, key, partition=partition, cursor=cursor, limit=limit, metadata_key=metadata_key
        )
        if not page.items and not request.cursor and self.graph(scope).node(key) is None:
            raise NotFoundError(
                f"asset {key!r} is not defined by any code location of deployment "
                f"{scope.name!r} and was never materialized there"
            )
        found = [convert.materialization_record(r) for r in page.items]
        fitting = paging.fitting(found)
        if fitting < len(found):  # too big for one reply: the page ends early
            page = self._assets.list_materializations(
                scope,
                key,
                partition=partition,
                cursor=cursor,
                limit=fitting,
                metadata_key=metadata_key,
            )
            found = found[:fitting]
        return cp.ListMaterializationsResponse(
            materializations=found, next_cursor=page.next_cursor or ""
        )

    # --- helpers ------------------------------------------------------------------------

    def _health_only(
        self, scope: DeploymentScope, graph: DeploymentGraph, keys: Sequence[str]
    ) -> list[KeptAsset]:
        health = self.health
        if health is None:
            raise InvalidArgumentError("this control plane keeps no asset health")
        return self._kept_assets(
            scope,
            graph,
            cp.ASSET_VIEW_HEALTH,
            keys,
            lambda built: health.assets(scope, graph, built),
        )

    def _describe(
        self, scope: DeploymentScope, graph: DeploymentGraph, keys: Sequence[str]
    ) -> list[KeptAsset]:
        """Assets with definition and recorded state: the kept ones whose state has not
        changed, the others built (`_build_described`)."""
        return self._kept_assets(
            scope,
            graph,
            cp.ASSET_VIEW_FULL,
            keys,
            lambda built: self._build_described(scope, graph, built),
        )

    def _kept_assets(
        self,
        scope: DeploymentScope,
        graph: DeploymentGraph,
        view: int,
        keys: Sequence[str],
        build: Callable[[Sequence[str]], list[EncodedAsset]],
    ) -> list[KeptAsset]:
        if self._fragments is None:
            return [KeptAsset(asset) for asset in build(keys)]
        return self._fragments.assets(scope, graph.content_hash, view, keys, build)

    def _build_described(
        self, scope: DeploymentScope, graph: DeploymentGraph, keys: Sequence[str]
    ) -> list[EncodedAsset]:
        """Assets with definition and recorded state, in a few storage queries for all
        keys, encoded from their parts (api/asset_encoding.py)."""
        summaries = self._assets.summaries(scope, keys)
        checks = self._assets.latest_check_results(scope, keys)
        health = self.health.encoded(scope, graph, keys) if self.health is not None else {}
        location_of = graph.location_of
        node_of = graph.union.nodes.get
        assets = []
        for key in keys:
            node = node_of(key)
            summary = summaries.get(key)
            latest = None
            if summary is not None and summary.latest_materialization is not None:
                latest = convert.materialization_record(summary.latest_materialization)
            recorded = checks.get(key, [])
            assets.append(
                encode_asset(
                    encode_key(key),
                    location_of.get(key, ""),
                    node,
                    latest,
                    _checks(key, node, recorded)
                    if recorded or (node is not None and node.check_specs)
                    else (),
                    health.get(key),
                )
            )
        return assets


def _joined(
    message_type: type[_Reply], kept: Sequence[KeptAsset], size: int, rest: bytes
) -> Built[_Reply]:
    """A reply of the `kept` assets' entries and `rest` (its other fields, encoded): sent
    as joined, and its JSON made of the assets' kept texts and the other fields, the only
    part parsed."""
    return Built(
        EncodedReply(message_type, b"".join([asset.entry for asset in kept]) + rest),
        size,
        lambda: to_json_text(
            message_type.FromString(rest), {ASSETS_FIELD: [asset.text() for asset in kept]}
        ).encode(),
    )


def _cursor_entry(field: int, last_key: str) -> bytes:
    """The encoded next_cursor (field number `field`) of a page ending at `last_key`."""
    return field_entry(field, paging.encode_after(last_key).encode())


def _view(request: cp.ListAssetsRequest | cp.GetAssetLineageRequest) -> int:
    if request.view not in cp.AssetView.values():
        raise InvalidArgumentError(
            f"view holds {request.view!r}, which is not an asset view (ASSET_VIEW_FULL or "
            "ASSET_VIEW_HEALTH)"
        )
    return request.view


def _check_metadata_key(metadata_key: str) -> None:
    if len(metadata_key) > MAX_METADATA_KEY:
        raise InvalidArgumentError(
            f"metadataKey is {len(metadata_key)} characters; at most {MAX_METADATA_KEY} are "
            "searchable"
        )


def _check_partition_exists(
    graph: DeploymentGraph, key: str, partition: str, dynamic: DynamicSpaces | None
) -> None:
    """NOT_FOUND for a partition key the asset's definition does not have (as of now);
    INVALID_ARGUMENT for a partition key of an unpartitioned asset."""
    node = graph.node(key)
    if node is None:
        return  # an asset only recorded, not defined: its history answers for itself
    if not node.HasField("partitions_def"):
        raise InvalidArgumentError(
            f"asset {key!r} is not partitioned; partitionKey {partition!r} names no partition"
        )
    now = time.time()
    space = space_of(node, dynamic)
    if not space.has_key(partition, now):
        raise NotFoundError(
            f"partitionKey {partition!r} is not a partition of asset {key!r}: "
            f"{space.describe_valid_keys(partition, now)}"
        )


def _checks(
    key: str, node: definitions_pb2.AssetNode | None, results: list[CheckResult]
) -> list[cp.AssetCheck]:
    """One entry per check: the defined checks in their order, then any only recorded."""
    latest: dict[str, CheckResult] = {}
    for result in results:
        if result.check_name not in latest or latest[result.check_name].event_id < result.event_id:
            latest[result.check_name] = result
    checks = []
    for spec in node.check_specs if node is not None else ():
        check = cp.AssetCheck(spec=spec)
        recorded = latest.pop(spec.name, None)
        if recorded is not None:
            check.latest_evaluation.CopyFrom(convert.check_evaluation_record(recorded))
        checks.append(check)
    for name, result in sorted(latest.items()):
        check = cp.AssetCheck()
        check.spec.name = name
        check.spec.asset_key.CopyFrom(convert.key_proto(key))
        check.latest_evaluation.CopyFrom(convert.check_evaluation_record(result))
        checks.append(check)
    return checks


def _matches_filters(request: cp.ListAssetsRequest, graph: DeploymentGraph, key: str) -> bool:
    node = graph.nodes[key]
    if request.code_location and graph.location_of.get(key) != request.code_location:
        return False
    if request.group and node.group_name != request.group:
        return False
    if request.owner and request.owner not in node.owners:
        return False
    if request.kind and request.kind not in node.kinds:
        return False
    if request.tag:
        name, has_value, value = request.tag.partition("=")
        if name not in node.tags or (has_value and node.tags[name] != value):
            return False
    return True
