"""draw_graph: a traced graph as a graphviz.Digraph; render: write it to a file.

A Digraph displays inline in Jupyter (it has ``_repr_mimebundle_``), so returning one is all the
notebook support needed. Drawing is always an explicit call: nothing here runs on import.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..tensor import Tensor
from .collapse import collapse_chains, collapse_modules
from .graph import Capture, Graph, Node, ParamsLike, Stats, array_stats, trace
from .notebook import GRAPHVIZ_HINT, dot_available

if TYPE_CHECKING:
    import graphviz

    from .drawing import Drawing

FORMATS = ("svg", "png", "pdf", "dot")

# ColorBrewer YlOrRd: pale for small gradient norms (vanishing), dark red for large (exploding).
PALETTE = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")
ZERO_COLOUR = "#d9d9d9"
BAD_COLOUR = "#ff5c5c"  # a gradient with NaN or Inf
BAD_BORDER = "#b00000"

FILL = {"param": "#dbe8fb", "root": "#d4edc9", "leaf": "#ffffff", "tensor": "#ffffff",
        "op": "#eeeeee", "module": "#dde7f5", "chain": "#eeeeee"}
CLUSTER_FILLS = ("#f5f8fd", "#eaf0fa")


class GraphTooLargeError(ValueError):
    """The drawing would have more than ``max_nodes`` nodes."""


class GraphvizMissingWarning(UserWarning):
    """Graphviz's ``dot`` program is missing; the DOT source was written instead."""


# --------------------------------------------------------------------------------------------
# gradient colour scale
# --------------------------------------------------------------------------------------------


class ColourScale:
    """Maps gradient norms to PALETTE on a log scale spanning the norms of one drawing."""

    def __init__(self, norms: Sequence[float]):
        logs = [math.log10(n) for n in norms if n > 0 and math.isfinite(n)]
        self.lo = min(logs) if logs else 0.0
        self.hi = max(logs) if logs else 0.0

    def colour(self, stats: Stats) -> str:
        if not stats.finite:
            return BAD_COLOUR
        if stats.norm == 0:
            return ZERO_COLOUR
        if self.hi == self.lo:
            return PALETTE[len(PALETTE) // 2]
        position = (math.log10(stats.norm) - self.lo) / (self.hi - self.lo)
        return PALETTE[min(len(PALETTE) - 1, max(0, int(position * len(PALETTE))))]

    def bins(self) -> list[tuple[str, float]]:
        """(colour, smallest norm drawn in it) for the legend."""
        step = (self.hi - self.lo) / len(PALETTE)
        if step == 0:
            return [(PALETTE[len(PALETTE) // 2], 10**self.lo)]
        return [(c, 10 ** (self.lo + i * step)) for i, c in enumerate(PALETTE)]


def _combine(stats: Sequence[Stats]) -> Stats | None:
    """One summary for several tensors (a collapsed module's parameters)."""
    if not stats:
        return None
    return Stats(
        mean=math.nan, std=math.nan, min=min(s.min for s in stats), max=max(s.max for s in stats),
        norm=math.sqrt(sum(s.norm**2 for s in stats if math.isfinite(s.norm))),
        nan=sum(s.nan for s in stats), inf=sum(s.inf for s in stats),
    )


def grad_stats(graph: Graph) -> dict[str, Stats]:
    """Gradient statistics of every node whose tensor has a ``.grad`` now.

    A collapsed module node gets the combined statistics of its parameters.
    """
    result: dict[str, Stats] = {}
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


def _shape(shape: tuple[int, ...] | None) -> str:
    return "?" if shape is None else str(tuple(shape))


def _flags(s: Stats) -> str:
    parts = ([f"NaN x{s.nan}"] if s.nan else []) + ([f"Inf x{s.inf}"] if s.inf else [])
    return "!! " + " ".join(parts)


def _value_lines(t: Tensor) -> list[str]:
    s = array_stats(t)
    if s is None:
        return ["empty"]
    lines = [f"mean {_g(s.mean)} std {_g(s.std)}", f"min {_g(s.min)} max {_g(s.max)}"]
    return lines if s.finite else [*lines, _flags(s)]


def _grad_lines(s: Stats) -> list[str]:
    lines = [f"grad norm {_g(s.norm)}", f"grad min {_g(s.min)} max {_g(s.max)}"]
    return lines if s.finite else [*lines, _flags(s)]


def _tensor_label(node: Node, graph: Graph) -> list[str]:
    lines = []
    t = graph.tensors.get(node.id)
    if node.name:
        lines.append(node.name)
    elif node.is_leaf and not node.requires_grad and node.shape == () and t is not None:
        lines.append(_g(float(t.data)))  # a constant such as the 2.0 of x * 2.0
    lines.append(f"{_shape(node.shape)} {node.dtype}")
    return lines


def _module_label(node: Node, graph: Graph) -> list[str]:
    info = graph.modules.get(node.name or "")
    if info is None:
        return [f"{node.name} ({node.op})"]
    shapes_in = ", ".join(_shape(s) for s in info.input_shapes) or "-"
    shapes_out = ", ".join(_shape(s) for s in info.output_shapes) or "-"
    lines = [info.title, f"{shapes_in} -> {shapes_out}"]
    return lines + [f"{info.num_params:,} params"] if info.num_params else lines


def _kind_of(node: Node) -> str:
    if node.kind != "tensor":
        return node.kind
    if node.name:
        return "param"
    if node.is_root:
        return "root"
    return "leaf" if node.is_leaf else "tensor"


# --------------------------------------------------------------------------------------------
# draw_graph
# --------------------------------------------------------------------------------------------


def _as_graph(root: Any, params: ParamsLike, model: Any) -> Graph:
    if isinstance(root, Graph):
        if params is not None or model is not None:
            raise ValueError(
                "draw_graph: params/model are used when tracing; this Graph is already traced "
                "(pass them to trace() instead)"
            )
        return root
    cap = model if isinstance(model, Capture) else None
    return trace(root, params if params is not None else model, capture=cap)


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
    show_values: bool = False,
    show_grads: bool = True,
    collapse: bool | int = False,
    rankdir: str = "TB",
    max_nodes: int = 2000,
    title: str | None = None,
) -> Drawing:
    """Draw the computation graph behind ``root``: tensors as boxes, ops as ellipses.

    root: a tensor (usually the loss), several, or a Graph from ``trace`` (trace before
        ``backward()`` and draw after it to see the gradients without ``retain_graph=True``).
    params: names for parameters: a dict ``{name: tensor}`` or a module.
    model: a module (names only) or a ``viz.capture(model)`` Capture, which also groups the
        ops into one dashed cluster per module call.
    show_values: add mean/std/min/max of every tensor's values.
    show_grads: add the gradient norm, min/max and NaN/Inf flags of every tensor that has a
        ``.grad``, filled on a log colour scale by norm (with a legend); NaN/Inf in red.
    collapse: False; True draws each innermost module as one node; an int ``k`` collapses the
        modules ``k`` levels below the model (0: the whole model). If the drawing still has more
        than ``max_nodes`` nodes, runs of ops become one node each.
    max_nodes: refuse (GraphTooLargeError, saying what to do) rather than draw more nodes.
    """
    from .drawing import Drawing  # imported here so that trace() works without graphviz

    graph = fit(_as_graph(root, params, model), collapse, max_nodes)
    grads = grad_stats(graph) if show_grads else {}
    scale = ColourScale([s.norm for s in grads.values()])

    dot = Drawing(
        "tinygrad_nn",
        graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "11",
                    **({"label": title, "labelloc": "t"} if title else {})},
        node_attr={"fontname": "Helvetica", "fontsize": "10", "style": "filled"},
        edge_attr={"color": "#555555", "arrowsize": "0.7"},
    )
    clusters = _clusters(dot, graph)
    for node in graph.nodes.values():
        target = dot if node.module is None else clusters[node.module]
        target.node(node.id, **_node_attrs(node, graph, grads.get(node.id), scale, show_values))
    _attach_clusters(dot, graph, clusters)
    for e in graph.edges:
        dot.edge(e.src, e.dst)
    if grads:
        _legend(dot, scale, list(grads.values()))
    return dot


def _node_attrs(
    node: Node, graph: Graph, grad: Stats | None, scale: ColourScale, show_values: bool
) -> dict[str, str]:
    kind = _kind_of(node)
    attrs = {"fillcolor": FILL[kind]}
    if node.kind == "op":
        lines = [node.op or "?"]
        attrs["shape"] = "ellipse"
    elif node.kind == "chain":
        lines = [f"{sum(1 for m in node.members if m.startswith('op'))} ops", node.op or "",
                 f"-> {_shape(node.shape)} {node.dtype}"]
        attrs.update(shape="box", style="filled,rounded,bold")
    elif node.kind == "module":
        lines = _module_label(node, graph)
        attrs["shape"] = "box3d"
    else:
        lines = _tensor_label(node, graph)
        attrs["shape"] = "box"
        t = graph.tensors.get(node.id)
        if show_values and t is not None:
            lines += _value_lines(t)
        if kind == "param":
            attrs.update(color="#1f4e9c", penwidth="2")
        elif kind == "root":
            attrs.update(color="#2e7d32", penwidth="2")
        elif kind == "leaf" and not node.requires_grad:
            attrs["style"] = "filled,dashed"
    if grad is not None:
        lines += _grad_lines(grad)
        attrs["fillcolor"] = scale.colour(grad)
        if attrs["fillcolor"] in PALETTE[-2:]:
            attrs["fontcolor"] = "white"
        if not grad.finite:
            attrs.update(color=BAD_BORDER, penwidth="3")
    attrs["label"] = "\\n".join(lines)
    attrs["tooltip"] = f"{node.id}: " + "; ".join(lines)
    return attrs


def _clusters(dot: graphviz.Digraph, graph: Graph) -> dict[str, graphviz.Digraph]:
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


def _attach_clusters(
    dot: graphviz.Digraph, graph: Graph, clusters: dict[str, graphviz.Digraph]
) -> None:
    """Nest the clusters: ``subgraph()`` copies the body, so the deepest are attached first."""
    for name in sorted(clusters, key=graph.module_depth, reverse=True):
        parent = graph.modules[name].parent if name in graph.modules else None
        (clusters[parent] if parent in clusters else dot).subgraph(clusters[name])


def _legend(dot: graphviz.Digraph, scale: ColourScale, stats: list[Stats]) -> None:
    """One node holding an HTML table: a colour swatch per bin with the smallest norm it holds."""
    entries = [(c, f"&ge; {_g(lo)}") for c, lo in scale.bins()]
    if any(s.finite and s.norm == 0 for s in stats):
        entries.insert(0, (ZERO_COLOUR, "0"))
    if any(not s.finite for s in stats):
        entries.append((BAD_COLOUR, "NaN/Inf"))
    cells = "".join(
        f'<td bgcolor="{colour}"><font color="{"white" if colour in PALETTE[-2:] else "black"}">'
        f"{text}</font></td>"
        for colour, text in entries
    )
    table = (
        '<<table border="0" cellborder="1" cellspacing="0" cellpadding="4">'
        f'<tr><td colspan="{len(entries)}" border="0">gradient norm</td></tr>'
        f"<tr>{cells}</tr></table>>"
    )
    dot.node("legend", label=table, shape="plaintext", style="", fontsize="9")


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
