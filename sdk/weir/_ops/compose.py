"""@graph: wiring ops by calling them in a function body, recorded once at decoration.

Inside a graph body an op call runs nothing: it records a node and returns handles to the
node's outputs, which later calls take as inputs. The recorded nodes are already in an order
that runs every node after its inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from weir._errors import DefinitionError
from weir._ops.op import DEFAULT_OUTPUT, OpDefinition
from weir._signature import read_params
from weir._specs import validate_name


class NodeOutput(NamedTuple):
    """An output of a node of the graph being composed."""

    node: str
    output: str


class GraphInput(NamedTuple):
    """An input of the graph itself, bound when the graph runs (or by an outer graph)."""

    name: str


Binding = NodeOutput | GraphInput


@dataclass(frozen=True)
class Node:
    """One invocation of an op: its unique name in the graph, where its inputs come from,
    and the outputs it waits for without reading (its Nothing inputs).
    A nested graph's nodes are inlined with dotted names (``inner.op``)."""

    name: str
    op: OpDefinition
    inputs: Mapping[str, Binding]
    after: tuple[NodeOutput, ...] = ()


@dataclass
class _Composition:
    nodes: list[Node] = field(default_factory=list)
    names: set[str] = field(default_factory=set)

    def unique_name(self, base: str) -> str:
        # As in Dagster, a second call of the same op is named `op_2`, a third `op_3`.
        name, n = base, 1
        while name in self.names:
            n += 1
            name = f"{base}_{n}"
        self.names.add(name)
        return name


_stack: list[_Composition] = []


def current_composition() -> _Composition | None:
    return _stack[-1] if _stack else None


class PendingInvocation:
    """``op.alias("name")``: the op, to be called under that node name."""

    def __init__(self, op: OpDefinition, name: str):
        self.op = op
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if current_composition() is None:
            raise DefinitionError(
                f"'{self.name}' (an alias of '{self.op.name}') is wired in a "
                "@graph or @job body; call the op itself to run it"
            )
        return invoke(self.op, self.name, args, kwargs)


def _binding(value: Any, where: str, param: str) -> Binding:
    if isinstance(value, (NodeOutput, GraphInput)):
        return value
    raise DefinitionError(
        f"{where}: input '{param}' got {value!r}; inside a @graph or @job body, inputs are "
        "outputs of other ops or inputs of the graph (constants go in config)"
    )


def invoke(op: OpDefinition, base_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Record a call of `op` in the current composition; return handles to its outputs."""
    composition = _stack[-1]
    where = f"op '{base_name}'"
    names = op.input_names
    if len(args) > len(names):
        raise DefinitionError(f"{where} takes {len(names)} inputs, got {len(args)} positional")
    given = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key not in names or key in given:
            raise DefinitionError(f"{where}: unexpected or repeated input {key!r}; inputs: {names}")
        given[key] = value
    optional = {*op.nothing_inputs, *op.input_defaults}
    missing = [n for n in names if n not in given and n not in optional]
    if missing:
        raise DefinitionError(f"{where} is called without inputs {missing}")
    node_name = composition.unique_name(base_name)
    after: list[NodeOutput] = []
    inputs: dict[str, Binding] = {}
    for param, value in given.items():
        if param in op.nothing_inputs:
            for item in value if isinstance(value, (list, OutputHandles)) else [value]:
                binding = _binding(item, where, param)
                if not isinstance(binding, NodeOutput):
                    raise DefinitionError(
                        f"{where}: Nothing input '{param}' waits for op outputs, not a graph input"
                    )
                after.append(binding)
        else:
            inputs[param] = _binding(value, where, param)
    composition.nodes.append(Node(node_name, op, inputs, tuple(after)))
    handles = [NodeOutput(node_name, out) for out in op.outs]
    return handles[0] if len(handles) == 1 else OutputHandles(handles)


class OutputHandles(tuple[NodeOutput, ...]):
    """The outputs of a node with several: unpack them (``evens, odds = split(...)``) or
    read them by name (``split(...).evens``)."""

    def __getattr__(self, name: str) -> NodeOutput:
        for handle in self:
            if handle.output == name:
                return handle
        raise AttributeError(f"Node '{self[0].node}' has no output {name!r}")


class GraphDefinition:
    """Ops wired together: the nodes in run order, the graph's inputs and outputs."""

    def __init__(
        self,
        *,
        name: str,
        nodes: list[Node],
        input_names: list[str],
        outputs: Mapping[str, NodeOutput],
        description: str | None = None,
    ):
        self.name = name
        self.nodes = nodes
        self.input_names = input_names
        self.outputs = dict(outputs)
        self.description = description
        self.node_by_name = {n.name: n for n in nodes}

    @property
    def required_resource_keys(self) -> set[str]:
        return set().union(*(n.op.required_resource_keys for n in self.nodes))

    def to_job(self, name: str | None = None, **options: Any) -> Any:
        """This graph as a runnable job (see `@job` for the options)."""
        from weir._ops.job import OpJobDefinition

        return OpJobDefinition(name or self.name, self, **options)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        composition = current_composition()
        if composition is None:
            raise DefinitionError(
                f"Graph '{self.name}' runs as a job: graph.to_job().execute_in_process()"
            )
        return _inline(self, composition, args, kwargs)

    def __repr__(self) -> str:
        return f"<GraphDefinition {self.name}: {len(self.nodes)} nodes>"


def _inline(
    graph: GraphDefinition, composition: _Composition, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Wire a graph inside another: its nodes join the outer one as ``graph.node``."""
    given = dict(zip(graph.input_names, args, strict=False)) | kwargs
    missing = [n for n in graph.input_names if n not in given]
    if missing or len(args) > len(graph.input_names):
        raise DefinitionError(
            f"Graph '{graph.name}' takes inputs {graph.input_names}; it is called with "
            f"{len(args)} positional and {sorted(kwargs)} by name"
        )
    prefix = composition.unique_name(graph.name)
    renamed: dict[str, str] = {}

    def outer(binding: Binding) -> Binding:
        if isinstance(binding, GraphInput):
            return _binding(given[binding.name], f"graph '{graph.name}'", binding.name)
        return NodeOutput(renamed[binding.node], binding.output)

    for node in graph.nodes:
        renamed[node.name] = f"{prefix}.{node.name}"
        composition.names.add(renamed[node.name])
        inputs = {param: outer(b) for param, b in node.inputs.items()}
        after = tuple(NodeOutput(renamed[b.node], b.output) for b in node.after)
        composition.nodes.append(Node(renamed[node.name], node.op, inputs, after))
    handles = [NodeOutput(renamed[h.node], h.output) for h in graph.outputs.values()]
    if not handles:
        return None
    return handles[0] if len(handles) == 1 else tuple(handles)


def compose(fn: Callable[..., Any], name: str, input_names: list[str]) -> GraphDefinition:
    """Run a graph body once with handles for its inputs and record what it wires."""
    composition = _Composition()
    _stack.append(composition)
    try:
        returned = fn(**{n: GraphInput(n) for n in input_names})
    finally:
        _stack.pop()
    return GraphDefinition(
        name=name,
        nodes=composition.nodes,
        input_names=input_names,
        outputs=_graph_outputs(returned, name),
    )


def _graph_outputs(returned: Any, name: str) -> dict[str, NodeOutput]:
    if returned is None:
        return {}
    if isinstance(returned, NodeOutput):
        return {DEFAULT_OUTPUT: returned}
    if isinstance(returned, Mapping):
        items = list(returned.items())
    elif isinstance(returned, tuple):
        items = [(str(i), v) for i, v in enumerate(returned)]
    else:
        items = [(DEFAULT_OUTPUT, returned)]
    for out_name, handle in items:
        if not isinstance(handle, NodeOutput):
            raise DefinitionError(
                f"Graph '{name}' returns {handle!r} as output {out_name!r}; a graph returns "
                "outputs of its ops (one, a tuple, or a dict of name -> output)"
            )
    return dict(items)


def graph(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
) -> Any:
    """Wire ops into a graph by calling them in the decorated function.

    >>> from weir._ops.op import op
    >>> @op
    ... def one() -> int:
    ...     return 1
    >>> @op
    ... def double(n: int) -> int:
    ...     return n * 2
    >>> @graph
    ... def two():
    ...     return double(one())
    >>> [n.name for n in two.nodes]
    ['one', 'double']
    """

    def build(func: Callable[..., Any]) -> GraphDefinition:
        graph_name = validate_name(name or func.__name__, "Graph name")
        params = read_params(func, f"graph '{graph_name}'")
        built = compose(func, graph_name, list(params.input_params))
        built.description = description or func.__doc__
        return built

    return build(fn) if fn is not None else build
