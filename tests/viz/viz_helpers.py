"""Shared networks and DOT parsing for the viz tests (imported as ``viz_helpers``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

import tinygrad_nn as tg
from tinygrad_nn import nn, viz
from tinygrad_nn.nn import functional as F


@dataclass
class Traced:
    model: nn.Module
    cap: viz.Capture
    graph: viz.Graph
    loss: tg.Tensor


def traced_mlp(backward: bool = True) -> Traced:
    """MLP [4, 8, 3] (Linear, Sigmoid, Linear), cross-entropy on a batch of 5, traced with
    module capture before backward()."""
    tg.manual_seed(0)
    model = nn.MLP([4, 8, 3], activation="sigmoid")
    x = tg.randn(5, 4)
    with viz.capture(model) as cap:
        loss = F.cross_entropy(model(x), np.array([0, 2, 1, 2, 0]))
    graph = viz.trace(loss, capture=cap)
    if backward:
        loss.backward()
    return Traced(model, cap, graph, loss)


class Block(nn.Module):
    """fc -> scale -> [Linear, Tanh] held in a plain list -> + x (a residual)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.scale = nn.Parameter(np.full(4, 0.5, dtype=np.float32))
        self.blocks = [nn.Linear(4, 4), nn.Tanh()]

    def forward(self, x: tg.Tensor) -> tg.Tensor:
        h = self.fc(x) * self.scale
        for layer in self.blocks:
            h = layer(h)
        return x + h


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.b1 = Block()
        self.head = nn.Linear(4, 2)

    def forward(self, x: tg.Tensor) -> tg.Tensor:
        return self.head(self.b1(x))


def dot_nodes(source: str) -> list[str]:
    """Node ids declared in DOT source (not the graph/node/edge attribute statements)."""
    ids = re.findall(r"^\s*(\w+) \[", source, flags=re.M)
    return [i for i in ids if i not in ("graph", "node", "edge")]


def dot_edges(source: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s*(\w+) -> (\w+)", source, flags=re.M)


def label_of(source: str, node_id: str) -> str:
    match = re.search(rf'^\s*{node_id} \[label="((?:[^"\\]|\\.)*)"', source, flags=re.M)
    assert match, f"no label for {node_id}"
    return match.group(1)
