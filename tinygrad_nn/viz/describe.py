"""The words and numbers behind a node: what a tooltip, the HTML page's panel and the
backward-steps frames show. Plain text from a traced Graph; no graphviz needed."""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

from .graph import Graph, Node, Stats, array_stats

ENTRIES = 6  # how many values of a tensor a description lists


def num(x: float) -> str:
    """A number as a learner reads it: 4 decimals in the everyday range, else 4 digits."""
    if not math.isfinite(x):
        return str(x)
    if x == 0 or 1e-3 <= abs(x) < 1e4:
        return f"{x:.4f}"
    return f"{x:.4g}"


def shape_text(shape: tuple[int, ...] | None) -> str:
    """A shape as the pictures print it; "?" when it is unknown."""
    return "?" if shape is None else str(tuple(shape))


def entries(values: Any, limit: int = ENTRIES) -> str:
    """The first few entries of an array, flattened: ``[0.1000, -2.0000, ...] (of 32)``."""
    a = np.asarray(values).ravel()
    if a.size == 1:
        return num(float(a[0])) if a.dtype.kind in "fc" else str(a[0])
    shown = [num(float(v)) if a.dtype.kind == "f" else str(v) for v in a[:limit]]
    more = f", ... ({a.size} entries)" if a.size > limit else ""
    return "[" + ", ".join(shown) + more + "]"


def stats_text(s: Stats) -> str:
    text = f"mean {num(s.mean)}, std {num(s.std)}, min {num(s.min)}, max {num(s.max)}, " \
           f"norm {num(s.norm)}"
    bad = ([f"{s.nan} NaN"] if s.nan else []) + ([f"{s.inf} Inf"] if s.inf else [])
    return text + (f"; {', '.join(bad)}" if bad else "")


def vjp_rule(fn: Any) -> str:
    """The op's VJP as its docstring states it (its first paragraph, on one line)."""
    doc = inspect.getdoc(type(fn)) or ""
    first = doc.split("\n\n")[0]
    return " ".join(first.split())


def describe(node: Node, graph: Graph, grad: Any = None) -> dict[str, str]:
    """{field: text} for one node, in display order: title, then values and gradients or the
    op's rule. Tensors read their ``.grad`` now (after ``backward()`` it is there), unless
    ``grad`` (an array) is given."""
    if node.kind == "op":
        fn = graph.functions.get(node.id)
        inputs = [graph.nodes[e.src] for e in graph.edges if e.dst == node.id]
        outputs = [graph.nodes[e.dst] for e in graph.edges if e.src == node.id]
        info = {"title": f"op {node.op}"}
        if fn is not None:
            info["rule"] = vjp_rule(fn)
        info["inputs"] = ", ".join(_short(n) for n in inputs) or "-"
        info["output"] = ", ".join(_short(n) for n in outputs) or "-"
        return info
    if node.kind != "tensor":
        info = {"title": f"{node.name} ({node.op})" if node.name else str(node.op)}
        if node.shape is not None:
            info["output"] = f"{node.shape} {node.dtype}"
        return info
    t = graph.tensors.get(node.id)
    info = {"title": _short(node)}
    if node.role:
        info["role"] = node.role
    if t is None:
        return info
    info["data"] = entries(t.data)
    if t.data.size > 1 and (s := array_stats(t)) is not None:
        info["data stats"] = stats_text(s)
    if grad is None and t.grad is not None:
        grad = t.grad.data
    if grad is not None:
        info["grad"] = entries(grad)
        if np.size(grad) > 1 and (s := array_stats(np.asarray(grad))) is not None:
            info["grad stats"] = stats_text(s)
    elif t.requires_grad and t.is_leaf:
        info["grad"] = "none yet (call backward())"
    elif t.requires_grad:
        info["grad"] = "not kept (an intermediate: trace(..., retain_grads=True) keeps it)"
    return info


def _short(node: Node) -> str:
    shape = shape_text(node.shape)
    return f"{node.name} {shape} {node.dtype}" if node.name else f"{shape} {node.dtype}"


def tooltip(node: Node, graph: Graph, grad: Any = None) -> str:
    """``describe`` as lines of ``field: text`` (an SVG ``<title>``)."""
    info = describe(node, graph, grad)
    lines = [info.pop("title")] + [f"{k}: {v}" for k, v in info.items()]
    return "\n".join(lines)
