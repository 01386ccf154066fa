"""viz.backward_steps (the backward pass frame by frame) and viz.to_html (one offline page)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from viz_helpers import traced_mlp

import tinygrad_nn as tg
from tinygrad_nn import viz
from tinygrad_nn.nn import functional as F


def _leaf(values) -> tg.Tensor:
    return tg.Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def _engine_grads(make):
    """Run ``make()`` twice: once for the frames, once for the engine's own backward."""
    loss, leaves = make()
    steps = viz.backward_steps(loss, names=leaves)
    loss2, leaves2 = make()
    loss2.backward()
    return steps, {k: t.grad.data for k, t in leaves2.items() if t.grad is not None}


def _final(steps, name):
    node = next(n for n in steps.graph.nodes.values() if n.name == name)
    return steps.gradients_after(len(steps) - 1)[node.id]


@pytest.mark.parametrize("case", ["micrograd", "square", "broadcast", "diamond"])
def test_frames_add_up_to_the_engines_gradients(case) -> None:
    def make():
        a, b = _leaf([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]]), _leaf([0.5, -1.5, 2.0])
        if case == "micrograd":
            a, b = _leaf(2.0), _leaf(-3.0)
            loss = (a * b + b) * a
        elif case == "square":
            loss = (a * a).sum()  # one op reads a twice: two contributions
        elif case == "broadcast":
            loss = ((a + b) * b).sum()  # b (3,) broadcast over a (2, 3)
        else:
            x = a + b
            loss = (x * a).sum()  # the diamond of tinygrad #119
        return loss, {"a": a, "b": b}

    steps, engine = _engine_grads(make)
    assert len(steps) == len(steps.steps) + 1 == steps.graph.count("op") + 1
    assert len(engine) == (1 if case == "square" else 2)  # b is unused in "square"
    for name, g in engine.items():
        np.testing.assert_allclose(_final(steps, name), g, rtol=1e-12)


def test_each_frame_shows_one_op_and_the_gradient_so_far() -> None:
    a, b = _leaf(2.0), _leaf(-3.0)
    e = a * b
    loss = e * e  # d loss / d e = 2e = -12
    steps = viz.backward_steps(loss, names={"a": a, "b": b, "e": e})
    assert [s.op for s in steps.steps] == ["Mul", "Mul"]
    assert steps.caption(0).startswith("step 0 of 2: the seed, d loss / d loss = 1.0000")
    first = steps.steps[0]
    assert [(steps.graph.nodes[src].name, float(g)) for src, g in first.sent] == [
        ("e", -6.0), ("e", -6.0)]  # e * e: the same gradient sent twice
    assert "sends to e: -6.0000" in steps.caption(1)
    after_one = steps.gradients_after(1)
    e_id = next(n.id for n in steps.graph.nodes.values() if n.name == "e")
    assert float(after_one[e_id]) == -12.0  # both contributions added up
    a_id = next(n.id for n in steps.graph.nodes.values() if n.name == "a")
    assert a_id not in after_one and float(steps.gradients_after(2)[a_id]) == -12.0 * -3.0
    # the frame drawing: the current op outlined, the so-far gradients in the labels
    source = steps[1].source
    assert ">e</td><td sides=\"R\">data -6.0000</td><td border=\"0\">grad -12.0000<" in source
    assert "#e65100" in source and ">a</td><td border=\"0\">data 2.0000<" in source
    assert "grad 36.0000" in steps[-1].source
    with pytest.raises(IndexError):
        steps.frame(3)


def test_a_target_and_parameters_in_the_frames() -> None:
    t = traced_mlp(backward=False)
    steps = viz.backward_steps(t.loss, t.model)
    assert [s.op for s in steps.steps] == ["CrossEntropy", "Linear", "Sigmoid", "Linear"]
    t.loss.backward()
    for name, p in t.model.named_parameters():
        np.testing.assert_allclose(_final(steps, name), p.grad.data, rtol=1e-5, atol=1e-7)
    assert "y\\n(5,) int64" in steps[0].source


def test_frames_that_disagree_with_the_engine_raise(monkeypatch) -> None:
    def wrong(g, shape, op):  # a broken broadcast reduction: twice the right sum
        extra = g.ndim - len(shape)
        return 2 * g.sum(axis=tuple(range(extra)))

    monkeypatch.setattr("tinygrad_nn.viz.steps.unbroadcast", wrong)
    a, b = _leaf([[1.0, 2.0], [3.0, 4.0]]), _leaf([0.5, -1.5])
    with pytest.raises(RuntimeError, match="differs from the engine"):
        viz.backward_steps((a * b).sum(), names={"a": a, "b": b})


def test_backward_steps_needs_a_scalar_with_a_graph() -> None:
    with pytest.raises(ValueError, match="scalar"):
        viz.backward_steps(_leaf([1.0, 2.0]) * 2.0)
    with pytest.raises(ValueError, match="requires grad"):
        viz.backward_steps(tg.Tensor(1.0) * 2.0)


def _page_nodes(html: str) -> list[dict]:
    return json.loads(re.search(r"const NODES = (.*?);\n", html, re.S)[1].replace("<\\/", "</"))


def test_to_html_is_one_offline_page_with_every_nodes_numbers(tmp_path) -> None:
    t = traced_mlp()
    page = viz.to_html(t.graph, tmp_path / "g.html")
    html = page.path.read_text()
    assert html == page.html and html.startswith("<!DOCTYPE html>")
    assert "<script src" not in html and "<link" not in html  # nothing to fetch: offline
    assert html.count("<svg") == 1 and 'class="frame"' in html
    (nodes,) = _page_nodes(html)
    assert set(nodes) == set(t.graph.nodes)
    weight = dict(nodes["t1"])
    g = t.model[0].weight.grad.data
    assert weight["title"] == "0.weight (8, 4) float32" and weight["role"] == "param"
    assert weight["grad"].startswith(f"[{g.ravel()[0]:.4f}, ")
    assert dict(nodes["op0"])["rule"].startswith("x @ w.T + b fused")
    assert "iframe" in page._repr_html_() and "written to" in repr(page)
    collapsed = _page_nodes(viz.to_html(t.graph, collapse=True).html)[0]
    assert "mod0" in collapsed


def test_to_html_without_dot_keeps_the_numbers(monkeypatch) -> None:
    t = traced_mlp()
    monkeypatch.setenv("PATH", "")
    html = viz.to_html(t.graph).html
    assert "<svg" not in html and "apt-get install graphviz" in html
    assert "digraph tinygrad_nn" in html and len(_page_nodes(html)[0]) == len(t.graph)
    steps = viz.backward_steps(F.cross_entropy(t.model(tg.randn(2, 4)), np.array([0, 1])))
    assert steps.to_html().html.count('class="frame"') == len(steps)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        steps.svgs()
    assert "text/plain" in steps[1]._repr_mimebundle_()  # a frame shows its DOT text


def test_svgs_are_the_frames(tmp_path) -> None:
    pytest.importorskip("graphviz")
    if not __import__("shutil").which("dot"):
        pytest.skip("Graphviz's dot is not installed")
    a = _leaf(2.0)
    svgs = viz.backward_steps((a * a).exp(), names={"a": a}).svgs()
    assert len(svgs) == 3 and all(s.lstrip().startswith("<?xml") for s in svgs)
    assert "step 2 of 2" in svgs[2] and "sends to a: 109.1963" in svgs[2]  # twice: 2a e^(a^2)
    assert "grad 218.3926" in svgs[2]  # = 4 e^4, both contributions added
