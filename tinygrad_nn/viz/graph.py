"""The computation graph behind a tensor as plain data, and which module ran which op.

``trace`` walks ``Tensor._ctx`` (the op that made a tensor) and ``ctx.parents`` (its inputs) with an
explicit stack, so a 100,000-op chain costs a list, not 100,000 Python frames. The result, a
``Graph`` of ``Node``s and ``Edge``s, needs no graphviz: draw it (draw.py), count it in
tests, or export it yourself.

The engine records ops, not modules. ``capture(model)`` recovers the module structure without
touching the engine: forward hooks on every submodule record each call's input and output
tensors, and ``trace`` assigns every node to the innermost module call whose walk from its output
back to its inputs reaches it.
"""

from __future__ import annotations

import contextlib
import gc
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol, Union

import numpy as np

from ..autograd import collect
from ..tensor import Tensor

NodeKind = Literal["tensor", "op", "module", "chain"]


class ModuleLike(Protocol):
    """What viz needs from an ``nn.Module`` (PyTorch semantics); duck-typed on purpose."""

    def named_parameters(self) -> Iterable[tuple[str, Tensor]]: ...

    def named_modules(self) -> Iterable[tuple[str, Any]]: ...

    def register_forward_hook(self, hook: Any) -> Any: ...


ParamsLike = Union[Mapping[str, Tensor], ModuleLike, "Capture", None]


# --------------------------------------------------------------------------------------------
# the data
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Node:
    """One node of a traced graph.

    ``kind`` is "tensor" or "op" in a traced graph; the collapsed graphs (collapse.py) add "module"
    (a whole module call drawn as one node) and "chain" (a run of ops drawn as one node), whose
    ``members`` are the ids of the nodes they replace.
    """

    id: str
    kind: NodeKind
    op: str | None = None  # op name ("Mul", "Linear") for ops; the module's type for modules
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    name: str | None = None  # parameter name ("layers.0.weight"), or the module's name
    is_leaf: bool = False
    requires_grad: bool = False
    is_root: bool = False
    module: str | None = None  # innermost module call covering it ("" is the model itself)
    members: tuple[str, ...] = ()
    # what the tensor is to a learner: "param", "input" (x), "target" (y), "loss", "named"
    # (a name the user gave), "constant" (a scalar such as the 2.0 of x * 2.0) or None
    role: str | None = None


class Edge(NamedTuple):
    """Data flows ``src -> dst``: tensor -> op (``index`` = argument position) or op -> tensor.

    An op that uses a tensor twice (``x * x``) has two edges from it, with indices 0 and 1.
    """

    src: str
    dst: str
    index: int = 0


@dataclass
class ModuleInfo:
    """A module that was called while capturing: what a cluster or a collapsed node shows."""

    name: str  # dotted path; "" is the model itself
    type: str
    parent: str | None  # the nearest enclosing module that was called, None for the outermost
    num_params: int
    input_shapes: list[tuple[int, ...]] = field(default_factory=list)
    output_shapes: list[tuple[int, ...]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.type if self.name == "" else f"{self.name} ({self.type})"


@dataclass
class Graph:
    """A traced computation graph.

    ``nodes`` are in forward order (every input before the op that reads it). ``tensors`` holds
    live references to the traced tensors, so a drawing made after ``backward()`` can read
    their ``.grad`` (it is not part of equality or the repr).
    """

    nodes: dict[str, Node]
    edges: list[Edge]
    roots: list[str]
    modules: dict[str, ModuleInfo] = field(default_factory=dict)
    tensors: dict[str, Tensor] = field(default_factory=dict, repr=False, compare=False)
    # the op objects (autograd Functions) by op node id: their docstrings state the VJP
    functions: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.nodes)

    def count(self, kind: NodeKind | None = None) -> int:
        """The number of nodes, or of nodes of one kind."""
        if kind is None:
            return len(self.nodes)
        return sum(1 for n in self.nodes.values() if n.kind == kind)

    def module_depth(self, name: str) -> int:
        """How many called modules enclose module ``name`` (0 for the outermost)."""
        depth, parent = 0, self.modules[name].parent if name in self.modules else None
        while parent is not None:
            depth, parent = depth + 1, self.modules[parent].parent
        return depth

    def named(self) -> dict[str, Node]:
        """Tensor nodes that carry a name (parameters, x, y, loss, your names), by name."""
        return {n.name: n for n in self.nodes.values() if n.kind == "tensor" and n.name}

    def __repr__(self) -> str:
        kinds = ", ".join(f"{self.count(k)} {k}s" for k in ("tensor", "op", "module", "chain")
                          if self.count(k))
        roots = ", ".join(self.roots)
        return f"Graph({len(self)} nodes: {kinds}; {len(self.edges)} edges; roots {roots})"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kw: Any) -> Any:
        """In Jupyter a Graph shows its drawing (``draw_graph`` with the defaults)."""
        from .draw import GraphTooLargeError, draw_graph

        try:
            return draw_graph(self)._repr_mimebundle_(include, exclude, **kw)
        except GraphTooLargeError as e:  # a notebook shows the advice, not a traceback
            return {"text/plain": f"{self!r}\n{e}"}


# --------------------------------------------------------------------------------------------
# capture: which module ran which op
# --------------------------------------------------------------------------------------------


@dataclass
class ModuleCall:
    """One forward call of one module, as a forward hook saw it."""

    name: str
    module: Any
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]


class Capture:
    """Context manager recording every submodule call of ``model``; see ``capture``."""

    def __init__(self, model: ModuleLike, retain_grads: bool = False):
        self.model = model
        self.retain_grads = retain_grads
        self.calls: list[ModuleCall] = []
        self._handles: list[Any] = []

    def __enter__(self) -> Capture:
        for name, module in self.model.named_modules():
            self._handles.append(module.register_forward_hook(self._hook(name)))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def __repr__(self) -> str:
        return (f"<Capture of {type(self.model).__name__}: {len(self.calls)} module calls; "
                "pass it to viz.trace(loss, capture=...)>")

    def _hook(self, name: str) -> Any:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            outputs = tuple(_tensors_in(output))
            if self.retain_grads:
                for t in outputs:
                    if t.requires_grad and not t.is_leaf:
                        t.retain_grad()
            self.calls.append(ModuleCall(name, module, tuple(_tensors_in(inputs)), outputs))

        return hook


def capture(model: ModuleLike, retain_grads: bool = False) -> Capture:
    """Record which module produced which tensors during a forward pass.

    >>> with capture(model) as cap:                       # doctest: +SKIP
    ...     loss = cross_entropy(model(x), y)
    >>> draw_graph(loss, model=cap)                        # doctest: +SKIP

    Forward hooks on every submodule (``model.named_modules()``) save each call's input and output
    tensors; the hooks are removed on exit. ``retain_grads=True`` also calls ``retain_grad()`` on
    every module output, so the gradient statistics of activations show after ``backward()``.
    """
    return Capture(model, retain_grads)


def _tensors_in(value: Any) -> Iterator[Tensor]:
    """The Tensors inside a hook's inputs/output (nested tuples, lists and dicts), in order."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            yield item
        elif isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))


# --------------------------------------------------------------------------------------------
# trace
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a big graph.

    NOTE: allocating hundreds of thousands of nodes would trigger many collections, each
    scanning every live tensor of the traced graph; pausing makes tracing ~2x faster. The
    collector's previous state is restored, so nothing is leaked.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parameter_names(params: ParamsLike) -> dict[int, str]:
    """{id(tensor): name} from a dict, a module (``named_parameters()``) or a Capture's model."""
    return {id(t): name for name, t in named_tensors(params)}


def trace(
    root: Tensor | Sequence[Tensor],
    params: ParamsLike = None,
    *,
    capture: Capture | None = None,
    names: Mapping[str, Tensor] | None = None,
    retain_grads: bool = False,
) -> Graph:
    """The graph that computed ``root``: tensor nodes, op nodes and the edges between them.

    ``params`` names parameters (a dict, a module, or a Capture); ``capture`` (from
    ``viz.capture``) assigns every node to the module call that ran it; ``names`` gives your
    own names to any tensors (``{"h": hidden}``). Trace *before* ``backward()``, or pass
    ``retain_graph=True`` to it: backward frees the graph. ``retain_grads=True`` calls
    ``retain_grad()`` on every intermediate tensor, so that after ``backward()`` the drawing
    shows every gradient, as micrograd's does (leaves always keep theirs).

    The tensors a learner thinks in are named: the model's input ``x`` (the input of the
    captured model call; without a capture, the one non-scalar input that needs no gradient
    when ``params`` is a module), integer class targets ``y`` (which a loss op holds rather
    than reads as an input: they are added as a node), the scalar root ``loss``.
    """
    roots = [root] if isinstance(root, Tensor) else list(root)
    if not roots or not all(isinstance(r, Tensor) for r in roots):
        raise TypeError("trace: expected a Tensor or a non-empty sequence of Tensors")
    if params is None and capture is not None:
        params = capture
    param_names = parameter_names(params)
    user_names = {id(t): name for name, t in (names or {}).items()}
    with gc_paused():
        graph, node_of = _walk(roots, {**param_names, **user_names})
    graph.roots = [node_of[id(r)] for r in roots]
    for r in graph.roots:
        graph.nodes[r].is_root = True
    if capture is not None:
        _assign_modules(graph, capture, node_of)
    inputs = [node_of[id(t)] for t in _model_inputs(capture) if id(t) in node_of]
    if capture is None and params is not None and not isinstance(params, Mapping):
        inputs = [n.id for n in graph.nodes.values() if n.kind == "tensor" and n.is_leaf
                  and not n.requires_grad and n.shape and not n.name]
        inputs = inputs if len(inputs) == 1 else []
    _set_roles(graph, set(param_names.values()), set(user_names.values()), inputs)
    _add_targets(graph)
    if retain_grads:
        for t in graph.tensors.values():
            if t.requires_grad and not t.is_leaf:
                t.retain_grad()
    return graph


def _model_inputs(cap: Capture | None) -> tuple[Tensor, ...]:
    """The inputs of the outermost captured call (the model's own forward)."""
    if cap is None:
        return ()
    outer = [c for c in cap.calls if c.name == ""]
    return outer[0].inputs if outer else ()


def _set_roles(graph: Graph, params: set[str], user: set[str], inputs: list[str]) -> None:
    for i, node_id in enumerate(inputs):
        node = graph.nodes[node_id]
        if not node.name:
            node.name = "x" if len(inputs) == 1 else f"x{i}"
        node.role = "input"
    for node in graph.nodes.values():
        if node.kind != "tensor" or node.role is not None:
            continue
        if node.name in user:
            node.role = "named"
        elif node.name in params:
            node.role = "param"
        elif node.is_root and node.shape in ((), (1,)):
            node.role, node.name = "loss", node.name or "loss"
        elif node.is_leaf and not node.requires_grad and node.shape in ((), (1,)):
            node.role = "constant"


def _add_targets(graph: Graph) -> None:
    """A node ``y`` for the integer class labels a loss op holds (cross-entropy, NLL): they are
    not one of its inputs, so the walk does not see them, but a learner looks for them."""
    before: dict[str, Node] = {}  # op id -> the target node to insert just before it
    for op_id, fn in graph.functions.items():
        labels = getattr(fn, "labels", None)
        if not isinstance(labels, np.ndarray):
            continue
        node_id = f"y{len(before)}"
        before[op_id] = Node(
            node_id, "tensor", shape=labels.shape, dtype=str(labels.dtype),
            name="y" if not before else f"y{len(before)}", is_leaf=True, role="target",
            module=graph.nodes[op_id].module,
        )
        graph.tensors[node_id] = Tensor(labels)
        graph.edges.append(Edge(node_id, op_id, sum(1 for e in graph.edges if e.dst == op_id)))
    if before:  # keep the nodes in forward order: every input before the op reading it
        nodes = list(graph.nodes.items())
        graph.nodes.clear()
        for node_id, node in nodes:
            if node_id in before:
                graph.nodes[before[node_id].id] = before[node_id]
            graph.nodes[node_id] = node


def _walk(roots: list[Tensor], names: Mapping[int, str]) -> tuple[Graph, dict[int, str]]:
    """The nodes and edges behind ``roots``, and {id(tensor): node id}, in forward order: the
    engine's walk (``autograd.collect``), every input before the op that reads it."""
    graph = Graph(nodes={}, edges=[], roots=[])
    dtype_names: dict[np.dtype, str] = {}  # str(dtype) costs ~20 us: once per dtype, not per node
    node_of: dict[int, str] = {}  # id(tensor) -> node id

    def add(t: Tensor) -> str:
        tensor_id = node_of[id(t)] = f"t{len(node_of)}"
        dtype_name = dtype_names.get(t.dtype) or dtype_names.setdefault(t.dtype, str(t.dtype))
        graph.nodes[tensor_id] = Node(
            tensor_id, "tensor", shape=t.shape, dtype=dtype_name, name=names.get(id(t)),
            is_leaf=t.is_leaf, requires_grad=t.requires_grad,
        )
        graph.tensors[tensor_id] = t
        return tensor_id

    _, ops = collect(roots, every_input=True)
    for n_ops, t in enumerate(ops):  # recording order: an op's inputs were made before it
        fn = t.grad_fn
        for p in fn.parents:
            if id(p) not in node_of:  # a leaf, met here as an input for the first time
                add(p)
        op_id = f"op{n_ops}"
        graph.nodes[op_id] = Node(op_id, "op", op=type(fn).__name__)
        graph.functions[op_id] = fn
        graph.edges.extend(Edge(node_of[id(p)], op_id, i) for i, p in enumerate(fn.parents))
        graph.edges.append(Edge(op_id, add(t)))
    for r in roots:
        if id(r) not in node_of:  # a root that is a leaf
            add(r)
    return graph, node_of


def module_parents(names: Iterable[str]) -> dict[str, str | None]:
    """{module name: nearest called ancestor} from dotted names ("" is the outermost model)."""
    called = set(names)
    parents: dict[str, str | None] = {}
    for name in called:
        parent: str | None = None
        if name != "":
            prefix = name
            while "." in prefix:
                prefix = prefix.rsplit(".", 1)[0]
                if prefix in called:
                    parent = prefix
                    break
            else:
                parent = "" if "" in called else None
        parents[name] = parent
    return parents


def _depth(name: str, parents: Mapping[str, str | None]) -> int:
    depth = 0
    current = parents.get(name)
    while current is not None:
        depth += 1
        current = parents.get(current)
    return depth


def _assign_modules(graph: Graph, cap: Capture, node_of: Mapping[int, str]) -> None:
    """Set ``Node.module`` to the innermost module call that covers the node.

    A call covers everything reachable walking back from its outputs without passing its inputs.
    Calls are processed outermost first, so an inner call overwrites its parent's claim.
    """
    parents = module_parents(call.name for call in cap.calls)
    preds: dict[str, list[str]] = {}
    for e in graph.edges:
        preds.setdefault(e.dst, []).append(e.src)

    calls = sorted(cap.calls, key=lambda c: _depth(c.name, parents))  # stable: call order kept
    for call in calls:
        stop = {node_of[id(t)] for t in call.inputs if id(t) in node_of}
        stack = [node_of[id(t)] for t in call.outputs if id(t) in node_of]
        seen: set[str] = set()
        while stack:
            n = stack.pop()
            if n in seen or n in stop:
                continue
            seen.add(n)
            graph.nodes[n].module = call.name
            stack.extend(preds.get(n, ()))

    named_params = named_tensors(cap.model)
    for call in cap.calls:
        if call.name in graph.modules:
            continue  # a module called twice is one cluster; the first call gives the shapes
        prefix = call.name + "." if call.name else ""
        graph.modules[call.name] = ModuleInfo(
            name=call.name, type=type(call.module).__name__, parent=parents[call.name],
            num_params=sum(t.data.size for n, t in named_params if n.startswith(prefix)),
            input_shapes=[tuple(t.shape) for t in call.inputs],
            output_shapes=[tuple(t.shape) for t in call.outputs],
        )


def named_tensors(params: ParamsLike) -> list[tuple[str, Tensor]]:
    """(name, tensor) from a dict, a module (``named_parameters()``) or a Capture's model, each
    tensor once: a shared parameter keeps its first name, as in torch."""
    if params is None:
        return []
    if isinstance(params, Capture):
        params = params.model
    if isinstance(params, Mapping):
        items: Iterable[tuple[str, Tensor]] = params.items()
    elif hasattr(params, "named_parameters"):
        items = params.named_parameters()
    else:
        raise TypeError(
            f"params: expected a dict {{name: Tensor}} or a module with named_parameters(), "
            f"got {type(params).__name__}"
        )
    first: dict[int, tuple[str, Tensor]] = {}
    for name, t in items:
        first.setdefault(id(t), (name, t))
    return list(first.values())


# --------------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """Summary of an array: moments and extremes over its finite values, plus NaN/Inf counts."""

    mean: float
    std: float
    min: float
    max: float
    norm: float  # L2 norm of the finite values
    nan: int
    inf: int
    count: int = 0  # finite values

    @property
    def rms(self) -> float:
        """Root mean square of the finite values: a size-independent magnitude."""
        return self.norm / math.sqrt(self.count) if self.count else math.nan

    @property
    def finite(self) -> bool:
        return self.nan == 0 and self.inf == 0


def array_stats(values: Tensor | np.ndarray) -> Stats | None:
    """Statistics of a tensor or array, in float64; None when it is empty."""
    a = np.asarray(values.data if isinstance(values, Tensor) else values)
    if a.size == 0:
        return None
    a = a.astype(np.float64, copy=False)
    nan = int(np.isnan(a).sum())
    inf = int(np.isinf(a).sum())
    finite = a[np.isfinite(a)] if nan or inf else a.ravel()
    if finite.size == 0:
        return Stats(np.nan, np.nan, np.nan, np.nan, np.nan, nan, inf)
    return Stats(
        mean=float(finite.mean()), std=float(finite.std()), min=float(finite.min()),
        max=float(finite.max()), norm=float(np.sqrt(np.dot(finite, finite))), nan=nan, inf=inf,
        count=int(finite.size),
    )
