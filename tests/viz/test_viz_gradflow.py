"""viz.GradientFlow and plot_gradient_flow: recorded norms, the vanishing gradient, the plot."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import nn, viz
from tinygrad_nn.nn import functional as F


def deep_sigmoid(sizes: list[int], n: int = 50, seed: int = 0) -> tuple[nn.Module, tg.Tensor]:
    tg.manual_seed(seed)
    model = nn.MLP(sizes, activation="sigmoid", output_activation="sigmoid", init="nielsen")
    rng = np.random.default_rng(seed)
    x = rng.random((n, sizes[0])).astype(np.float32)
    onehot = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], n)]
    loss = F.binary_cross_entropy(model(tg.Tensor(x)), onehot, reduction="sum") * (1.0 / n)
    return model, loss


def test_record_matches_numpy_norms() -> None:
    model, loss = deep_sigmoid([6, 5, 4])
    loss.backward()
    flow = viz.GradientFlow(which="bias")
    norms = flow.record(model)
    params = dict(model.named_parameters())
    assert list(norms) == ["0", "2"]
    for layer in ("0", "2"):
        assert math.isclose(norms[layer], np.linalg.norm(params[f"{layer}.bias"].grad.data),
                            rel_tol=1e-6)
    both = viz.GradientFlow().norms(model)["0"]
    expected = math.hypot(np.linalg.norm(params["0.weight"].grad.data),
                          np.linalg.norm(params["0.bias"].grad.data))
    assert math.isclose(both, expected, rel_tol=1e-6)
    assert (flow.steps, flow.layers, len(flow)) == ([0], ["0", "2"], 1)


def test_vanishing_gradient_in_a_deep_sigmoid_net() -> None:
    """Nielsen ch. 5: each earlier layer learns several times slower than the next."""
    model, loss = deep_sigmoid([64, 30, 30, 30, 30, 10], n=200)
    loss.backward()
    norms = list(viz.GradientFlow(which="bias").record(model).values())
    assert len(norms) == 5
    assert all(later > 2.5 * earlier for earlier, later in zip(norms, norms[1:], strict=False))


def test_record_without_gradients_and_alignment() -> None:
    model, loss = deep_sigmoid([6, 5, 4])
    flow = viz.GradientFlow()
    with pytest.raises(RuntimeError, match="after backward"):
        flow.record(model)
    loss.backward()
    grads = model[2].weight.grad, model[2].bias.grad
    model[2].weight.grad = model[2].bias.grad = None
    flow.record(model, step=1)  # layer "2" has no gradient yet
    model[2].weight.grad, model[2].bias.grad = grads
    flow.record(model, step=2)
    model[2].weight.grad = model[2].bias.grad = None
    flow.record(model, step=3)
    assert flow.steps == [1, 2, 3] and flow.layers == ["0", "2"]
    assert [math.isnan(v) for v in flow.history["2"]] == [True, False, True]
    assert not any(math.isnan(v) for v in flow.history["0"])
    with pytest.raises(ValueError, match="which"):
        viz.GradientFlow(which="biases")  # type: ignore[arg-type]


def test_plot_gradient_flow(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    flow = viz.GradientFlow()
    for step in range(3):
        model, loss = deep_sigmoid([6, 5, 4], seed=step)
        loss.backward()
        flow.record(model, step=step)
    fig = viz.plot_gradient_flow(flow, tmp_path / "flow.png")
    assert (tmp_path / "flow.png").read_bytes()[:4] == b"\x89PNG"
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    assert list(ax.lines[0].get_xdata()) == [0, 1, 2]
    fig = viz.plot_gradient_flow({"a": [1.0, 0.1], "b": [2.0, 1.0]})  # a plain dict, no file
    assert len(fig.axes[0].lines) == 2
    with pytest.raises(ValueError, match="empty"):
        viz.plot_gradient_flow({})


def test_plot_without_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install tinygrad_nn\[plot\]"):
        viz.plot_gradient_flow({"a": [1.0]})
