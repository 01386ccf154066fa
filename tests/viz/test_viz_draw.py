"""viz.draw_graph: nodes, edges, labels, clusters, collapsing and the gradient colours, read
from the DOT source."""

from __future__ import annotations

import math

import numpy as np
import pytest
from viz_helpers import Traced, dot_edges, dot_nodes, label_of, traced_mlp

import tinygrad_nn as tg
from tinygrad_nn import viz
from tinygrad_nn.viz.draw import BAD_COLOUR, PALETTE, ZERO_COLOUR


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
    assert dot_nodes(source) == ["t0", "t1", "op0", "t2", "t3", "op1", "t4", "op2", "t5"]
    assert dot_edges(source) == [("t0", "op0"), ("t1", "op0"), ("op0", "t2"), ("t2", "op1"),
                                 ("t3", "op1"), ("op1", "t4"), ("t4", "op2"), ("op2", "t5")]
    assert label_of(source, "t0") == r"a\n(2,) float32"
    assert label_of(source, "t5") == r"() float32"
    assert 'op0 [label=Mul' in source and "shape=ellipse" in source
    assert "legend" not in source and "grad norm" not in source  # no gradients yet
    assert "mean" not in source  # value statistics only on request


def test_gradients_after_backward_with_a_traced_graph() -> None:
    loss, params = abc_loss()
    graph = viz.trace(loss, params)
    loss.backward()  # frees the engine's graph; the traced one keeps the tensors
    source = viz.draw_graph(graph).source
    # d/da = b = [3, 4] (norm 5), d/db = a = [1, 2], d/dc = [1, 1]
    assert label_of(source, "t0") == r"a\n(2,) float32\ngrad norm 5\ngrad min 3 max 4"
    assert r"grad norm 2.24" in label_of(source, "t1")
    assert r"grad norm 1.41\ngrad min 1 max 1" in label_of(source, "t3")
    # the colour scale spans the norms: the largest is darkest, the smallest palest
    assert _fill(source, "t0") == PALETTE[-1] and _fill(source, "t3") == PALETTE[0]
    assert "gradient norm" in source and "legend" in source
    assert "grad norm" not in viz.draw_graph(graph, show_grads=False).source


def _fill(source: str, node_id: str) -> str:
    line = next(li for li in source.splitlines() if li.strip().startswith(f"{node_id} ["))
    return line.split('fillcolor="')[1].split('"')[0]


def test_value_statistics_on_request() -> None:
    loss, params = abc_loss()
    source = viz.draw_graph(loss, params, show_values=True).source
    assert r"a\n(2,) float32\nmean 1.5 std 0.5\nmin 1 max 2" == label_of(source, "t0")


def test_nan_and_inf_gradients_are_flagged() -> None:
    x = tg.Tensor([0.0, 4.0], requires_grad=True)
    loss = x.sqrt().sum()
    graph = viz.trace(loss, {"x": x})
    with np.errstate(divide="ignore"):
        loss.backward()  # d sqrt(x) / dx = 1 / (2 sqrt x): inf at 0
    source = viz.draw_graph(graph).source
    label = label_of(source, "t0")
    assert "Inf x1" in label and "grad norm 0.25" in label  # the finite part: 1/(2*2)
    assert _fill(source, "t0") == BAD_COLOUR and "penwidth=3" in source
    assert "NaN/Inf" in source


def test_colour_scale() -> None:
    scale = viz.ColourScale([1e-4, 1e-2, 1.0])
    stats = viz.array_stats
    assert scale.colour(stats(np.array([1e-4]))) == PALETTE[0]
    assert scale.colour(stats(np.array([1.0]))) == PALETTE[-1]
    assert scale.colour(stats(np.array([1e-2]))) == PALETTE[len(PALETTE) // 2]
    assert scale.colour(stats(np.array([0.0]))) == ZERO_COLOUR
    assert scale.colour(stats(np.array([np.nan]))) == BAD_COLOUR
    lows = [lo for _, lo in scale.bins()]
    assert math.isclose(lows[0], 1e-4) and len(lows) == len(PALETTE)


def test_mlp_drawing_has_one_cluster_per_module(mlp: Traced) -> None:
    source = viz.draw_graph(mlp.graph, rankdir="LR").source
    assert (len(dot_nodes(source)), len(dot_edges(source))) == (13 + 1, 12)  # + the legend
    assert source.count("subgraph cluster_") == 4
    for title in ("label=MLP", 'label="0 (Linear)"', 'label="1 (Sigmoid)"', 'label="2 (Linear)"'):
        assert title in source
    # the layers' clusters sit inside the model's: the MLP cluster opens first, closes last
    mlp_at, layer_at = source.index("label=MLP"), source.index('label="0 (Linear)"')
    assert source.index("subgraph cluster_") < layer_at and mlp_at < layer_at
    assert label_of(source, "t1") == r"0.weight\n(8, 4) float32" + _grad_suffix(mlp, "0.weight")
    assert "rankdir=LR" in source


def _grad_suffix(mlp: Traced, name: str) -> str:
    g = dict(mlp.model.named_parameters())[name].grad.data.astype(np.float64)
    return (rf"\ngrad norm {np.linalg.norm(g):.3g}\ngrad min {g.min():.3g} max {g.max():.3g}")


def test_collapsed_mlp_draws_each_layer_as_one_node(mlp: Traced) -> None:
    g = viz.collapse_modules(mlp.graph)
    kinds = [(n.kind, n.name or n.op) for n in g.nodes.values()]
    assert kinds == [
        ("tensor", None), ("module", "0"), ("tensor", None), ("module", "1"), ("tensor", None),
        ("module", "2"), ("tensor", None), ("op", "CrossEntropy"), ("tensor", None),
    ]
    assert len(g.edges) == 8
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
        ("tensor", None), ("module", "MLP"), ("tensor", None), ("op", "CrossEntropy"),
        ("tensor", None),
    ]
    assert "MLP" in viz.draw_graph(mlp.graph, collapse=0).source


def test_max_nodes_guard(mlp: Traced) -> None:
    with pytest.raises(viz.GraphTooLargeError, match="13 nodes.*max_nodes=12.*collapse=True"):
        viz.draw_graph(mlp.graph, max_nodes=12)
    assert len(dot_nodes(viz.draw_graph(mlp.graph, collapse=True, max_nodes=9).source)) == 10
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
