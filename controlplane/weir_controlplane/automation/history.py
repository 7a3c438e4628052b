"""An evaluated condition tree as the weir.v1.AutomationConditionEvaluation it is stored and
served as."""

from __future__ import annotations

from weir_protos.v1 import automation_pb2, common_pb2

from weir_controlplane.automation.conditions import Node, NodeResult

# Partition keys listed per node and per request; the counts are always exact.
MAX_LISTED_KEYS = 20
MAX_REQUESTED_KEYS = 100


def evaluation_message(result: NodeResult) -> automation_pb2.AutomationConditionEvaluation:
    message = automation_pb2.AutomationConditionEvaluation(
        node_type=result.node.node_type,
        label=result.node.label,
        description=result.node.description,
        candidate_count=result.candidates,
        true_count=len(result.true),
        true_partition_keys=listed(result.true, MAX_LISTED_KEYS),
    )
    if result.dependency is not None:
        message.dependency.CopyFrom(common_pb2.AssetKey(path=result.dependency.split("/")))
    if result.children:
        message.children.extend(evaluation_message(child) for child in result.children)
    elif result.node.node_type not in ("any_deps_match", "all_deps_match"):
        # Not evaluated on this tick (no candidates): its operands show as such.
        message.children.extend(_not_evaluated(child) for child in result.node.children)
    return message


def _not_evaluated(node: Node) -> automation_pb2.AutomationConditionEvaluation:
    return automation_pb2.AutomationConditionEvaluation(
        node_type=node.node_type,
        label=node.label,
        description=node.description,
        children=[_not_evaluated(child) for child in node.children],
    )


def listed(partitions: frozenset[str], limit: int) -> list[str]:
    """Up to `limit` partition keys, in order; none for the unpartitioned partition."""
    return sorted(p for p in partitions if p)[:limit]
