"""Health reads: GetAssetHealth, GetDeploymentHealth, ListCheckEvaluations, and the
health part of every asset the asset RPCs return.

Health and freshness come from their own tables (storage/health.py, storage/freshness.py)
in one query each per page of assets; check history from the event log through the
check's index. Definitions (and so what the caller may see) come from `AssetsApi.graph`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import definitions_pb2, health_pb2

from weir_controlplane.api import convert, paging
from weir_controlplane.api.access_checks import visible_locations
from weir_controlplane.api.asset_encoding import Encoded, EncodedAsset, encode_asset, encode_key
from weir_controlplane.api.asset_graph import DeploymentGraph
from weir_controlplane.api.context import current_scope
from weir_controlplane.api.json_mapping import to_json_text
from weir_controlplane.errors import InvalidArgumentError, NotFoundError
from weir_controlplane.storage import (
    AssetHealth,
    AssetStorage,
    DeploymentScope,
    EventRecord,
    FreshnessRecord,
    FreshnessState,
    FreshnessStorage,
    HealthStatus,
    HealthStorage,
    Page,
    unknown_health,
)

GraphOf = Callable[[DeploymentScope], DeploymentGraph]
_HEALTH_NAMES = {status: f"HEALTH_{status.value}" for status in HealthStatus}
_FRESHNESS_NAMES = {state: f"FRESHNESS_{state.value}" for state in FreshnessState}


_HEALTH_VALUES = {status: health_pb2.Health.Value(name) for status, name in _HEALTH_NAMES.items()}


def health_value(status: HealthStatus) -> health_pb2.Health:
    return _HEALTH_VALUES[status]  # type: ignore[return-value]


def freshness_value(state: FreshnessState | None) -> health_pb2.Freshness:
    name = "FRESHNESS_NOT_APPLICABLE" if state is None else _FRESHNESS_NAMES[state]
    return health_pb2.Freshness.Value(name)  # type: ignore[return-value]


def health_status(value: int) -> HealthStatus:
    """A request's Health enum value as storage's; INVALID_ARGUMENT for anything else."""
    name = health_pb2.Health.Name(value) if value in health_pb2.Health.values() else ""
    if not name or value in (health_pb2.HEALTH_UNSPECIFIED, health_pb2.HEALTH_NOT_APPLICABLE):
        raise InvalidArgumentError(
            f"health holds {value!r}, which is not an asset health status (HEALTH_HEALTHY, "
            "HEALTH_WARNING, HEALTH_DEGRADED or HEALTH_UNKNOWN)"
        )
    return HealthStatus(name.removeprefix("HEALTH_"))


class HealthApi:
    """Answers the health RPCs, and the health of the assets the asset RPCs describe."""

    def __init__(
        self,
        graph_of: GraphOf,
        health: HealthStorage,
        freshness: FreshnessStorage,
        assets: AssetStorage,
    ) -> None:
        self._graph_of = graph_of
        self._health = health
        self._freshness = freshness
        self._assets = assets

    def describe(
        self, scope: DeploymentScope, graph: DeploymentGraph, keys: Sequence[str]
    ) -> dict[str, health_pb2.AssetHealth]:
        """The health messages of `keys`, in two queries."""
        stored, freshness = self._freshness.with_health(scope, keys)
        return {
            key: _message(
                stored.get(key) or unknown_health(key), freshness.get(key), graph.node(key)
            )
            for key in keys
        }

    def encoded(
        self, scope: DeploymentScope, graph: DeploymentGraph, keys: Sequence[str]
    ) -> dict[str, Encoded]:
        """The health of `keys` as `encode_asset` takes it (without the key), in two
        queries; assets of one shape share one encoding."""
        stored, freshness = self._freshness.with_health(scope, keys)
        node_of = graph.union.nodes.get
        # An asset with no recorded state (all of a new location's) and no freshness
        # policy: one encoding, taken without making its health or hashing its shape.
        unknown: Encoded | None = None
        found = {}
        for key in keys:
            health, fresh, node = stored.get(key), freshness.get(key), node_of(key)
            if health is None and fresh is None and not _has_policy(node):
                if unknown is None:
                    unknown = _encoded(unknown_health(key), None, None)
                found[key] = unknown
            else:
                found[key] = _encoded(health or unknown_health(key), fresh, node)
        return found

    def assets(
        self, scope: DeploymentScope, graph: DeploymentGraph, keys: Sequence[str]
    ) -> list[EncodedAsset]:
        """`keys` as ListAssets' HEALTH view returns them: key, code location and health,
        from two queries (no definition, materialization or check rows)."""
        health = self.encoded(scope, graph, keys)
        location_of = graph.location_of
        return [
            encode_asset(encode_key(key), location_of.get(key, ""), None, None, (), health[key])
            for key in keys
        ]

    def statuses(self, scope: DeploymentScope) -> dict[str, HealthStatus]:
        """Every asset's status that has one stored (the others are UNKNOWN)."""
        return self._health.statuses(scope)

    # --- RPCs ---------------------------------------------------------------------------

    def get_asset_health(self, request: cp.GetAssetHealthRequest) -> cp.GetAssetHealthResponse:
        scope = current_scope()
        key = convert.key_text(request.key)
        graph = self._graph_of(scope)
        found = self.describe(scope, graph, [key])[key]
        # An asset no location defines belongs to none: only a caller who may read every
        # location sees its recorded state (as for GetAsset).
        if graph.node(key) is None and (
            visible_locations() is not None or not found.HasField("change_time")
        ):
            raise NotFoundError(
                f"asset {key!r} is not defined by any code location of deployment "
                f"{scope.name!r} and has no recorded state there"
            )
        return cp.GetAssetHealthResponse(health=found)

    def get_deployment_health(
        self, request: cp.GetDeploymentHealthRequest
    ) -> cp.GetDeploymentHealthResponse:
        scope = current_scope()
        graph = self._graph_of(scope)
        if request.code_location and request.code_location not in graph.graphs:
            raise NotFoundError(
                f"code location {request.code_location!r} is not loaded in deployment "
                f"{scope.name!r}"
            )
        keys = [
            key
            for key in graph.sorted_keys
            if not request.code_location or graph.location_of.get(key) == request.code_location
        ]
        stored, states = self._freshness.counted_with_health(scope)
        health = Counter(stored.get(key, HealthStatus.UNKNOWN) for key in keys)
        freshness = Counter(_freshness_of(key, graph, states) for key in keys)
        reply = cp.GetDeploymentHealthResponse(asset_count=len(keys))
        for status in HealthStatus:
            if status is not HealthStatus.NOT_APPLICABLE:
                reply.health.add(status=health_value(status), count=health[status])
        for state in (*FreshnessState, None):
            reply.freshness.add(state=freshness_value(state), count=freshness[state])
        return reply

    def list_check_evaluations(
        self, request: cp.ListCheckEvaluationsRequest
    ) -> cp.ListCheckEvaluationsResponse:
        scope = current_scope()
        key = convert.key_text(request.asset_key, field="assetKey")
        if not request.check_name:
            raise InvalidArgumentError("checkName is required: the check whose evaluations to list")
        graph = self._graph_of(scope)
        node = graph.node(key)
        if node is None and visible_locations() is not None:
            raise NotFoundError(
                f"asset {key!r} is not defined by any code location of deployment "
                f"{scope.name!r} that this token may read"
            )
        cursor = request.cursor or None

        def page_of(limit: int) -> Page[EventRecord]:
            return self._assets.list_check_evaluations(
                scope,
                key,
                request.check_name,
                partition=request.partition_key or None,
                cursor=cursor,
                limit=limit,
            )

        page = page_of(paging.page_size(request.limit))
        if not page.items and not request.cursor:
            if node is None:
                raise NotFoundError(
                    f"asset {key!r} is not defined by any code location of deployment "
                    f"{scope.name!r} and has no check evaluations there"
                )
            if request.check_name not in {spec.name for spec in node.check_specs}:
                names = sorted(spec.name for spec in node.check_specs)
                raise NotFoundError(
                    f"asset {key!r} has no check {request.check_name!r}; its checks: "
                    f"{', '.join(names) or 'none'}"
                )
        found = [convert.check_evaluation_from_event(record) for record in page.items]
        fitting = paging.fitting(found)
        next_cursor = page.next_cursor or ""
        if fitting < len(found):  # too big for one reply: the page ends early
            found = found[:fitting]
            next_cursor = page_of(fitting).next_cursor or ""
        return cp.ListCheckEvaluationsResponse(evaluations=found, next_cursor=next_cursor)


def _freshness_of(
    key: str, graph: DeploymentGraph, states: dict[str, FreshnessState]
) -> FreshnessState | None:
    """The asset's stored state; UNKNOWN for a policy not evaluated yet, None for none."""
    if key in states:
        return states[key]
    node = graph.node(key)
    has_policy = node is not None and node.HasField("freshness_policy")
    return FreshnessState.UNKNOWN if has_policy else None


def _message(
    health: AssetHealth,
    freshness: FreshnessRecord | None,
    node: definitions_pb2.AssetNode | None,
) -> health_pb2.AssetHealth:
    message = health_pb2.AssetHealth()
    message.key.path.extend(health.asset_key.split("/"))
    _fill_fields(message, health, freshness, node, has_policy=_has_policy(node))
    return message


def _has_policy(node: definitions_pb2.AssetNode | None) -> bool:
    return node is not None and node.HasField("freshness_policy")


def _encoded(
    health: AssetHealth,
    freshness: FreshnessRecord | None,
    node: definitions_pb2.AssetNode | None,
) -> Encoded:
    """The asset's health message without its key, encoded."""
    has_policy = _has_policy(node)
    if freshness is None and not has_policy and health.changed_at is None:
        # Most assets of a large location share one of a few such healths (never
        # materialized, say): one encoding of each serves them all.
        shape = (health.status, health.materialization, health.partitions, health.checks,
                 health.freshness)  # fmt: skip
        shared = _SHARED_HEALTHS.get(shape)
        if shared is None:
            message = health_pb2.AssetHealth()
            _fill_fields(message, health, None, None, has_policy=False)
            shared = Encoded(message.SerializeToString(), to_json_text(message))
            if len(_SHARED_HEALTHS) >= _SHARED_HEALTHS_MAX:
                _SHARED_HEALTHS.clear()
            _SHARED_HEALTHS[shape] = shared
        return shared
    message = health_pb2.AssetHealth()
    _fill_fields(message, health, freshness, node, has_policy=has_policy)
    return Encoded.of(message)


# Encoded healths without a key, by the health they show (only those with no freshness
# record, policy or change time: a few shapes, whatever the number of assets).
_SHARED_HEALTHS: dict[tuple[object, ...], Encoded] = {}
_SHARED_HEALTHS_MAX = 256


def _fill_fields(
    message: health_pb2.AssetHealth,
    health: AssetHealth,
    freshness: FreshnessRecord | None,
    node: definitions_pb2.AssetNode | None,
    *,
    has_policy: bool,
) -> None:
    """Every field but the key."""
    message.status = health_value(health.status)
    for target, component in (
        (message.materialization, health.materialization),
        (message.partitions, health.partitions),
        (message.checks, health.checks),
        (message.freshness, health.freshness),
    ):
        target.status = health_value(component.status)
        target.reason = component.reason
    if health.changed_at is not None:
        message.change_time.CopyFrom(convert.timestamp(health.changed_at))
    state = message.freshness_state
    if node is not None and has_policy:
        state.policy.CopyFrom(node.freshness_policy)
    if freshness is None:
        state.state = (
            health_pb2.FRESHNESS_UNKNOWN if has_policy else health_pb2.FRESHNESS_NOT_APPLICABLE
        )
        state.reason = "not evaluated yet" if has_policy else "no freshness policy"
        return
    state.state = freshness_value(freshness.state)
    state.reason = freshness.reason
    if freshness.evaluated_at is not None:
        state.evaluate_time.CopyFrom(convert.timestamp(freshness.evaluated_at))
    if freshness.due_at is not None:
        state.next_evaluate_time.CopyFrom(convert.timestamp(freshness.due_at))
