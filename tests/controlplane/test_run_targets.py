"""What a launched run covers, read from the snapshot's indexes: the other outputs of a
step that cannot run a subset, and the order of the run's assets."""

from __future__ import annotations

from weir_controlplane.api.runs import computed_together
from weir_controlplane.locations import SnapshotGraph
from weir_protos.v1 import common_pb2, definitions_pb2


def _node(key: str, step: str, deps=(), executable=True, can_subset=False):
    return definitions_pb2.AssetNode(
        key=common_pb2.AssetKey(path=[key]),
        deps=[definitions_pb2.AssetDep(asset_key=common_pb2.AssetKey(path=[d])) for d in deps],
        node_name=step,
        is_executable=executable,
        can_subset=can_subset,
    )


GRAPH = SnapshotGraph(
    definitions_pb2.DefinitionsSnapshot(
        content_hash="sha256:targets",
        assets=[
            _node("csv", "report", deps=["orders"]),
            _node("pdf", "report", deps=["orders"]),
            _node("orders", "orders"),
            _node("left", "split", can_subset=True),
            _node("right", "split", can_subset=True),
            _node("vendor", "vendor", executable=False),
        ],
    )
)


def test_a_step_that_cannot_subset_brings_its_other_outputs_and_nothing_else():
    assert computed_together({"pdf"}, GRAPH) == {"csv", "pdf"}
    assert computed_together({"orders", "pdf"}, GRAPH) == {"orders", "csv", "pdf"}
    assert computed_together({"left"}, GRAPH) == set()  # it can run the one output
    assert computed_together({"vendor"}, GRAPH) == set()  # external: no step runs it


def test_positions_follow_the_dependency_order():
    position = GRAPH.position
    assert sorted(position, key=position.__getitem__) == GRAPH.toposorted
    assert position["orders"] < position["csv"] and position["orders"] < position["pdf"]
