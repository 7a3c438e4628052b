"""An asset's automation memory as stored (`weir_partitions.conditions.state`): what is
written reads back as the same memory, fields at their defaults left out, and states
stored in full by earlier versions read as they did."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from weir_partitions.conditions import AssetMemory

_keys = st.frozensets(st.text(max_size=5), max_size=4)
memories = st.builds(
    AssetMemory,
    condition_hash=st.text(min_size=1, max_size=8),
    nodes=st.dictionaries(st.text(min_size=1, max_size=6), _keys, max_size=3),
    requested=_keys,
    code_version=st.text(max_size=4),
    outcome=st.text(max_size=8),
    settled=st.booleans(),
    definition=st.text(max_size=8),
)


def _without_empty_nodes(memory: AssetMemory) -> AssetMemory:
    """`memory` as it is remembered: a node with no true partitions is not kept."""
    nodes = {path: keys for path, keys in memory.nodes.items() if keys}
    return AssetMemory(
        memory.condition_hash, nodes, memory.requested, memory.code_version, memory.outcome,
        memory.settled, memory.definition,
    )  # fmt: skip


@given(memories)
def test_a_stored_memory_reads_back_the_same(memory: AssetMemory) -> None:
    assert AssetMemory.from_json(json.loads(memory.to_text())) == _without_empty_nodes(memory)


def test_defaults_are_left_out_and_a_full_state_reads_as_before() -> None:
    memory = AssetMemory("h", {}, frozenset(), "", "o", settled=False, definition="d")
    assert memory.to_json() == {"hash": "h", "outcome": "o", "definition": "d"}
    full = {
        "hash": "h", "nodes": {}, "requested": [], "code_version": "", "outcome": "o",
        "settled": False, "definition": "d",
    }  # fmt: skip
    assert AssetMemory.from_json(full) == memory
    requested = AssetMemory("h", {"0": frozenset({"a"})}, frozenset({"b"}), "v", "o", True, "d")
    assert list(requested.to_json()) == [
        "hash", "nodes", "requested", "code_version", "outcome", "settled", "definition"
    ]  # fmt: skip
    assert AssetMemory.from_json({**full, **requested.to_json()}) == requested
