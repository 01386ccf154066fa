"""viz.summary and viz.draw_model on networks with known parameter counts."""

from __future__ import annotations

import re

import numpy as np
import pytest
from viz_helpers import Net, dot_edges, dot_nodes

import tinygrad_nn as tg
from tinygrad_nn import nn, viz


def rows(table: str) -> dict[str, list[str]]:
    """{layer title: [output shape, param #]} from a summary table."""
    out = {}
    for line in table.splitlines():
        parts = [p.strip() for p in line.split("  ") if p.strip()]
        if len(parts) == 3 and not line.startswith("Layer"):
            out[parts[0]] = parts[1:]
    return out


def test_summary_of_an_mlp() -> None:
    model = nn.MLP([4, 8, 3], activation="sigmoid")
    table = viz.summary(model, (5, 4))
    assert rows(table) == {
        "MLP": ["(5, 3)", "--"],
        "0 (Linear)": ["(5, 8)", "40"],
        "1 (Sigmoid)": ["(5, 8)", "--"],
        "2 (Linear)": ["(5, 3)", "27"],
    }
    for line in ("Total params: 67", "Trainable params: 67", "Non-trainable params: 0",
                 "Input shape: (5, 4) float32"):
        assert line in table.splitlines()


def test_summary_counts_nielsens_network_and_frozen_layers() -> None:
    model = nn.MLP([784, 30, 10], activation="sigmoid", output_activation="sigmoid")
    table = viz.summary(model, (1, 784))
    assert "Total params: 23,860" in table  # 784*30 + 30 + 30*10 + 10
    assert rows(table)["0 (Linear)"] == ["(1, 30)", "23,550"]
    for p in model[0].parameters():
        p.requires_grad_(False)
    table = viz.summary(model, (1, 784))
    assert "Trainable params: 310" in table and "Non-trainable params: 23,550" in table


def test_summary_runs_in_eval_mode_and_restores_everything() -> None:
    model = nn.MLP([4, 6, 2], batchnorm=True, dropout=0.5)
    mean_before = model[1].running_mean.data.copy()
    tg.manual_seed(3)
    expected_next = tg.randn(3).data
    tg.manual_seed(3)
    viz.summary(model, (8, 4))
    assert np.array_equal(model[1].running_mean.data, mean_before)  # no running-stat update
    assert all(m.training for m in model.modules())
    assert np.array_equal(tg.randn(3).data, expected_next)  # the library's generator untouched
    model.eval()
    viz.summary(model, (8, 4))
    assert not any(m.training for m in model.modules())


def test_summary_of_nested_modules_and_several_inputs() -> None:
    table = viz.summary(Net().double(), (3, 4), dtype=np.float64)  # float64 data, float64 model
    assert rows(table) == {
        "Net": ["(3, 2)", "--"],
        "b1 (Block)": ["(3, 4)", "4"],  # its own scale parameter
        "b1.fc (Linear)": ["(3, 4)", "20"],
        "b1.blocks.0 (Linear)": ["(3, 4)", "20"],
        "b1.blocks.1 (Tanh)": ["(3, 4)", "--"],
        "head (Linear)": ["(3, 2)", "10"],
    }
    assert "Total params: 54" in table and "float64" in table

    class Pair(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(2, 3)
            self.b = nn.Linear(5, 3)

        def forward(self, x: tg.Tensor, y: tg.Tensor) -> tg.Tensor:
            return self.a(x) + self.b(y)

    assert rows(viz.summary(Pair(), [(7, 2), (7, 5)]))["b (Linear)"] == ["(7, 3)", "18"]


def test_draw_model_is_the_traced_architecture() -> None:
    source = viz.draw_model(Net(), input_shape=(3, 4)).source
    # containers (Net, b1) are clusters with their totals; the four layers are nodes, and so
    # are the ops between layers (b1's "* scale" and the residual "+"), the input and output
    assert source.count("subgraph cluster_") == 2
    assert 'label="Net  (54 params)"' in source and 'label="b1 (Block)  (44 params)"' in source
    assert r'label="b1.fc (Linear)\nweight (4, 4)\nbias (4,)\n20 params"' in source
    assert len(dot_nodes(source)) == 4 + 2 + 1 + 2  # layers, ops, b1.scale, input and output
    ids = {label: node for node, label in re.findall(r'^\s*(\w+) \[label="([^"\\]*)', source, re.M)}
    edges = dot_edges(source)
    # the residual: x feeds both b1.fc and the "+", whose output feeds the head
    x, plus = next(v for k, v in ids.items() if k.startswith("input x")), ids["+"]
    assert (x, plus) in edges and (plus, ids["head (Linear)"]) in edges
    assert re.search(rf"{ids['b1.blocks.1 (Tanh)']} -> {plus} \[label=\" \(3, 4\)\"\]", source)
    assert 'label="output\\n(3, 2)"' in source


def test_draw_model_without_a_shape_stacks_the_layers() -> None:
    plain = viz.draw_model(nn.MLP([4, 8, 3])).source
    assert len(dot_nodes(plain)) == 3 and "(3, 2)" not in plain
    assert dot_edges(plain) == [("m0", "m1"), ("m1", "m2")]
    assert r"0 (Linear)\nweight (8, 4)\nbias (8,)\n40 params" in plain
    assert "registration order" in plain


@pytest.mark.skipif(__import__("shutil").which("dot") is None, reason="dot not installed")
def test_draw_model_renders(tmp_path) -> None:  # noqa: ANN001
    path = viz.render(viz.draw_model(Net(), (3, 4)), tmp_path / "model.svg")
    assert "b1.blocks.0 (Linear)" in path.read_text()


def test_draw_model_keeps_layers_that_pass_their_input_through() -> None:
    # in eval mode Dropout returns its input: no op is recorded, but it is a layer of the model
    net = nn.build("4-6-2:relu,dropout=0.5")
    source = viz.draw_model(net, (3, 4)).source
    ids = {label: node for node, label in re.findall(r'^\s*(\w+) \[label="([^"\\]*)', source, re.M)}
    edges = dot_edges(source)
    assert (ids["1 (ReLU)"], ids["2 (Dropout)"]) in edges
    assert (ids["2 (Dropout)"], ids["3 (Linear)"]) in edges
