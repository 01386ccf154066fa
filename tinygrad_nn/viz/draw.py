"""draw_graph: a traced graph as the picture a teacher draws; render: write it to a file.

The picture names what a learner thinks in (x, y, each parameter by its dotted name,
``loss = 0.7302``), shows scalars as micrograd does (``a | data 2.0000 | grad 6.0000``), keeps
one rank per layer (a layer's parameters sit beside its op) and colours only what is wrong with
a gradient, on absolute thresholds. Every node carries a tooltip with its numbers (describe.py).
The result is a ``Drawing`` (a graphviz.Digraph) that displays inline in Jupyter, with or
without Graphviz's ``dot``. Drawing is always an explicit call: nothing here runs on import.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..tensor import Tensor
from .collapse import collapse_chains, collapse_modules
from .describe import entries, num, shape_text, tooltip
from .graph import Capture, Graph, Node, ParamsLike, Stats, array_stats, trace
from .notebook import GRAPHVIZ_HINT, dot_available, esc

if TYPE_CHECKING:
    import graphviz

    from .drawing import Drawing

FORMATS = ("svg", "png", "pdf", "dot")

# What the colours say: only what is wrong with a gradient, on absolute thresholds (the same
# tensor gets the same colour in every drawing). rms = sqrt(mean(grad**2)), so size-independent.
VANISHING_RMS = 1e-5
EXPLODING_RMS = 1e2
FLAGS = {  # flag: (fill, legend text)
    "zero": ("#d9d9d9", "grad all 0"),
    "vanishing": ("#bcd7ff", "vanishing: grad rms < 1e-5"),
    "exploding": ("#ffb366", "exploding: grad rms > 100"),
    "nonfinite": ("#ff5c5c", "NaN/Inf in grad"),
}
BAD_BORDER = "#b00000"
HIGHLIGHT = "#e65100"  # the op a backward-steps frame is at

# How each kind of node looks: (fill, border colour, penwidth, style) and its legend entry.
LOOK = {
    "param": ("#dbe8fb", "#1f4e9c", "2", "filled", "parameter"),
    "input": ("#ffffff", "#555555", "1.2", "filled,dashed", "input x / target y"),
    "target": ("#ffffff", "#555555", "1.2", "filled,dashed", "input x / target y"),
    "loss": ("#d4edc9", "#2e7d32", "2.5", "filled", "loss"),
    "named": ("#fff3c4", "#8a6d00", "1.2", "filled", "named by you"),
    "constant": ("#ffffff", "#999999", "1", "filled,dashed", "constant"),
    "tensor": ("#ffffff", "#555555", "1", "filled", "tensor (shape dtype)"),
    "op": ("#eeeeee", "#777777", "1", "filled", "op (ellipse)"),
    "module": ("#dde7f5", "#555555", "1", "filled", "layer"),
    "chain": ("#eeeeee", "#555555", "1", "filled,rounded,bold", "run of ops"),
}
CLUSTER_FILLS = ("#f7f9fd", "#edf2fa")
SYMBOLS = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Neg": "-", "Pow": "**",
           "PowScalar": "**", "Matmul": "@"}


class GraphTooLargeError(ValueError):
    """The drawing would have more than ``max_nodes`` nodes."""


class GraphvizMissingWarning(UserWarning):
    """Graphviz's ``dot`` program is missing; the DOT source was written instead."""


# --------------------------------------------------------------------------------------------
# gradient flags
# --------------------------------------------------------------------------------------------


def grad_flag(stats: Stats) -> str | None:
    """"nonfinite", "zero", "vanishing", "exploding" or None (nothing wrong), from the
    gradient's statistics on the absolute thresholds above."""
    if not stats.finite:
        return "nonfinite"
    if stats.norm == 0:
        return "zero"
    if stats.rms < VANISHING_RMS:
        return "vanishing"
    if stats.rms > EXPLODING_RMS:
        return "exploding"
    return None


def _combine(stats: Sequence[Stats]) -> Stats | None:
    """One summary for several tensors (a collapsed module's parameters)."""
    if not stats:
        return None
    return Stats(
        mean=math.nan, std=math.nan, min=min(s.min for s in stats), max=max(s.max for s in stats),
        norm=math.sqrt(sum(s.norm**2 for s in stats if math.isfinite(s.norm))),
        nan=sum(s.nan for s in stats), inf=sum(s.inf for s in stats),
        count=sum(s.count for s in stats),
    )


def grad_stats(graph: Graph, gradients: Mapping[str, Any] | None = None) -> dict[str, Stats]:
    """Gradient statistics of every node whose tensor has a ``.grad`` now (or, given
    ``gradients`` ``{node id: array}``, of those arrays instead).

    A collapsed module node gets the combined statistics of its parameters.
    """
    result: dict[str, Stats] = {}
    if gradients is not None:
        return {k: s for k, g in gradients.items() if (s := array_stats(g)) is not None}
    for node in graph.nodes.values():
        t = graph.tensors.get(node.id)
        if t is not None and t.grad is not None and (s := array_stats(t.grad)) is not None:
            result[node.id] = s
        elif node.kind == "module":
            members = [
                s for m in node.members
                if (t := graph.tensors.get(m)) is not None and t.grad is not None and t.is_leaf
                and (s := array_stats(t.grad)) is not None
            ]
            if (combined := _combine(members)) is not None:
                result[node.id] = combined
    return result


# --------------------------------------------------------------------------------------------
# labels
# --------------------------------------------------------------------------------------------


def _g(x: float) -> str:
    return f"{x:.3g}"


def _flags(s: Stats) -> str:
    parts = ([f"NaN x{s.nan}"] if s.nan else []) + ([f"Inf x{s.inf}"] if s.inf else [])
    return "!! " + " ".join(parts)


def _value_lines(t: Tensor) -> list[str]:
    if t.data.dtype.kind in "iub" and t.data.size <= 12:  # labels: the labels themselves
        return [entries(t.data)]
    s = array_stats(t)
    if s is None:
        return ["empty"]
    lines = [f"mean {_g(s.mean)} std {_g(s.std)}", f"min {_g(s.min)} max {_g(s.max)}"]
    return lines if s.finite else [*lines, _flags(s)]


def _grad_lines(s: Stats) -> list[str]:
    lines = [f"grad norm {_g(s.norm)}", f"grad min {_g(s.min)} max {_g(s.max)}"]
    flag = grad_flag(s)
    if flag in ("vanishing", "exploding"):
        lines.append(f"{flag} gradient")
    return lines if s.finite else [*lines, _flags(s)]


def _is_scalar(node: Node) -> bool:
    return node.kind == "tensor" and node.shape is not None and math.prod(node.shape) == 1


def _scalar_fields(node: Node, graph: Graph, grad: Any) -> list[str]:
    """micrograd's ``name | data 2.0000 | grad 6.0000`` (the loss: ``loss = 0.7302``)."""
    t = graph.tensors.get(node.id)
    value = float(np.asarray(t.data).ravel()[0]) if t is not None else math.nan
    fields = []
    if node.role == "loss":
        fields.append(f"{node.name} = {num(value)}")
    else:
        if node.name:
            fields.append(node.name)
        fields.append(f"data {num(value)}" if node.role != "constant" else num(value))
    if grad is not None:
        fields.append(f"grad {num(float(np.asarray(grad).ravel()[0]))}")
    return fields


def _tensor_label(node: Node, graph: Graph) -> list[str]:
    lines = [node.name] if node.name else []
    lines.append(f"{shape_text(node.shape)} {node.dtype}")
    return lines


def _module_label(node: Node, graph: Graph) -> list[str]:
    info = graph.modules.get(node.name or "")
    if info is None:
        return [f"{node.name} ({node.op})"]
    shapes_in = ", ".join(shape_text(s) for s in info.input_shapes) or "-"
    shapes_out = ", ".join(shape_text(s) for s in info.output_shapes) or "-"
    lines = [info.title, f"{shapes_in} -> {shapes_out}"]
    return lines + [f"{info.num_params:,} params"] if info.num_params else lines


def _kind_of(node: Node) -> str:
    if node.kind != "tensor":
        return node.kind
    return node.role or "tensor"


def _fields_label(fields: list[str]) -> str:
    """micrograd's fields side by side, split by vertical rules (an HTML-like label: a record
    shape would break Graphviz's layout of a parameter placed beside its op)."""
    cells = [f'<td sides="R">{esc(f)}</td>' for f in fields[:-1]]
    cells.append(f'<td border="0">{esc(fields[-1])}</td>')
    return ('<<table border="0" cellborder="1" cellspacing="0" cellpadding="2"><tr>'
            + "".join(cells) + "</tr></table>>")


# --------------------------------------------------------------------------------------------
# draw_graph
# --------------------------------------------------------------------------------------------


def _as_graph(root: Any, params: ParamsLike, model: Any, names: Any = None) -> Graph:
    if isinstance(root, Graph):
        if params is not None or model is not None or names is not None:
            raise ValueError(
                "draw_graph: params/model are used when tracing; this Graph is already traced "
                "(pass them to trace() instead)"
            )
        return root
    cap = model if isinstance(model, Capture) else None
    return trace(root, params if params is not None else model, capture=cap, names=names)


def fit(graph: Graph, collapse: bool | int, max_nodes: int) -> Graph:
    """Apply ``collapse`` and the ``max_nodes`` guard (see draw_graph)."""
    before = len(graph)
    if collapse is not False:
        graph = collapse_modules(graph, None if collapse is True else int(collapse))
        if len(graph) > max_nodes:
            graph = collapse_chains(graph)
    if len(graph) > max_nodes:
        if collapse is False:
            advice = "pass collapse=True (each module and each long run of ops becomes one node)"
        else:
            advice = f"it has {len(graph):,} nodes even collapsed; draw a smaller part of it"
        raise GraphTooLargeError(
            f"draw_graph: the graph has {before:,} nodes, more than max_nodes={max_nodes:,}: "
            f"{advice}, or raise max_nodes if you really want {len(graph):,} nodes in one picture"
        )
    return graph


def draw_graph(
    root: Tensor | Sequence[Tensor] | Graph,
    params: ParamsLike = None,
    model: Any = None,
    *,
    names: dict[str, Tensor] | None = None,
    show_values: bool = False,
    show_grads: bool = True,
    collapse: bool | int = False,
    rankdir: str = "TB",
    max_nodes: int = 2000,
    title: str | None = None,
    legend: bool = True,
    gradients: Mapping[str, Any] | None = None,
    highlight: Sequence[str] = (),
) -> Drawing:
    """Draw the computation graph behind ``root``: tensors as boxes, ops as ellipses.

    root: a tensor (usually the loss), several, or a Graph from ``trace`` (trace before
        ``backward()`` and draw after it to see the gradients without ``retain_graph=True``).
    params: names for parameters: a dict ``{name: tensor}`` or a module.
    model: a module (names only) or a ``viz.capture(model)`` Capture, which also groups the
        ops into one dashed cluster per module call.
    names: your names for any tensors, ``{"h": hidden}`` (when tracing here).
    show_values: add mean/std/min/max of every tensor's values.
    show_grads: add the gradient norm and min/max of every tensor that has a ``.grad``
        (``data | grad`` for scalars) and flag vanishing, exploding, all-zero and NaN/Inf
        gradients by colour (absolute thresholds, VANISHING_RMS and EXPLODING_RMS).
    collapse: False; True draws each innermost module as one node; an int ``k`` collapses the
        modules ``k`` levels below the model (0: the whole model). If the drawing still has more
        than ``max_nodes`` nodes, runs of ops become one node each.
    rankdir: "TB" (inputs at the top) or "LR".
    max_nodes: refuse (GraphTooLargeError, saying what to do) rather than draw more nodes.
    legend: a one-line legend of the shapes, borders and flags the drawing uses.
    gradients: ``{node id: array}`` to show instead of the tensors' ``.grad`` (the
        backward-steps frames show the gradients accumulated so far).
    highlight: node ids drawn with a thick orange border, and the edges between them in orange.
    """
    from .drawing import Drawing  # imported here so that trace() works without graphviz

    graph = fit(_as_graph(root, params, model, names), collapse, max_nodes)
    grads = grad_stats(graph, gradients) if show_grads else {}
    if gradients is None:
        gradients = {n: t.grad.data for n, t in graph.tensors.items() if t.grad is not None}

    dot = Drawing(
        "tinygrad_nn",
        graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "11",
                    "nodesep": "0.25", "ranksep": "0.3", "newrank": "true",
                    **({"label": title, "labelloc": "t"} if title else {})},
        node_attr={"fontname": "Helvetica", "fontsize": "10", "style": "filled",
                   "height": "0.3", "margin": "0.08,0.04"},
        edge_attr={"color": "#555555", "arrowsize": "0.6"},
    )
    clusters = module_clusters(dot, graph)
    used: set[str] = set()
    for node in graph.nodes.values():
        target = dot if node.module is None else clusters[node.module]
        attrs = _node_attrs(node, graph, grads.get(node.id) if show_grads else None,
                            show_values, gradients.get(node.id))
        if node.id in highlight:
            attrs.update(color=HIGHLIGHT, penwidth="3.5")
        target.node(node.id, **attrs)
        used.add(_kind_of(node))
        if node.id in grads and (flag := grad_flag(grads[node.id])) is not None:
            used.add(flag)
    attach_clusters(dot, graph, clusters)
    side = _side_inputs(graph)
    groups = _group(side)
    for e in graph.edges:
        lit = {"color": HIGHLIGHT, "penwidth": "2.5"} if {e.src, e.dst} <= set(highlight) else {}
        if e.src not in side:
            dot.edge(e.src, e.dst, weight="3", **lit)  # the data path: kept straight
        elif groups[e.dst].index(e.src) % 2 == 1:
            # NOTE: an edge between nodes of one rank places its tail to the left; drawing
            # this one op -> leaf with the arrow reversed puts the leaf on the op's right, so a
            # layer reads "weight -> Linear <- bias" instead of looping over the weight.
            dot.edge(e.dst, e.src, dir="back", **lit)
        else:
            dot.edge(e.src, e.dst, **lit)
    for op_id, leaves in groups.items():  # a layer's parameters beside its op: one rank
        with dot.subgraph() as same:
            same.attr(rank="same")
            for n in (op_id, *leaves):
                same.node(n)
    if legend:
        _legend(dot, used, graph.roots)
    return dot


def _side_inputs(graph: Graph) -> dict[str, str]:
    """{leaf id: op id} for parameters, constants and targets read by one op only, and not as
    its first argument: drawn beside that op, so each layer takes one rank."""
    readers: dict[str, list[tuple[str, int]]] = {}
    for e in graph.edges:
        if graph.nodes[e.src].kind == "tensor":
            readers.setdefault(e.src, []).append((e.dst, e.index))
    side = {}
    for node_id, reads in readers.items():
        node = graph.nodes[node_id]
        if node.role in ("param", "constant", "target") and len(reads) == 1 and reads[0][1] > 0:
            side[node_id] = reads[0][0]
    return side


def _group(side: dict[str, str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for leaf, op_id in side.items():
        groups.setdefault(op_id, []).append(leaf)
    return groups


def _node_attrs(
    node: Node, graph: Graph, grad: Stats | None, show_values: bool, grad_values: Any = None,
) -> dict[str, str]:
    kind = _kind_of(node)
    fill, border, width, style, _ = LOOK[kind]
    attrs = {"fillcolor": fill, "color": border, "penwidth": width, "style": style,
             "id": node.id, "tooltip": tooltip(node, graph, grad_values)}
    if node.kind == "op":
        lines = [f"{SYMBOLS[node.op]}  {node.op}" if node.op in SYMBOLS else node.op or "?"]
        attrs.update(shape="ellipse", fontsize="9")
    elif node.kind == "chain":
        lines = [f"{sum(1 for m in node.members if m.startswith('op'))} ops", node.op or "",
                 f"-> {shape_text(node.shape)} {node.dtype}"]
        attrs["shape"] = "box"
    elif node.kind == "module":
        lines = _module_label(node, graph)
        attrs["shape"] = "box3d"
    elif _is_scalar(node):
        lines = []
        fields = _scalar_fields(node, graph, grad_values if grad is not None else None)
        attrs.update(shape="box", label=_fields_label(fields), margin="0.04,0.02")
    else:
        lines = _tensor_label(node, graph)
        attrs["shape"] = "box"
        t = graph.tensors.get(node.id)
        if show_values and t is not None:
            lines += _value_lines(t)
    if grad is not None:
        if "label" not in attrs:
            lines += _grad_lines(grad)
        flag = grad_flag(grad)
        if flag is not None:
            attrs["fillcolor"] = FLAGS[flag][0]
        if flag == "nonfinite":
            attrs.update(color=BAD_BORDER, penwidth="3")
    if "label" not in attrs:
        attrs["label"] = "\\n".join(lines)
    return attrs


def module_clusters(dot: graphviz.Digraph, graph: Graph) -> dict[str, graphviz.Digraph]:
    """One (not yet attached) subgraph per module that has nodes, and per enclosing module."""
    import graphviz

    used = {n.module for n in graph.nodes.values() if n.module is not None}
    for name in list(used):
        parent = graph.modules[name].parent if name in graph.modules else None
        while parent is not None and parent not in used:
            used.add(parent)
            parent = graph.modules[parent].parent
    clusters = {}
    for i, name in enumerate(sorted(used)):
        info = graph.modules.get(name)
        depth = graph.module_depth(name)
        label = info.title if info else name
        clusters[name] = graphviz.Digraph(
            name=f"cluster_{i}",
            graph_attr={"label": label, "style": "rounded,dashed,filled",
                        "fillcolor": CLUSTER_FILLS[depth % 2], "color": "#7a8fb5",
                        "labeljust": "l", "tooltip": label},
        )
    return clusters


def attach_clusters(
    dot: graphviz.Digraph, graph: Graph, clusters: dict[str, graphviz.Digraph]
) -> None:
    """Nest the clusters: ``subgraph()`` copies the body, so the deepest are attached first."""
    for name in sorted(clusters, key=graph.module_depth, reverse=True):
        parent = graph.modules[name].parent if name in graph.modules else None
        (clusters[parent] if parent in clusters else dot).subgraph(clusters[name])


def _legend(dot: graphviz.Digraph, used: set[str], roots: Sequence[str]) -> None:
    """One row explaining every kind of node, border and gradient flag this drawing uses."""
    cells = []
    seen_text = set()
    for kind in LOOK:
        fill, border, width, style, text = LOOK[kind]
        if kind in used and text not in seen_text:
            seen_text.add(text)
            dashed = ' style="dashed"' if "dashed" in style else ""
            thick = "2" if float(width) >= 2 else "1"
            cells.append(f'<td bgcolor="{fill}" color="{border}" border="{thick}"{dashed}>'
                         f"{esc(text)}</td>")
    for flag, (fill, text) in FLAGS.items():
        if flag in used:
            cells.append(f'<td bgcolor="{fill}">{esc(text)}</td>')
    if not cells:
        return
    table = ('<<table border="0" cellborder="1" cellspacing="3" cellpadding="2">'
             f"<tr>{''.join(cells)}</tr></table>>")
    dot.node("legend", label=table, shape="plaintext", style="", fontsize="8", tooltip="legend")
    for root in roots:  # below the result, out of the picture's way
        dot.edge(root, "legend", style="invis")


# --------------------------------------------------------------------------------------------
# render
# --------------------------------------------------------------------------------------------


def render(drawing: Any, path: str | Path, format: str | None = None) -> Path:
    """Write a drawing (a Digraph, or a Graph, drawn with defaults) to ``path``; return the path.

    ``format`` is "svg", "png", "pdf" or "dot" (the DOT text); by default it is taken from the
    path's suffix, else "svg" (and the suffix is added). When Graphviz's ``dot`` program is not
    installed, the DOT text is written next to it (``.dot``) with a one-line hint as a
    GraphvizMissingWarning; nothing raises.
    """
    if isinstance(drawing, Graph):
        drawing = draw_graph(drawing)
    path = Path(path)
    suffix = path.suffix[1:].lower()
    if format is None:
        format = suffix if suffix in FORMATS else "gv" if suffix == "gv" else "svg"
        format = "dot" if format == "gv" else format
    if format not in FORMATS:
        raise ValueError(f"render: format must be one of {', '.join(FORMATS)}, got {format!r}")
    if not suffix:
        path = path.with_suffix("." + format)
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "dot":
        path.write_text(drawing.source, encoding="utf-8")
        return path

    import graphviz

    engine = getattr(drawing, "engine", "dot")
    if dot_available(engine):
        try:
            path.write_bytes(drawing.pipe(format=format))
            return path
        except graphviz.ExecutableNotFound:
            pass
    dot_path = path.with_suffix(".dot")
    dot_path.write_text(drawing.source, encoding="utf-8")
    warnings.warn(
        f"render: Graphviz's `{engine}` program was not found, so {dot_path} was written "
        f"instead of {path}; {GRAPHVIZ_HINT}",
        GraphvizMissingWarning,
        stacklevel=2,
    )
    return dot_path
