"""The engine's tape (autograd.py): creation order as topological order, weak references,
compaction, interleaved graphs, and a failed pass that leaves nothing behind."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import autograd


def test_interleaved_graphs_each_get_their_own_gradients():
    a = tg.Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    b = tg.Tensor([3.0, 4.0], dtype=np.float64, requires_grad=True)
    u = a * 2.0  # graph 1 and graph 2 alternate on the tape
    v = b * b
    u2 = u * a
    v2 = v + b
    (u2.sum()).backward()
    assert np.array_equal(a.grad.data, 4.0 * a.data)
    assert b.grad is None
    v2.sum().backward()
    assert np.array_equal(b.grad.data, 2.0 * b.data + 1.0)


def test_tape_is_compacted_and_a_live_graph_survives_it():
    w = tg.Tensor(np.arange(3.0), requires_grad=True)
    kept = (w * w).sum()  # recorded first, used last: compaction renumbers it
    for _ in range(5000):  # dropped graphs: their entries die
        (w * 3.0).sum()
    gc.collect()
    live = sum(1 for ref in autograd._tape if ref() is not None)  # other tests' graphs too
    assert len(autograd._tape) - live <= max(1024, live)  # the 10,000 dead entries went
    kept.backward()
    assert np.array_equal(w.grad.data, 2.0 * np.arange(3.0))


def test_tape_keeps_no_graph_alive():
    w = tg.Tensor(np.ones(4), requires_grad=True)
    y = w * 2.0
    ref = autograd._tape[-1]
    assert ref() is y
    del y
    gc.collect()
    assert ref() is None


def test_a_failed_backward_leaves_no_gradient_waiting_on_the_graph():
    class Broken(autograd.Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, g, out, x):
            raise ArithmeticError("deliberately broken")

    x = tg.Tensor(np.ones(3), dtype=np.float64, requires_grad=True)
    h = x * 2.0
    z = (Broken.apply(h) + h).sum()
    with pytest.raises(ArithmeticError):
        z.backward(retain_graph=True)
    # h received its term from the Add before Broken failed; a later pass must not see it again
    h.sum().backward()
    assert np.array_equal(x.grad.data, np.full(3, 2.0))


def test_backward_into_a_freed_interior_op_raises():
    x = tg.Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = x * x
    z = y * 3.0
    y.sum().backward()  # frees y's op; z still points at it
    with pytest.raises(RuntimeError, match="second time"):
        z.sum().backward()


def test_intermediate_gradient_with_retain_grad_and_grad_agree():
    x = tg.Tensor([0.5, -1.0], dtype=np.float64, requires_grad=True)
    h = (x * x).retain_grad()
    y = (h * x).sum()
    (gh,) = tg.grad(y, h, retain_graph=True)
    assert h.grad is None  # grad() delivers to no .grad
    y.backward()
    assert np.array_equal(h.grad.data, gh.data)
    assert np.array_equal(gh.data, x.data)
