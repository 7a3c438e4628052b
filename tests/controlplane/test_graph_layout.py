"""The server-side layout of the asset graph (api/graph_layout.py) and the RPC serving it:
layers follow dependencies, group bands never overlap, nodes never overlap, and a
10,000-asset graph is laid out quickly and once per snapshot."""

from __future__ import annotations

import itertools
import random
import time

from api_harness import ApiServer, add_location, asset, deployment, snapshot
from weir_controlplane.api.graph_layout import NODE_HEIGHT, NODE_WIDTH, Layout, layered_layout
from weir_controlplane.storage import DeploymentScope
from weir_protos.v1 import control_plane_pb2 as cp


def random_dag(count: int, groups: int, seed: int = 7) -> tuple[list[str], dict[str, list[str]]]:
    rng = random.Random(seed)
    order = [f"g{i % groups}/asset_{i:05d}" for i in range(count)]
    parents = {
        key: sorted({order[rng.randrange(i)] for _ in range(min(i, 3))}) if i else []
        for i, key in enumerate(order)
    }
    return order, parents


def groups_of(order: list[str]) -> dict[str, str]:
    return {key: key.split("/")[0] for key in order}


def assert_well_formed(layout: Layout, parents: dict[str, list[str]]) -> None:
    index = {key: i for i, key in enumerate(layout.keys)}
    for key, ups in parents.items():
        i = index[key]
        for up in ups:
            j = index[up]
            assert layout.layer[j] < layout.layer[i], (up, key)
            assert layout.x[j] + NODE_WIDTH < layout.x[i], (up, key)
    # Longest-path layering: every non-root sits right after its deepest parent.
    for key, ups in parents.items():
        expected = max((layout.layer[index[u]] + 1 for u in ups), default=0)
        assert layout.layer[index[key]] == expected
    # No two nodes share space: within a column, rows are at least a node apart.
    columns: dict[int, list[float]] = {}
    for i in range(len(layout.keys)):
        columns.setdefault(layout.layer[i], []).append(layout.y[i])
    for ys in columns.values():
        ys.sort()
        assert all(b - a >= NODE_HEIGHT for a, b in itertools.pairwise(ys))
    # Every node lies inside its group's box; the boxes' bands do not overlap.
    for i in range(len(layout.keys)):
        x, y, w, h = layout.group_boxes[layout.group_index[i]]
        assert x <= layout.x[i] and layout.x[i] + NODE_WIDTH <= x + w
        assert y <= layout.y[i] and layout.y[i] + NODE_HEIGHT <= y + h
    bands = sorted((y, y + h) for _, y, _, h in layout.group_boxes)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(bands))


def test_a_chain_and_a_fork_are_laid_out_left_to_right() -> None:
    order = ["raw", "orders", "customers", "revenue"]
    parents = {"orders": ["raw"], "customers": ["raw"], "revenue": ["orders", "customers"]}
    layout = layered_layout(order, parents, dict.fromkeys(order, "default"))
    assert layout.layer == [0, 1, 1, 2]
    assert layout.groups == ["default"]
    assert sorted(layout.edges) == [(0, 1), (0, 2), (1, 3), (2, 3)]
    assert_well_formed(layout, parents)
    # The fork's two branches share a column, one above the other.
    assert layout.x[1] == layout.x[2] and layout.y[1] != layout.y[2]


def test_groups_get_separate_bands_with_upstream_groups_first() -> None:
    order = ["raw/a", "raw/b", "mart/c", "mart/d"]
    parents = {"mart/c": ["raw/a"], "mart/d": ["raw/b", "mart/c"]}
    layout = layered_layout(order, parents, groups_of(order))
    assert layout.groups == ["raw", "mart"]
    assert_well_formed(layout, parents)


def test_barycentre_sweeps_uncross_two_parallel_chains() -> None:
    # Key order puts a2 above b2 but their parents the other way round: the sweep must
    # follow the parents.
    order = ["b1", "a1", "z_b2", "y_a2"]
    parents = {"z_b2": ["b1"], "y_a2": ["a1"]}
    layout = layered_layout(order, parents, dict.fromkeys(order, "g"))
    a1, b1, a2, b2 = (layout.position(k)[1] for k in ("a1", "b1", "y_a2", "z_b2"))
    assert (a1 < b1) == (a2 < b2)


def test_ten_thousand_assets_are_laid_out_in_well_under_a_few_seconds() -> None:
    order, parents = random_dag(10_000, groups=12)
    started = time.perf_counter()
    layout = layered_layout(order, parents, groups_of(order))
    elapsed = time.perf_counter() - started
    assert len(layout.keys) == 10_000
    assert len(layout.edges) == sum(len(p) for p in parents.values())
    assert_well_formed(layout, parents)
    assert elapsed < 5.0, f"10,000-asset layout took {elapsed:.2f} s"


def test_the_rpc_serves_the_layout_once_per_snapshot(
    server: ApiServer, scope: DeploymentScope
) -> None:
    stub = server.control_plane()
    nodes = [
        asset("raw", group="ingest"),
        asset("orders", deps=["raw"], group="mart"),
        asset("revenue", deps=["orders"], group="mart"),
    ]
    add_location(server.storage, scope, "etl", snapshot(*nodes))
    first = stub.GetAssetGraphLayout(cp.GetAssetGraphLayoutRequest(), metadata=deployment(scope))
    assert first.keys == ["raw", "orders", "revenue"]
    assert first.layer == [0, 1, 2]
    assert first.groups == ["ingest", "mart"]
    assert [first.groups[g] for g in first.group_index] == ["ingest", "mart", "mart"]
    assert list(zip(first.edge_upstream, first.edge_downstream, strict=True)) == [(0, 1), (1, 2)]
    assert first.x[0] < first.x[1] < first.x[2]
    assert first.node_width == NODE_WIDTH and first.width > 2 * NODE_WIDTH
    again = stub.GetAssetGraphLayout(cp.GetAssetGraphLayoutRequest(), metadata=deployment(scope))
    assert again.layout_hash == first.layout_hash
    # New definitions: a new hash and the new asset in place.
    add_location(server.storage, scope, "etl", snapshot(*nodes, asset("report", deps=["revenue"])))
    changed = stub.GetAssetGraphLayout(cp.GetAssetGraphLayoutRequest(), metadata=deployment(scope))
    assert changed.layout_hash != first.layout_hash
    assert changed.layer[list(changed.keys).index("report")] == 3
