"""AssetGraph: the validated dependency graph of a set of asset definitions.

Built once per `Definitions`, in time linear in assets plus edges; everything else (selection,
planning, the code server's snapshot) reads from it.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from weir._asset_views import DEFAULT_GROUP
from weir._assets import AssetsDefinition
from weir._checks import AssetChecksDefinition
from weir._errors import CycleError, DuplicateKeyError, MissingUpstreamError, SelectionError
from weir._key import AssetKey
from weir._results import AssetCheckKey
from weir._specs import AssetSpec


@dataclass(frozen=True)
class AssetNode:
    """One asset in an AssetGraph: its spec and the keys next to it."""

    key: AssetKey
    parent_keys: set[AssetKey]
    child_keys: set[AssetKey]
    group_name: str
    is_executable: bool
    spec: AssetSpec


class AssetGraph:
    """Keys, specs and edges of every asset, plus the checks on them.

    `toposorted_keys` lists every key after all of its parents.
    """

    def __init__(
        self,
        assets_defs: Sequence[AssetsDefinition],
        checks_defs: Sequence[AssetChecksDefinition] = (),
    ):
        self.assets_defs = tuple(assets_defs)
        self.checks_defs = tuple(checks_defs)
        self.assets_def_by_key: dict[AssetKey, AssetsDefinition] = {}
        self.specs: dict[AssetKey, AssetSpec] = {}
        for ad in self.assets_defs:
            for spec in ad.specs:
                other = self.assets_def_by_key.get(spec.key)
                if other is not None:
                    raise DuplicateKeyError(
                        f"Asset '{spec.key.to_user_string()}' is defined twice: by "
                        f"'{other.node_name}' and by '{ad.node_name}'. Rename one, or give it a "
                        "key_prefix"
                    )
                self.assets_def_by_key[spec.key] = ad
                self.specs[spec.key] = spec
        self.parents: dict[AssetKey, tuple[AssetKey, ...]] = {
            key: tuple(dict.fromkeys(spec.dep_keys)) for key, spec in self.specs.items()
        }
        self._check_upstreams_exist()
        children: dict[AssetKey, list[AssetKey]] = {key: [] for key in self.specs}
        for key, parents in self.parents.items():
            for parent in parents:
                children[parent].append(key)
        # Tuples, as the parents: a code server and its zygote keep the graph for good, and
        # a list's spare room is 0.3 MB of a 10,000-asset one in each.
        self.children: dict[AssetKey, tuple[AssetKey, ...]] = {
            key: tuple(found) for key, found in children.items()
        }
        self.toposorted_keys: list[AssetKey] = self._toposort()
        self.checks_by_key: dict[AssetCheckKey, AssetChecksDefinition | AssetsDefinition] = {}
        self.check_keys_by_asset: dict[AssetKey, list[AssetCheckKey]] = {}
        self._index_checks()

    @property
    def all_asset_keys(self) -> set[AssetKey]:
        return set(self.specs)

    @functools.cached_property
    def topo_position(self) -> dict[AssetKey, int]:
        """Each key's place in `toposorted_keys`: a run of a few assets of a large graph
        orders them by this instead of walking every key (built on first use)."""
        return {key: i for i, key in enumerate(self.toposorted_keys)}

    def in_topo_order(self, keys: AbstractSet[AssetKey]) -> list[AssetKey]:
        """`keys` (all in the graph) with every key after its parents."""
        if len(keys) * 8 < len(self.toposorted_keys):  # a few: sort them
            return sorted(keys, key=self.topo_position.__getitem__)
        return [key for key in self.toposorted_keys if key in keys]

    @property
    def executable_keys(self) -> set[AssetKey]:
        return {k for k, ad in self.assets_def_by_key.items() if ad.is_executable}

    def has(self, key: AssetKey) -> bool:
        return key in self.specs

    def get_spec(self, key: AssetKey) -> AssetSpec:
        return self.specs[key]

    def get(self, key: AssetKey) -> AssetNode:
        """One asset of the graph with its neighbours, as tests read it."""
        if key not in self.specs:
            raise SelectionError(f"No asset '{key.to_user_string()}' in this graph")
        spec = self.specs[key]
        return AssetNode(
            key=key,
            parent_keys=set(self.parents[key]),
            child_keys=set(self.children[key]),
            group_name=spec.group_name or DEFAULT_GROUP,
            is_executable=self.assets_def_by_key[key].is_executable,
            spec=spec,
        )

    def _check_upstreams_exist(self) -> None:
        for key, parents in self.parents.items():
            for parent in parents:
                if parent not in self.specs:
                    raise MissingUpstreamError(
                        f"Asset '{key.to_user_string()}' depends on "
                        f"'{parent.to_user_string()}', which no asset in these definitions "
                        f"produces.{self._suggest(parent)} Define it with @asset, declare it as "
                        f"AssetSpec('{parent.to_user_string()}') if it lives outside Weir, or "
                        "fix the parameter name / deps entry"
                    )

    def _suggest(self, missing: AssetKey) -> str:
        names = {k.to_user_string(): k for k in self.specs}
        same_tail = [n for n, k in names.items() if k.path[-1] == missing.path[-1]]
        import difflib  # only on this error path

        close = same_tail or difflib.get_close_matches(missing.to_user_string(), names, n=3)
        return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""

    def _toposort(self) -> list[AssetKey]:
        """Kahn's algorithm; ties broken by (depth, definition order) so plans read top-down."""
        position = {key: i for i, key in enumerate(self.specs)}
        pending = {key: len(parents) for key, parents in self.parents.items()}
        depth = dict.fromkeys(self.specs, 0)
        ready = deque(key for key, n in pending.items() if n == 0)
        order: list[AssetKey] = []
        while ready:
            key = ready.popleft()
            order.append(key)
            for child in self.children[key]:
                depth[child] = max(depth[child], depth[key] + 1)
                pending[child] -= 1
                if pending[child] == 0:
                    ready.append(child)
        if len(order) != len(self.specs):
            cycle = _find_cycle({k for k, n in pending.items() if n > 0}, self.parents)
            path = " -> ".join(k.to_user_string() for k in cycle)
            raise CycleError(
                f"The asset graph has a cycle: {path}. Remove one of these dependencies"
            )
        order.sort(key=lambda k: (depth[k], position[k]))
        return order

    def _index_checks(self) -> None:
        for ad in self.assets_defs:
            for spec in ad.check_specs:
                self._add_check(spec.key, ad)
        for cd in self.checks_defs:
            if cd.asset_key not in self.specs:
                raise MissingUpstreamError(
                    f"Asset check '{cd.spec.name}' targets '{cd.asset_key.to_user_string()}', "
                    f"which no asset in these definitions produces.{self._suggest(cd.asset_key)}"
                )
            for dep in cd.spec.additional_deps:
                if dep not in self.specs:
                    raise MissingUpstreamError(
                        f"Asset check '{cd.spec.name}' depends on '{dep.to_user_string()}', "
                        f"which no asset in these definitions produces.{self._suggest(dep)}"
                    )
            self._add_check(cd.check_key, cd)

    def _add_check(
        self, key: AssetCheckKey, owner: AssetChecksDefinition | AssetsDefinition
    ) -> None:
        if key in self.checks_by_key:
            raise DuplicateKeyError(f"Asset check '{key.to_user_string()}' is defined twice")
        self.checks_by_key[key] = owner
        self.check_keys_by_asset.setdefault(key.asset_key, []).append(key)

    def upstream(self, keys: Iterable[AssetKey], depth: int | None = None) -> set[AssetKey]:
        """`keys` and their ancestors up to `depth` edges away (all of them when None)."""
        return _walk(keys, self.parents, depth)

    def downstream(self, keys: Iterable[AssetKey], depth: int | None = None) -> set[AssetKey]:
        """`keys` and their descendants up to `depth` edges away (all of them when None)."""
        return _walk(keys, self.children, depth)


def _walk(
    start: Iterable[AssetKey], edges: Mapping[AssetKey, Sequence[AssetKey]], depth: int | None
) -> set[AssetKey]:
    seen = set(start)
    frontier = list(seen)
    level = 0
    while frontier and (depth is None or level < depth):
        nxt: list[AssetKey] = []
        for key in frontier:
            for other in edges.get(key, ()):
                if other not in seen:
                    seen.add(other)
                    nxt.append(other)
        frontier = nxt
        level += 1
    return seen


def _find_cycle(
    nodes: set[AssetKey], parents: Mapping[AssetKey, Sequence[AssetKey]]
) -> list[AssetKey]:
    """One cycle among `nodes` (each of which lies on or behind a cycle), first key repeated."""
    start = min(nodes)
    seen_at: dict[AssetKey, int] = {}
    path: list[AssetKey] = []
    node = start
    while node not in seen_at:
        seen_at[node] = len(path)
        path.append(node)
        node = next(p for p in parents[node] if p in nodes)
    cycle = path[seen_at[node] :]
    cycle.reverse()  # parent -> child reads in dependency direction
    return [*cycle, cycle[0]]
