"""``backward_steps``: the backward pass as a sequence of frames, the picture teachers draw by hand.

Frame 0 seeds the loss with d loss / d loss = 1. Each next frame is one op, from the loss back to
the leaves: the op is outlined in orange, its caption states the local rule (the op's
docstring) and the numbers: the gradient g arriving at its output and what it sends to each
input. Every tensor shows the gradient accumulated so far, so a tensor read twice visibly adds
up its two contributions. The last frame holds the gradients ``backward()`` would leave.

How the numbers are made: the engine computes the true gradient of every tensor
(``tinygrad_nn.grad``, which touches no ``.grad``), and each op's contribution to its inputs is
its own ``backward`` formula applied to the gradient at its output, reduced over broadcast axes
by the engine's ``unbroadcast``. When all of a tensor's contributions have arrived, their sum is
checked against the engine's gradient: a disagreement raises instead of drawing a wrong picture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd import grad as engine_grad
from ..autograd import unbroadcast
from ..tensor import Tensor
from .describe import describe, entries, vjp_rule
from .draw import draw_graph
from .graph import Capture, Graph, ParamsLike, trace
from .notebook import GRAPHVIZ_HINT, dot_available
from .page import Frame, Page, render_page


@dataclass
class Step:
    """One op of the backward pass: the gradient at its output and what it sends back."""

    op_id: str
    op: str
    rule: str
    output: str  # the output tensor's node id
    upstream: np.ndarray  # d loss / d output
    sent: list[tuple[str, np.ndarray]] = field(default_factory=list)  # (input node id, grad)

    def caption(self, graph: Graph, number: int, total: int) -> str:
        lines = [f"step {number} of {total}: {self.op}   backward rule: {self.rule}",
                 f"g = d loss / d {_name(graph, self.output)} = {entries(self.upstream)}"]
        lines += [f"  sends to {_name(graph, src)}: {entries(g)}" for src, g in self.sent]
        return "\n".join(lines)


def _name(graph: Graph, node_id: str) -> str:
    """A tensor as a caption names it: its name, else the op that made it."""
    node = graph.nodes[node_id]
    if node.name:
        return node.name
    made_by = [graph.nodes[e.src].op for e in graph.edges if e.dst == node_id]
    return f"{made_by[0]}'s output" if made_by else node_id


class BackwardSteps:
    """The frames of ``backward_steps``: ``len(steps)`` frames; ``steps[i]`` is frame i (a
    Drawing, shown inline in Jupyter); ``steps.svgs()`` the SVG texts; ``steps.to_html(path)``
    one animated page (slider, play, arrow keys, hover for numbers); in Jupyter the object
    itself shows that page."""

    def __init__(self, graph: Graph, steps: list[Step], final: dict[str, np.ndarray],
                 rankdir: str):
        self.graph = graph
        self.steps = steps
        self.final = final  # the engine's gradient of every tensor node that needs one
        self.rankdir = rankdir

    def __len__(self) -> int:
        return len(self.steps) + 1

    def __repr__(self) -> str:
        return (f"<BackwardSteps: {len(self)} frames (the seed, then {len(self.steps)} ops); "
                "display it in Jupyter, steps[i] for one frame, steps.to_html('b.html')>")

    def gradients_after(self, i: int) -> dict[str, np.ndarray]:
        """{node id: gradient accumulated so far} once frame ``i`` is done."""
        root = self.graph.roots[0]
        so_far: dict[str, np.ndarray] = {root: self.final[root]}
        for step in self.steps[:i]:
            for src, g in step.sent:
                so_far[src] = g if src not in so_far else so_far[src] + g
        return so_far

    def caption(self, i: int) -> str:
        if i == 0:
            root = self.graph.roots[0]
            return (f"step 0 of {len(self.steps)}: the seed, d loss / d {_name(self.graph, root)}"
                    f" = {entries(self.final[root])}; the gradient now flows back, one op a step")
        return self.steps[i - 1].caption(self.graph, i, len(self.steps))

    def frame(self, i: int) -> Any:
        """Frame ``i`` as a Drawing."""
        if not 0 <= i < len(self):
            raise IndexError(f"BackwardSteps: frame {i} of {len(self)}")
        highlight: Sequence[str] = [self.graph.roots[0]]
        if i > 0:
            step = self.steps[i - 1]
            highlight = [step.op_id, step.output, *(src for src, _ in step.sent)]
        return draw_graph(self.graph, gradients=self.gradients_after(i), highlight=highlight,
                          rankdir=self.rankdir, title=self.caption(i).replace("\n", "\\l")
                          + "\\l")

    def __getitem__(self, i: int) -> Any:
        return self.frame(i if i >= 0 else len(self) + i)

    def svgs(self) -> list[str]:
        """Every frame as SVG text (needs Graphviz's ``dot``; ``steps[i].source`` is the DOT)."""
        if not dot_available():
            raise RuntimeError(f"BackwardSteps.svgs: Graphviz's `dot` program was not found; "
                               f"{GRAPHVIZ_HINT} (each frame's DOT text: steps[i].source)")
        return [self.frame(i).pipe(format="svg", encoding="utf-8") for i in range(len(self))]

    def page(self) -> Page:
        frames = []
        for i in range(len(self)):
            grads = self.gradients_after(i)
            nodes = {n.id: list(describe(n, self.graph, grads.get(n.id)).items())
                     for n in self.graph.nodes.values()}
            frames.append(Frame(self.frame(i), "", nodes))
        return Page(render_page("tinygrad_nn: the backward pass, step by step", frames))

    def to_html(self, path: str | Path | None = None) -> Page:
        """The animated page; written to ``path`` when given."""
        page = self.page()
        if path is not None:
            page.write(path)
        return page

    def _repr_html_(self) -> str:
        return self.page()._repr_html_()


def backward_steps(
    loss: Tensor,
    params: ParamsLike = None,
    *,
    capture: Capture | None = None,
    names: Mapping[str, Tensor] | None = None,
    rankdir: str = "TB",
) -> BackwardSteps:
    """The backward pass of ``loss`` as frames, one per op (see the module docstring).

    Call it *instead of* ``loss.backward()`` or before it (it needs the graph, which backward
    frees, and it leaves every ``.grad`` untouched). ``params``, ``capture`` and ``names`` name
    the tensors as in ``trace``. Meant for small graphs: each frame is a whole drawing.
    """
    if not isinstance(loss, Tensor) or loss.data.size != 1:
        raise ValueError("backward_steps: expected a scalar Tensor (the loss), got "
                         f"{type(loss).__name__} of shape {getattr(loss, 'shape', None)}")
    graph = trace(loss, params, capture=capture, names=names)
    needing = [(n, t) for n, t in graph.tensors.items() if t.requires_grad]
    if not needing or not loss.requires_grad:
        raise ValueError("backward_steps: nothing in this graph requires grad")
    grads = engine_grad(loss, [t for _, t in needing], retain_graph=True, allow_unused=True)
    final = {n: g.data for (n, _), g in zip(needing, grads) if g is not None}

    inputs_of: dict[str, list[str]] = {}
    output_of: dict[str, str] = {}
    for e in graph.edges:
        if graph.nodes[e.src].kind == "op":
            output_of[e.src] = e.dst
        elif graph.nodes[e.dst].kind == "op":
            inputs_of.setdefault(e.dst, []).append(e.src)
    for op_id, srcs in inputs_of.items():  # in argument order (a target y comes last)
        index = {(e.src, e.dst): e.index for e in graph.edges if e.dst == op_id}
        srcs.sort(key=lambda src, op_id=op_id: index[(src, op_id)])
    steps = []
    ops = [n for n in graph.nodes.values() if n.kind == "op"]
    for node in reversed(ops):  # forward order reversed: every consumer before its producer
        out_id = output_of[node.id]
        if out_id not in final:
            continue  # no gradient reaches this op
        steps.append(_step(graph, node.id, out_id, inputs_of.get(node.id, []), final[out_id]))
    result = BackwardSteps(graph, steps, final, rankdir)
    _check(result)
    return result


def _step(graph: Graph, op_id: str, out_id: str, input_ids: list[str], g: np.ndarray) -> Step:
    """Apply the op's own backward formula to ``g`` (as the engine does, on arrays)."""
    fn = graph.functions[op_id]
    out = graph.tensors[out_id]
    parents = fn.parents
    sent_back = fn.backward(g, out.data, *fn.inputs)
    if type(sent_back) is not tuple:
        sent_back = (sent_back,)
    step = Step(op_id, type(fn).__name__, vjp_rule(fn), out_id, g)
    for src, p, pg in zip(input_ids, parents, sent_back):
        if pg is None or not p.requires_grad:
            continue
        pg = np.asarray(pg)
        if pg.shape != p.data.shape:
            pg = unbroadcast(pg, p.data.shape, step.op)
        step.sent.append((src, pg.astype(p.data.dtype, copy=False)))
    return step


def _check(steps: BackwardSteps) -> None:
    """The contributions must add up to the engine's gradients, else the frames would lie."""
    total = steps.gradients_after(len(steps.steps))
    for node_id, g in steps.final.items():
        got = total.get(node_id)
        scale = max(1.0, float(np.max(np.abs(g), initial=0.0)))
        tol = 1e-9 if g.dtype == np.float64 else 1e-4
        if got is None or not np.allclose(got, g, rtol=tol, atol=tol * scale):
            raise RuntimeError(
                f"backward_steps: the frames' gradient of {_name(steps.graph, node_id)} "
                f"({entries(got) if got is not None else 'none'}) differs from the engine's "
                f"({entries(g)}); please report this graph"
            )
