"""viz.draw_graph: nodes, edges, labels, clusters, collapsing and the gradient colours, read
from the DOT source."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from viz_helpers import Traced, dot_edges, dot_nodes, label_of, traced_mlp

import tinygrad_nn as tg
from tinygrad_nn import viz
from tinygrad_nn.viz.draw import FLAGS, LOOK


@pytest.fixture
def mlp() -> Traced:
    return traced_mlp()


def abc_loss() -> tuple[tg.Tensor, dict[str, tg.Tensor]]:
    a = tg.Tensor([1.0, 2.0], requires_grad=True)
    b = tg.Tensor([3.0, 4.0], requires_grad=True)
    c = tg.Tensor([5.0, 6.0], requires_grad=True)
    return (a * b + c).sum(), {"a": a, "b": b, "c": c}


def test_abc_drawing_structure_and_labels() -> None:
    loss, params = abc_loss()
    source = viz.draw_graph(loss, params).source
    assert dot_nodes(source) == ["t0", "t1", "op0", "t2", "t3", "op1", "t4", "op2", "t5",
                                 "legend"]
    assert dot_edges(source) == [("t0", "op0"), ("t1", "op0"), ("op0", "t2"), ("t2", "op1"),
                                 ("t3", "op1"), ("op1", "t4"), ("t4", "op2"), ("op2", "t5"),
                                 ("t5", "legend")]
    assert label_of(source, "t0") == r"a\n(2,) float32"
    assert fields_of(source, "t5") == ["loss = 22.0000"]  # the scalar root is the loss
    assert 'op0 [label="*  Mul"' in source and "shape=ellipse" in source
    assert "grad norm" not in source  # no gradients yet
    assert not re.search(r'label="[^"]*mean', source)  # value statistics only on request
    # b and c sit beside the op that reads them (one rank per op), a and the sum stay on the path
    assert re.findall(r"rank=same\s+(\w+)\s+(\w+)", source) == [("op0", "t1"), ("op1", "t3")]
    legend = source[source.index("legend [label="):]
    assert [t in legend for t in ("parameter", "loss", "op (ellipse)", "input x")] == [
        True, True, True, False]  # only what the drawing uses


def test_gradients_after_backward_with_a_traced_graph() -> None:
    loss, params = abc_loss()
    graph = viz.trace(loss, params)
    loss.backward()  # frees the engine's graph; the traced one keeps the tensors
    source = viz.draw_graph(graph).source
    # d/da = b = [3, 4] (norm 5), d/db = a = [1, 2], d/dc = [1, 1]
    assert label_of(source, "t0") == r"a\n(2,) float32\ngrad norm 5\ngrad min 3 max 4"
    assert r"grad norm 2.24" in label_of(source, "t1")
    assert r"grad norm 1.41\ngrad min 1 max 1" in label_of(source, "t3")
    # healthy gradients are not coloured: each node keeps its kind's fill, in every drawing
    assert _fill(source, "t0") == _fill(source, "t3") == LOOK["param"][0]
    assert "grad norm" not in viz.draw_graph(graph, show_grads=False).source


def _fill(source: str, node_id: str) -> str:
    line = next(li for li in source.splitlines() if li.strip().startswith(f"{node_id} ["))
    return line.split('fillcolor="')[1].split('"')[0]


def test_value_statistics_on_request() -> None:
    loss, params = abc_loss()
    source = viz.draw_graph(loss, params, show_values=True).source
    assert r"a\n(2,) float32\nmean 1.5 std 0.5\nmin 1 max 2" == label_of(source, "t0")
    assert fields_of(source, "t5") == ["loss = 22.0000"]  # a scalar stays data | grad
    t = traced_mlp()
    assert label_of(viz.draw_graph(t.graph, show_values=True).source, "y0") == (
        r"y\n(5,) int64\n[0, 2, 1, 2, 0]")  # integer labels are listed, not averaged


def test_nan_and_inf_gradients_are_flagged() -> None:
    x = tg.Tensor([0.0, 4.0], requires_grad=True)
    loss = x.sqrt().sum()
    graph = viz.trace(loss, {"x": x})
    with np.errstate(divide="ignore"):
        loss.backward()  # d sqrt(x) / dx = 1 / (2 sqrt x): inf at 0
    source = viz.draw_graph(graph).source
    label = label_of(source, "t0")
    assert "Inf x1" in label and "grad norm 0.25" in label  # the finite part: 1/(2*2)
    assert _fill(source, "t0") == FLAGS["nonfinite"][0] and "penwidth=3" in source
    assert "NaN/Inf" in source


def test_gradient_flags_are_absolute(tmp_path) -> None:
    stats = viz.array_stats
    flag = viz.grad_flag
    assert flag(stats(np.full(10_000, 5e-7))) == "vanishing"  # rms 5e-7 < 1e-5 (norm 5e-5)
    assert flag(stats(np.full(100, 1e-4))) is None
    assert flag(stats(np.full(10_000, 1e-4))) is None  # rms, not norm: size does not matter
    assert flag(stats(np.array([500.0, -500.0]))) == "exploding"
    assert flag(stats(np.zeros(3))) == "zero"
    assert flag(stats(np.array([1.0, np.nan]))) == "nonfinite"
    # the same gradient gets the same colour whatever else is in the picture
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    small = tg.Tensor([1e-7, 1e-7], requires_grad=True)
    loss = (x * 1.4).sum() + (small * small).sum()
    graph = viz.trace(loss, {"x": x, "small": small})
    loss.backward()
    source = viz.draw_graph(graph).source
    node = {n.name: n.id for n in graph.nodes.values() if n.name}
    assert _fill(source, node["x"]) == LOOK["param"][0]
    assert _fill(source, node["small"]) == FLAGS["vanishing"][0]
    assert "vanishing gradient" in label_of(source, node["small"])
    assert "vanishing: grad rms &lt; 1e-5" in source  # and the legend says what it means
    viz.render(viz.draw_graph(graph), tmp_path / "flags.svg")  # the legend's "<" is escaped


def test_micrograd_scalars_show_data_and_grad() -> None:
    a = tg.Tensor(2.0, requires_grad=True)
    b = tg.Tensor(-3.0, requires_grad=True)
    e = a * b
    loss = e * 2.0
    graph = viz.trace(loss, names={"a": a, "b": b, "e": e}, retain_grads=True)
    loss.backward()
    source = viz.draw_graph(graph).source
    assert fields_of(source, "t0") == ["a", "data 2.0000", "grad -6.0000"]
    assert fields_of(source, "t1") == ["b", "data -3.0000", "grad 4.0000"]
    assert fields_of(source, "t2") == ["e", "data -6.0000", "grad 2.0000"]
    assert fields_of(source, "t3") == ["2.0000"]  # a constant
    assert fields_of(source, "t4") == ["loss = -12.0000", "grad 1.0000"]
    lr = viz.draw_graph(graph, rankdir="LR").source
    assert fields_of(lr, "t0") == fields_of(source, "t0")


def fields_of(source: str, node_id: str) -> list[str]:
    """The cells of a micrograd-style (HTML-like) label."""
    line = next(li for li in source.splitlines() if li.strip().startswith(f"{node_id} [label=<"))
    return re.findall(r"<td[^>]*>([^<]*)</td>", line.split("</table>")[0])


def test_mlp_drawing_has_one_cluster_per_module(mlp: Traced) -> None:
    source = viz.draw_graph(mlp.graph, rankdir="LR").source
    # + y and the legend; + y's edge and the legend's invisible one
    assert (len(dot_nodes(source)), len(dot_edges(source))) == (14 + 1, 13 + 1)
    assert source.count("subgraph cluster_") == 4
    for title in ("label=MLP", 'label="0 (Linear)"', 'label="1 (Sigmoid)"', 'label="2 (Linear)"'):
        assert title in source
    # the layers' clusters sit inside the model's: the MLP cluster opens first, closes last
    mlp_at, layer_at = source.index("label=MLP"), source.index('label="0 (Linear)"')
    assert source.index("subgraph cluster_") < layer_at and mlp_at < layer_at
    assert label_of(source, "t1") == r"0.weight\n(8, 4) float32" + _grad_suffix(mlp, "0.weight")
    assert label_of(source, "t0") == r"x\n(5, 4) float32"
    assert label_of(source, "y0") == r"y\n(5,) int64"
    assert "<td border=\"0\">loss = 1.1724</td>" in source
    assert "rankdir=LR" in source


def _grad_suffix(mlp: Traced, name: str) -> str:
    g = dict(mlp.model.named_parameters())[name].grad.data.astype(np.float64)
    return (rf"\ngrad norm {np.linalg.norm(g):.3g}\ngrad min {g.min():.3g} max {g.max():.3g}")


def test_collapsed_mlp_draws_each_layer_as_one_node(mlp: Traced) -> None:
    g = viz.collapse_modules(mlp.graph)
    kinds = [(n.kind, n.name or n.op) for n in g.nodes.values()]
    assert kinds == [
        ("tensor", "x"), ("module", "0"), ("tensor", None), ("module", "1"), ("tensor", None),
        ("module", "2"), ("tensor", None), ("tensor", "y"), ("op", "CrossEntropy"),
        ("tensor", "loss"),
    ]
    assert len(g.edges) == 9
    source = viz.draw_graph(mlp.graph, collapse=True).source
    assert "label=Linear" not in source and "label=Sigmoid" not in source  # no op nodes left
    label = label_of(source, "mod0")
    weight, bias = (dict(mlp.model.named_parameters())[k].grad.data.astype(np.float64)
                    for k in ("0.weight", "0.bias"))
    norm = math.sqrt(np.sum(weight**2) + np.sum(bias**2))
    assert label.startswith(r"0 (Linear)\n(5, 4) -> (5, 8)\n40 params\ngrad norm ")
    assert f"grad norm {norm:.3g}" in label
    assert "params" not in label_of(source, "mod1")  # the sigmoid has none
    assert source.count("subgraph cluster_") == 1  # only the model's cluster is left


def test_collapse_depth_zero_draws_the_whole_model_as_one_node(mlp: Traced) -> None:
    g = viz.collapse_modules(mlp.graph, depth=0)
    assert [(n.kind, n.name or n.op) for n in g.nodes.values()] == [
        ("tensor", "x"), ("module", "MLP"), ("tensor", None), ("tensor", "y"),
        ("op", "CrossEntropy"), ("tensor", "loss"),
    ]
    assert "MLP" in viz.draw_graph(mlp.graph, collapse=0).source


def test_max_nodes_guard(mlp: Traced) -> None:
    with pytest.raises(viz.GraphTooLargeError, match="14 nodes.*max_nodes=13.*collapse=True"):
        viz.draw_graph(mlp.graph, max_nodes=13)
    assert len(dot_nodes(viz.draw_graph(mlp.graph, collapse=True, max_nodes=10).source)) == 11
    # collapsed modules leave 9 nodes; with max_nodes=5 the chain of ops must go too, and a
    # graph that cannot shrink enough is refused, not drawn
    with pytest.raises(viz.GraphTooLargeError, match="even collapsed"):
        viz.draw_graph(mlp.graph, collapse=True, max_nodes=2)


def test_collapse_chains_rules() -> None:
    a = tg.Tensor([1.0, 2.0], requires_grad=True)
    w = tg.Tensor([3.0, 4.0], requires_grad=True)
    x = a
    for _ in range(4):
        x = x * 2.0  # constants disappear into the run
    branch = x.exp()
    y = branch * branch * w
    for _ in range(3):
        y = y.tanh()
    g = viz.trace(y.sum(), {"a": a, "w": w})
    c = viz.collapse_chains(g)
    chains = [n for n in c.nodes.values() if n.kind == "chain"]
    # run 1: four Muls and the Exp (its output is read twice, so the run stops there)
    # run 2: branch * branch, * w, three Tanh and the Sum (the root ends it)
    assert [n.op for n in chains] == ["Mul x4, Exp x1", "Tanh x3, Mul x2, Sum x1"]
    assert "a" in {n.name for n in c.nodes.values()} and "w" in {n.name for n in c.nodes.values()}
    assert c.count("tensor") == 4  # a, exp's output, w, the loss
    assert len(viz.collapse_chains(g, min_ops=7)) == len(g)  # no run is that long


def test_collapse_chains_stops_where_runs_merge() -> None:
    a = tg.Tensor([1.0], requires_grad=True)
    b = tg.Tensor([2.0], requires_grad=True)
    u, v = a * 0.1 * 0.2 * 0.3, b * 0.1 * 0.2 * 0.3
    g = viz.collapse_chains(viz.trace((u + v).exp().exp().sum()))
    chains = [n for n in g.nodes.values() if n.kind == "chain"]
    # each branch is a run; the Add starts a third one: no op is in two runs
    assert [n.op for n in chains] == ["Mul x3", "Mul x3", "Exp x2, Add x1, Sum x1"]
    assert sum(len(n.members) for n in chains) == len(set().union(*(n.members for n in chains)))


def test_draw_a_retained_graph_with_a_capture() -> None:
    traced = traced_mlp(backward=False)
    traced.loss.backward(retain_graph=True)
    source = viz.draw_graph(traced.loss, model=traced.cap).source
    assert source.count("subgraph cluster_") == 4 and "0.weight" in source
    assert "grad norm" in label_of(source, "t1")
    named_only = viz.draw_graph(traced.loss, model=traced.model).source  # names, no clusters
    assert "subgraph cluster_" not in named_only and "0.weight" in named_only


def test_graph_and_params_together_is_an_error(mlp: Traced) -> None:
    with pytest.raises(ValueError, match="already traced"):
        viz.draw_graph(mlp.graph, params=mlp.model)


def test_digraph_displays_in_jupyter(mlp: Traced) -> None:
    assert hasattr(viz.draw_graph(mlp.graph), "_repr_mimebundle_")
