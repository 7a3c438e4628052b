"""SnapshotGraph: the asset graph of one definitions snapshot, built once per content hash.

The control plane never imports user code or the SDK; everything it knows about assets
comes from here.
"""

from __future__ import annotations

import hashlib
from collections import deque
from functools import cached_property
from typing import NamedTuple

import weir_selection
from weir_partitions.conditions import UNPARTITIONED, Dep
from weir_protos.v1 import automation_pb2, definitions_pb2

from weir_controlplane.errors import InvalidArgumentError

# A malformed selection longer than this is not echoed back with a caret under it.
_ECHOED_SELECTION_CHARS = 200


_ONE: frozenset[str] = frozenset({UNPARTITIONED})
# An unpartitioned asset's universe, latest window (none), code version, dependencies and
# whether it is executable (automation/facts.py's `_Definition`).
UnpartitionedDefinition = tuple[frozenset[str], None, str, tuple[Dep, ...], bool]


class DefinitionFacts(NamedTuple):
    """What an asset's automation facts take from its node on every tick, read once."""

    partitioned: bool
    code_version: str
    executable: bool


def key_string(key: object) -> str:
    """The user string of a weir.v1.AssetKey ("raw/orders")."""
    path = key.path  # type: ignore[attr-defined]
    # Most keys have one part: indexing it is half the cost of joining it.
    return path[0] if len(path) == 1 else "/".join(path)


def _own(own: dict[str, str], key: str) -> str:
    return own.get(key, key)


class SnapshotGraph:
    def __init__(self, snapshot: definitions_pb2.DefinitionsSnapshot):
        self.snapshot = snapshot
        self.content_hash = snapshot.content_hash
        self.nodes: dict[str, definitions_pb2.AssetNode] = {
            key_string(node.key): node for node in snapshot.assets
        }
        # Each dependency as its asset's own key string: one string per asset, not one per
        # edge (1 MB at 10,000 assets). Tuples, not lists: kept for as long as the graph,
        # a list's spare room is 0.3 MB of a 10,000-asset one.
        own = {key: key for key in self.nodes}
        self.parents: dict[str, tuple[str, ...]] = {
            key: tuple([_own(own, key_string(dep.asset_key)) for dep in node.deps])
            for key, node in self.nodes.items()
        }
        children: dict[str, list[str]] = {key: [] for key in self.nodes}
        for key, parents in self.parents.items():
            for parent in parents:
                if parent in children:
                    children[parent].append(key)
        self.children: dict[str, tuple[str, ...]] = {
            key: tuple(found) for key, found in children.items()
        }
        self.jobs = {job.name: job for job in snapshot.jobs}
        self.toposorted = self._toposort()

    def __contains__(self, key: str) -> bool:
        return key in self.nodes

    def _toposort(self) -> list[str]:
        nodes = self.nodes
        pending = {k: len([p for p in ps if p in nodes]) for k, ps in self.parents.items()}
        ready = deque(k for k, n in pending.items() if n == 0)
        order: list[str] = []
        while ready:
            key = ready.popleft()
            order.append(key)
            for child in self.children[key]:
                pending[child] -= 1
                if pending[child] == 0:
                    ready.append(child)
        return order

    @cached_property
    def position(self) -> dict[str, int]:
        """Each key's place in `toposorted`, built on first use: a run of a few assets of a
        large location is ordered by it without walking the whole graph."""
        return {key: index for index, key in enumerate(self.toposorted)}

    @cached_property
    def keys_by_node_name(self) -> dict[str, list[str]]:
        """The executable keys each step (node name) materializes, built on first use."""
        found: dict[str, list[str]] = {}
        for key, node in self.nodes.items():
            if node.node_name and node.is_executable:
                found.setdefault(node.node_name, []).append(key)
        return found

    @property
    def automation_digests(self) -> dict[str, tuple[str, str]]:
        """Per asset with an automation condition: (its condition's hash, a digest of its
        definition: dependencies, partitions, whether executable). The registry computes
        them as it loads a snapshot, so the automation evaluator's ticks find them made
        (some 10 us an asset: serializing and hashing its tree and its edges), with
        `automation_conditions` and `definition_facts`."""
        return self._automation[0]

    @property
    def automation_conditions(self) -> dict[str, automation_pb2.AutomationConditionNode]:
        """Per asset with an automation condition, its tree (a message field read once)."""
        return self._automation[1]

    @property
    def definition_facts(self) -> dict[str, DefinitionFacts]:
        """Per asset, what automation reads of its definition on every tick."""
        return self._automation[2]

    @property
    def unpartitioned_definitions(self) -> dict[str, UnpartitionedDefinition]:
        """Per unpartitioned asset, what automation's facts of it take from its definition
        alone (automation/facts.py's definitions): made at load, not on the first tick."""
        return self._automation[3]

    @cached_property
    def _automation(
        self,
    ) -> tuple[
        dict[str, tuple[str, str]],
        dict[str, automation_pb2.AutomationConditionNode],
        dict[str, DefinitionFacts],
        dict[str, UnpartitionedDefinition],
    ]:
        by_bytes: dict[bytes, str] = {}  # most assets share a few conditions
        digests = {}
        conditions = {}
        facts = {}
        # Most assets have the same facts: one tuple for them all (0.6 MB at 10,000 assets).
        shared_facts: dict[DefinitionFacts, DefinitionFacts] = {}
        for key, node in self.nodes.items():
            fact = DefinitionFacts(
                node.HasField("partitions_def"), node.code_version, node.is_executable
            )
            facts[key] = shared_facts.setdefault(fact, fact)
            if not node.HasField("automation_condition"):
                continue
            conditions[key] = message = node.automation_condition
            condition = message.SerializeToString(deterministic=True)
            condition_hash = by_bytes.get(condition)
            if condition_hash is None:
                condition_hash = by_bytes[condition] = hashlib.sha256(condition).hexdigest()[:32]
            definition = definitions_pb2.AssetNode(
                deps=node.deps, partitions_def=node.partitions_def, is_executable=node.is_executable
            ).SerializeToString(deterministic=True)
            digests[key] = (condition_hash, hashlib.sha256(definition).hexdigest()[:16])
        # One edge per upstream, shared by its downstreams: an unpartitioned asset depends
        # on all of a partitioned upstream; an upstream this graph lacks has no partitions.
        edges = {
            key: Dep(key, "all" if found.partitioned else "unpartitioned")
            for key, found in facts.items()
        }
        unpartitioned = {}
        for key, found in facts.items():
            if found.partitioned:
                continue
            deps = tuple(
                [edges.get(up) or Dep(up, "unpartitioned") for up in self.parents.get(key, ())]
            )
            unpartitioned[key] = (_ONE, None, found.code_version, deps, found.executable)
        return digests, conditions, facts, unpartitioned

    def resolve(self, selection_text: str) -> set[str]:
        """The keys a selection string picks (``"*revenue and not group:raw"``), read by the
        same `weir_selection` grammar as the SDK's ``AssetSelection.from_string``.

        A malformed string or an unknown key raises InvalidArgumentError with the message
        the SDK would give (column and caret; the unknown keys with close matches).
        """
        try:
            return weir_selection.resolve(selection_text, self.selection_graph)
        except weir_selection.SelectionSyntaxError as error:
            if len(selection_text) > _ECHOED_SELECTION_CHARS:  # no caret under a wall of text
                raise InvalidArgumentError(
                    f"Invalid asset selection: {error.reason} (column {error.column})"
                ) from None
            raise InvalidArgumentError(str(error)) from None
        except weir_selection.SelectionError as error:
            raise InvalidArgumentError(str(error)) from None

    @cached_property
    def selection_graph(self) -> weir_selection.SelectionGraph:
        """The assets by position, as selections are evaluated; built on first use (two
        threads racing here build equal graphs, and one is kept)."""
        keys = list(self.nodes)
        position = {key: i for i, key in enumerate(keys)}
        nodes = list(self.nodes.values())
        return weir_selection.SelectionGraph(
            keys,
            # A dep on an asset no snapshot defines has no position and is not walked.
            parents=[[position[p] for p in self.parents[key] if p in position] for key in keys],
            attributes=nodes,
            external=[i for i, node in enumerate(nodes) if not node.is_executable],
        )
