"""A layered drawing of an asset graph, cheap enough to compute for 10,000+ assets.

Sugiyama-style, but only the linear-time parts (no network simplex, no crossing
minimisation beyond a few sweeps), as dagre's tight-tree and longest-path rankers are
what stay usable at scale:

1. Layers: the longest path from a root (a topological pass, O(V+E)). Layer = column.
2. Bands: each asset group gets a horizontal band as tall as its fullest column, so the
   groups' boxes never overlap and a group can be drawn (or collapsed) as one box. Bands
   are ordered by the mean layer of their assets, then by the barycentre of the bands
   they depend on.
3. Order within a column of a band: a few barycentre sweeps, down then up (each O(V+E)
   plus a sort per column), starting from key order so the result is deterministic.

Edges are not routed: a client draws them as curves between node boxes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

NODE_WIDTH = 200.0
NODE_HEIGHT = 40.0
COLUMN_GAP = 80.0
ROW_GAP = 12.0
BAND_PADDING = 36.0  # room above a band for the group's title
SWEEPS = 4


@dataclass
class Layout:
    keys: list[str]
    x: list[float]
    y: list[float]
    layer: list[int]
    group_index: list[int]
    groups: list[str]
    # (x, y, width, height) per group, in the order of `groups`.
    group_boxes: list[tuple[float, float, float, float]]
    edges: list[tuple[int, int]]
    width: float
    height: float
    node_width: float = NODE_WIDTH
    node_height: float = NODE_HEIGHT
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def position(self, key: str) -> tuple[float, float]:
        if not self._index:
            self._index = {k: i for i, k in enumerate(self.keys)}
        i = self._index[key]
        return self.x[i], self.y[i]


def layered_layout(
    order: Sequence[str], parents: Mapping[str, Sequence[str]], group_of: Mapping[str, str]
) -> Layout:
    """Lay out the assets `order` (topologically sorted: parents first), with their
    `parents` (keys outside `order` are ignored) and each one's group."""
    index = {key: i for i, key in enumerate(order)}
    n = len(order)
    ups: list[list[int]] = [[] for _ in range(n)]
    downs: list[list[int]] = [[] for _ in range(n)]
    edges: list[tuple[int, int]] = []
    for i, key in enumerate(order):
        for parent in parents.get(key, ()):
            j = index.get(parent)
            if j is not None and j != i:
                ups[i].append(j)
                downs[j].append(i)
                edges.append((j, i))

    layer = [0] * n
    for i in range(n):  # parents come first, so their layers are final
        for j in ups[i]:
            if layer[j] + 1 > layer[i]:
                layer[i] = layer[j] + 1

    groups, group_index = _order_groups(order, group_of, layer, ups)
    # cells[(group, layer)] = the nodes of that column of that band, in drawing order
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i in sorted(range(n), key=lambda i: order[i]):
        cells[(group_index[i], layer[i])].append(i)

    band_rows = [0] * len(groups)
    for (g, _), members in cells.items():
        band_rows[g] = max(band_rows[g], len(members))
    band_top = []
    top = 0.0
    for rows in band_rows:
        band_top.append(top)
        top += BAND_PADDING + rows * (NODE_HEIGHT + ROW_GAP) + ROW_GAP * 2
    height = top

    slot = [0.0] * n  # a node's row as a number comparable across bands
    row_pitch = NODE_HEIGHT + ROW_GAP

    def place() -> None:
        for (g, _), members in cells.items():
            base = (band_top[g] + BAND_PADDING) / row_pitch
            for row, i in enumerate(members):
                slot[i] = base + row

    place()
    by_layer: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for cell in cells:
        by_layer[cell[1]].append(cell)
    layers = sorted(by_layer)
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        neighbours = ups if downward else downs
        for lay in layers if downward else reversed(layers):
            for cell in by_layer[lay]:
                members = cells[cell]
                if len(members) > 1:
                    members.sort(key=lambda i: _barycentre(i, neighbours, slot))
                    base = (band_top[cell[0]] + BAND_PADDING) / row_pitch
                    for row, i in enumerate(members):
                        slot[i] = base + row
    xs = [lay * (NODE_WIDTH + COLUMN_GAP) + COLUMN_GAP / 2 for lay in layer]
    ys = [s * row_pitch for s in slot]
    boxes = _group_boxes(len(groups), group_index, layer, band_top, band_rows)
    width = (max(layer, default=0) + 1) * (NODE_WIDTH + COLUMN_GAP)
    return Layout(
        keys=list(order),
        x=xs,
        y=ys,
        layer=layer,
        group_index=group_index,
        groups=groups,
        group_boxes=boxes,
        edges=edges,
        width=width,
        height=height,
    )


def _barycentre(i: int, neighbours: list[list[int]], slot: list[float]) -> float:
    near = neighbours[i]
    if not near:
        return slot[i]
    return sum(slot[j] for j in near) / len(near)


def _order_groups(
    order: Sequence[str], group_of: Mapping[str, str], layer: list[int], ups: list[list[int]]
) -> tuple[list[str], list[int]]:
    """Groups top to bottom: by mean layer first (sources' groups on top), then two
    barycentre passes over the groups they depend on, so related bands sit together."""
    names = sorted({group_of.get(key, "default") for key in order})
    number = {name: g for g, name in enumerate(names)}
    of_node = [number[group_of.get(key, "default")] for key in order]
    total = [0] * len(names)
    count = [0] * len(names)
    for i, g in enumerate(of_node):
        total[g] += layer[i]
        count[g] += 1
    position = {g: (total[g] / count[g], names[g]) for g in range(len(names))}
    ranked = sorted(range(len(names)), key=lambda g: position[g])
    upstream_groups: dict[int, set[int]] = defaultdict(set)
    for i, parents in enumerate(ups):
        for j in parents:
            if of_node[j] != of_node[i]:
                upstream_groups[of_node[i]].add(of_node[j])
    for _ in range(2):
        rank = {g: r for r, g in enumerate(ranked)}

        def centre(g: int, rank: dict[int, int] = rank) -> float:
            near = upstream_groups.get(g)
            return sum(rank[u] for u in near) / len(near) if near else float(rank[g])

        ranked = sorted(ranked, key=lambda g: (centre(g), rank[g]))
    new_number = {g: r for r, g in enumerate(ranked)}
    return [names[g] for g in ranked], [new_number[g] for g in of_node]


def _group_boxes(
    group_count: int,
    group_index: list[int],
    layer: list[int],
    band_top: list[float],
    band_rows: list[int],
) -> list[tuple[float, float, float, float]]:
    first = [10**9] * group_count
    last = [-1] * group_count
    for i, g in enumerate(group_index):
        first[g] = min(first[g], layer[i])
        last[g] = max(last[g], layer[i])
    boxes = []
    for g in range(group_count):
        x = first[g] * (NODE_WIDTH + COLUMN_GAP) + COLUMN_GAP / 4
        width = (last[g] - first[g] + 1) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP / 2
        height = BAND_PADDING + band_rows[g] * (NODE_HEIGHT + ROW_GAP) + ROW_GAP
        boxes.append((x, band_top[g], width, height))
    return boxes
