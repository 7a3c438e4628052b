"""An evaluated condition tree as the weir.v1.AutomationConditionEvaluation it is stored and
served as.

The tree's shape (node types, labels, descriptions) is the same on every tick, so it is
built once per condition and copied; only counts, keys and dependencies are filled in.
"""

from __future__ import annotations

from weir_protos.v1 import automation_pb2

from weir_controlplane.automation.conditions import Node, NodeResult

# Partition keys listed per node and per request; the counts are always exact.
MAX_LISTED_KEYS = 20
MAX_REQUESTED_KEYS = 100
# Their operand is evaluated once per dependency or check.
_FAN_OUT_NODES = ("any_deps_match", "all_deps_match", "any_checks_match", "all_checks_match")
_Message = automation_pb2.AutomationConditionEvaluation
_templates: dict[str, _Message] = {}


def evaluation_message(result: NodeResult, condition_hash: str = "") -> _Message:
    """The message of an evaluated tree; `condition_hash` names its condition, whose shape
    is then built once."""
    template = _templates.get(condition_hash) if condition_hash else None
    if template is None:
        template = _shape(result.node)
        if condition_hash:
            if len(_templates) > 10_000:
                _templates.clear()
            _templates[condition_hash] = template
    message = _Message()
    message.CopyFrom(template)
    _fill(result, message)
    return message


def _shape(node: Node) -> _Message:
    """A node and its operands, not evaluated (a dependency or check node's operand is
    evaluated once per dependency or check, so it has none yet)."""
    message = _Message(node_type=node.node_type, label=node.label, description=node.description)
    if node.node_type not in _FAN_OUT_NODES:
        message.children.extend(_shape(child) for child in node.children)
    return message


def _fill(result: NodeResult, message: _Message) -> None:
    if result.candidates:
        message.candidate_count = result.candidates
    if result.true:
        message.true_count = len(result.true)
        keys = listed(result.true, MAX_LISTED_KEYS)
        if keys:
            message.true_partition_keys.extend(keys)
    if result.dependency is not None:
        message.dependency.path.extend(result.dependency.split("/"))
    if result.check is not None:
        message.check_name = result.check
    if not result.children:
        return  # not evaluated on this tick: the operands stay as shaped
    if result.node.node_type in _FAN_OUT_NODES:
        for child in result.children:
            added = message.children.add()
            added.CopyFrom(_shape(child.node))
            _fill(child, added)
    else:
        for child, child_message in zip(result.children, message.children, strict=True):
            _fill(child, child_message)


def listed(partitions: frozenset[str], limit: int) -> list[str]:
    """Up to `limit` partition keys, in order; none for the unpartitioned partition."""
    return sorted(p for p in partitions if p)[:limit]
