"""The automation condition engine, shared by the control plane and the SDK.

`evaluate` (evaluate.py) walks one asset's condition tree over a tick's `Facts`
(state.py); the node types live in nodes.py. Trees come in the caller's own kind of node
(`ConditionNode`: a `node_type` and `children`), their parameters read through a
`NodeParameters`, so the engine imports neither protobuf nor the SDK.
"""

from weir_partitions.conditions.evaluate import Evaluation, evaluate, tree_problem, walk
from weir_partitions.conditions.nodes import NODES
from weir_partitions.conditions.state import (
    NOTHING,
    UNPARTITIONED,
    AssetFacts,
    AssetMemory,
    CheckFacts,
    ConditionNode,
    Dep,
    Facts,
    KeyRelation,
    NodeParameters,
    NodeResult,
    Partitions,
    UnsupportedConditionError,
)

__all__ = [
    "NODES",
    "NOTHING",
    "UNPARTITIONED",
    "AssetFacts",
    "AssetMemory",
    "CheckFacts",
    "ConditionNode",
    "Dep",
    "Evaluation",
    "Facts",
    "KeyRelation",
    "NodeParameters",
    "NodeResult",
    "Partitions",
    "UnsupportedConditionError",
    "evaluate",
    "tree_problem",
    "walk",
]
