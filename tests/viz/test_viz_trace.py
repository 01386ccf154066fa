"""viz.trace and viz.capture: the graph as plain data, on networks whose graphs are known."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from viz_helpers import Net, traced_mlp

import tinygrad_nn as tg
from tinygrad_nn import viz
from tinygrad_nn.nn import functional as F


def abc() -> tuple[tg.Tensor, tg.Tensor, tg.Tensor]:
    a = tg.Tensor([1.0, 2.0], requires_grad=True)
    b = tg.Tensor([3.0, 4.0], requires_grad=True)
    c = tg.Tensor([5.0, 6.0], requires_grad=True)
    return a, b, c


def test_abc_graph_exact() -> None:
    a, b, c = abc()
    g = viz.trace((a * b + c).sum(), {"a": a, "b": b, "c": c})
    assert (len(g), len(g.edges), g.count("tensor"), g.count("op")) == (9, 8, 6, 3)
    assert [n.op for n in g.nodes.values() if n.kind == "op"] == ["Mul", "Add", "Sum"]
    assert g.edges == [
        viz.Edge("t0", "op0", 0), viz.Edge("t1", "op0", 1), viz.Edge("op0", "t2"),
        viz.Edge("t2", "op1", 0), viz.Edge("t3", "op1", 1), viz.Edge("op1", "t4"),
        viz.Edge("t4", "op2", 0), viz.Edge("op2", "t5"),
    ]
    assert [g.nodes[i].name for i in ("t0", "t1", "t3")] == ["a", "b", "c"]
    assert g.roots == ["t5"] and g.nodes["t5"].is_root and g.nodes["t5"].shape == ()
    assert all(g.nodes[i].is_leaf for i in ("t0", "t1", "t3"))
    assert not any(g.nodes[i].is_leaf for i in ("t2", "t4", "t5"))
    assert {n.dtype for n in g.nodes.values() if n.kind == "tensor"} == {"float32"}
    assert g.tensors["t0"] is a  # live references, for gradients read after backward()


def test_nodes_come_in_forward_order() -> None:
    a, b, c = abc()
    g = viz.trace(((a * b).exp() + (c - a) * b).sum())
    position = {node_id: i for i, node_id in enumerate(g.nodes)}
    assert all(position[e.src] < position[e.dst] for e in g.edges)


def test_repeated_input_keeps_both_edges() -> None:
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    g = viz.trace(x * x)
    assert len(g) == 3
    assert g.edges[:2] == [viz.Edge("t0", "op0", 0), viz.Edge("t0", "op0", 1)]


def test_diamond_shares_the_node() -> None:
    a = tg.Tensor([1.0], requires_grad=True)
    b = tg.Tensor([2.0], requires_grad=True)
    x = a + b
    g = viz.trace(x * a)
    assert (len(g), len(g.edges)) == (6, 6)
    assert [e.dst for e in g.edges if e.src == "t0"] == ["op0", "op1"]


def test_constants_and_inputs_are_leaves_without_grad() -> None:
    w = tg.Tensor([[1.0, 2.0]], requires_grad=True)
    x = tg.Tensor([[3.0], [4.0]])
    g = viz.trace((w @ x) * 2.0)
    leaves = [n for n in g.nodes.values() if n.is_leaf]
    assert [(n.shape, n.requires_grad) for n in leaves] == [((1, 2), True), ((2, 1), False),
                                                            ((), False)]


def test_several_roots_and_a_lone_leaf() -> None:
    a, b, _ = abc()
    g = viz.trace([(a * b).sum(), (a + b).sum()])
    assert len(g.roots) == 2 and g.count("op") == 4
    assert (len(viz.trace(a)), viz.trace(a).edges) == (1, [])
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.trace([])


def test_freed_graph_gives_a_clear_error() -> None:
    a, b, _ = abc()
    loss = (a * b).sum()
    loss.backward()
    with pytest.raises(viz.GraphFreedError, match="retain_graph=True"):
        viz.trace(loss)
    kept = (a * b).sum()
    kept.backward(retain_graph=True)
    assert len(viz.trace(kept)) == 6


def test_trace_needs_no_graphviz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz now raises
    a, b, c = abc()
    assert len(viz.trace((a * b + c).sum())) == 9
    with pytest.raises(ImportError):
        viz.draw_graph((a * b).sum())


def test_parameter_names_from_a_module() -> None:
    traced = traced_mlp()
    assert set(traced.graph.named()) == {"0.weight", "0.bias", "2.weight", "2.bias",
                                         "x", "y", "loss"}
    assert traced.graph.named()["0.weight"].shape == (8, 4)
    with pytest.raises(TypeError, match="named_parameters"):
        viz.trace(traced.loss, params=[1, 2])


def test_100k_op_chain_traces_without_recursion() -> None:
    a = tg.Tensor([1.0, 2.0], requires_grad=True)
    x = a
    for _ in range(100_000):
        x = x * 1.0
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 150)  # a recursive walk fails at once, not 100k frames deep
    try:
        g = viz.trace(x)
    finally:
        sys.setrecursionlimit(limit)
    assert (len(g), len(g.edges), g.count("op")) == (300_001, 300_000, 100_000)
    # the drawer refuses the raw graph clearly and draws the collapsed one
    with pytest.raises(viz.GraphTooLargeError, match=r"300,001 nodes.*max_nodes=2,000.*collapse"):
        viz.draw_graph(g)
    small = viz.collapse_chains(g)
    assert [n.kind for n in small.nodes.values()] == ["tensor", "chain", "tensor"]
    assert len(small.edges) == 2
    assert "100000 ops" in viz.draw_graph(small).source


# --------------------------------------------------------------------------------------------
# capture: which module ran which op
# --------------------------------------------------------------------------------------------


def test_capture_assigns_ops_to_layers() -> None:
    g = traced_mlp().graph
    ops = [(n.op, n.module) for n in g.nodes.values() if n.kind == "op"]
    assert ops == [("Linear", "0"), ("Sigmoid", "1"), ("Linear", "2"), ("CrossEntropy", None)]
    assert g.named()["2.bias"].module == "2"
    assert g.nodes["t0"].module is None  # the input x comes from outside the model
    assert g.nodes[g.roots[0]].module is None  # so does the loss
    info = g.modules
    assert [(k, v.type, v.parent, v.num_params) for k, v in info.items()] == [
        ("0", "Linear", "", 40), ("1", "Sigmoid", "", 0), ("2", "Linear", "", 27),
        ("", "MLP", None, 67),
    ]
    assert (info["0"].input_shapes, info["0"].output_shapes) == ([(5, 4)], [(5, 8)])


def test_capture_nested_modules_and_residual() -> None:
    tg.manual_seed(1)
    net = Net()
    x = tg.randn(3, 4)
    with viz.capture(net) as cap:
        loss = F.cross_entropy(net(x), np.array([0, 1, 1]))
    g = viz.trace(loss, capture=cap)
    module_of_op = [(n.op, n.module) for n in g.nodes.values() if n.kind == "op"]
    assert module_of_op == [
        ("Linear", "b1.fc"), ("Mul", "b1"), ("Linear", "b1.blocks.0"), ("Tanh", "b1.blocks.1"),
        ("Add", "b1"), ("Linear", "head"), ("CrossEntropy", None),
    ]
    assert g.named()["b1.scale"].module == "b1"
    # "b1.blocks" is a plain list, not a module: its layers hang directly under b1
    assert g.modules["b1.blocks.0"].parent == "b1" and g.modules["b1"].parent == ""


def test_capture_removes_its_hooks_and_can_retain_grads() -> None:
    traced = traced_mlp(backward=False)
    n_calls = len(traced.cap.calls)
    traced.model(tg.randn(2, 4))
    assert len(traced.cap.calls) == n_calls == 4

    tg.manual_seed(0)
    with viz.capture(traced.model, retain_grads=True) as cap:
        loss = F.cross_entropy(traced.model(tg.randn(5, 4)), np.array([0, 1, 2, 0, 1]))
    loss.backward()
    hidden = cap.calls[1].outputs[0]  # the sigmoid's output, an intermediate tensor
    assert hidden.grad is not None and hidden.grad.shape == (5, 8)


def test_array_stats() -> None:
    s = viz.array_stats(np.array([3.0, -4.0, np.nan, np.inf]))
    assert s is not None
    assert (s.min, s.max, s.norm, s.nan, s.inf, s.finite) == (-4.0, 3.0, 5.0, 1, 1, False)
    assert viz.array_stats(np.zeros(0)) is None
