"""``draw_model``: a model's architecture as papers draw it.

The input ``x``, one box per layer (its name, type, parameter shapes and count), arrows
labelled with the shape that flows along them, the ops between layers (a residual's ``+``) as
small ellipses, the output; containers as dashed clusters with their parameter totals. The data
flow is real: one forward pass on a random batch is traced (``run_forward(record=True)``) and
each layer collapsed to one node (``collapse_modules``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .collapse import collapse_modules
from .describe import shape_text
from .draw import LOOK, SYMBOLS, attach_clusters, module_clusters
from .graph import Graph, ModuleLike, Node, trace
from .model import ShapeLike, own_parameters, run_forward

if TYPE_CHECKING:
    from .drawing import Drawing

LAYER_FILL = "#dde7f5"


def draw_model(
    model: ModuleLike,
    input_shape: ShapeLike | Sequence[ShapeLike] | None = None,
    dtype: Any = None,
    rankdir: str = "TB",
) -> Drawing:
    """Draw the architecture: input -> layers (with parameter shapes and counts) -> output,
    arrows labelled with the shapes between layers.

    ``input_shape`` includes the batch axis, e.g. ``(1, 784)`` (a list of shapes for several
    inputs); one forward pass in eval mode traces the real data flow, so branches and residual
    connections show as they run. Without it nothing runs: the layers are drawn in registration
    order, as a stack without shapes.
    """
    from .drawing import Drawing

    dot = Drawing(
        "model",
        graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "11",
                    "nodesep": "0.3", "ranksep": "0.35"},
        node_attr={"fontname": "Helvetica", "fontsize": "10", "shape": "box",
                   "style": "rounded,filled", "fillcolor": LAYER_FILL, "margin": "0.1,0.05"},
        edge_attr={"color": "#555555", "arrowsize": "0.6", "fontname": "Helvetica",
                   "fontsize": "8", "fontcolor": "#333333"},
    )
    own, _ = own_parameters(model)
    if input_shape is None:
        _stack(dot, model, own)
        return dot
    cap = run_forward(model, input_shape, dtype, record=True)
    outer = [c for c in cap.calls if c.name == ""]
    graph = collapse_modules(trace(list(outer[0].outputs), capture=cap))
    _flow(dot, graph, own, _pass_through(graph, cap))
    return dot


def _pass_through(graph: Graph, cap: Any) -> dict[str, list[tuple[str, str]]]:
    """{tensor node id: [(module name, type)]}: layers that ran but recorded no op because
    they return their input unchanged (Dropout in eval mode, Identity, Flatten of a flat batch).
    They are still layers of the architecture, so they are drawn on that tensor's arrow."""
    node_of = {id(t): n for n, t in graph.tensors.items()}
    drawn = {n.name for n in graph.nodes.values() if n.kind == "module"}
    parents = {c.name for c in cap.calls for d in cap.calls
               if d.name.startswith(c.name + ".") or (c.name == "" and d.name)}
    result: dict[str, list[tuple[str, str]]] = {}
    for call in cap.calls:
        if call.name in drawn or call.name in parents or call.name == "":
            continue
        same = [o for o in call.outputs if any(o is i for i in call.inputs)]
        if same and id(same[0]) in node_of:
            result.setdefault(node_of[id(same[0])], []).append(
                (call.name, type(call.module).__name__))
    return result


def _layer_lines(name: str, kind: str, params: list[tuple[str, Any]]) -> list[str]:
    lines = [f"{name} ({kind})" if name else kind]
    lines += [f"{attr} {tuple(p.shape)}" for attr, p in params]
    count = sum(p.data.size for _, p in params)
    if count:
        lines.append(f"{count:,} params")
    return lines


def _flow(dot: Any, graph: Graph, own: dict[str, list[tuple[str, Any]]],
          pass_through: dict[str, list[tuple[str, str]]]) -> None:
    """Layers and free ops as nodes; the tensors between them as labelled edges."""
    producer: dict[str, str] = {}
    readers: dict[str, list[str]] = {}
    for e in graph.edges:
        if graph.nodes[e.src].kind == "tensor":
            readers.setdefault(e.src, []).append(e.dst)
        else:
            producer[e.dst] = e.src
    clusters = module_clusters(dot, _containers_only(graph))
    for name, cluster in clusters.items():
        info = graph.modules[name]
        total = f"  ({info.num_params:,} params)" if info.num_params else ""
        cluster.graph_attr["label"] = info.title + total
        cluster.graph_attr["fillcolor"] = "#fafbfe"

    def place(node: Node, **attrs: str) -> None:
        target = clusters.get(node.module) if node.module is not None else None
        (target if target is not None else dot).node(node.id, **attrs)

    for node in graph.nodes.values():
        if node.kind == "module":
            info = graph.modules[node.name or ""]
            place(node, label="\\n".join(_layer_lines(node.name or "", info.type,
                                                      own.get(node.name or "", []))))
        elif node.kind == "op":
            place(node, label=SYMBOLS.get(node.op or "", node.op or "?"), shape="ellipse",
                  fillcolor=LOOK["op"][0], style="filled", fontsize="9")
        elif node.id not in producer:  # a leaf: the input, or a parameter outside any layer
            if node.role == "input":
                place(node, label=f"input {node.name}\\n{shape_text(node.shape)}", shape="box",
                      style="dashed", fillcolor="white")
            elif node.role == "param":
                place(node, label=f"{node.name}\\n{shape_text(node.shape)}", shape="box",
                      style="filled", fillcolor=LOOK["param"][0], color=LOOK["param"][1])
        elif node.is_root:
            dot.node(node.id, label=f"output\\n{shape_text(node.shape)}", shape="box",
                     style="dashed", fillcolor="white")
            dot.edge(producer[node.id], node.id)
    for tensor_id, consumers in readers.items():
        node = graph.nodes[tensor_id]
        if node.role == "constant":
            continue
        source = producer.get(tensor_id, tensor_id)
        label = {"label": f" {shape_text(node.shape)}"} if tensor_id in producer else {}
        for i, (name, kind) in enumerate(pass_through.get(tensor_id, [])):
            layer_id = f"{tensor_id}_pass{i}"
            target = clusters.get(graph.modules[name].parent or "") if name in graph.modules \
                else None
            (target if target is not None else dot).node(
                layer_id, "\\n".join(_layer_lines(name, kind, own.get(name, []))))
            dot.edge(source, layer_id, **label)
            source = layer_id
        for consumer in consumers:
            dot.edge(source, consumer, **label)
    attach_clusters(dot, _containers_only(graph), clusters)


def _containers_only(graph: Graph) -> Graph:
    """The graph as ``module_clusters`` should see it: only containers (modules that enclose other
    drawn nodes) get a cluster; a collapsed layer is a node, not a cluster."""
    layers = {n.name for n in graph.nodes.values() if n.kind == "module"}
    modules = {k: v for k, v in graph.modules.items() if k not in layers}
    return Graph(graph.nodes, graph.edges, graph.roots, modules)


def _stack(dot: Any, model: ModuleLike, own: dict[str, list[tuple[str, Any]]]) -> None:
    """No input shape, so no forward pass: the layers in registration order."""
    modules = dict(model.named_modules())
    has_child = {name.rpartition(".")[0] for name in modules if name}
    layers = [name for name in modules if name and name not in has_child] or [""]
    for i, name in enumerate(layers):
        dot.node(f"m{i}", "\\n".join(_layer_lines(name, type(modules[name]).__name__,
                                                  own.get(name, []))))
        if i:
            dot.edge(f"m{i - 1}", f"m{i}", style="dashed", arrowhead="none")
    dot.attr(label="layers in registration order (pass input_shape to draw the data flow)",
             labelloc="b", fontsize="9")
