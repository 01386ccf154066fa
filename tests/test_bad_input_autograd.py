"""Bad-input table, part 5: the engine's entry points (backward, grad, no_grad) and the two
behaviours other projects' test suites rely on: grad_outputs differentiable under
create_graph=True, and @no_grad() on a generator function (both as PyTorch)."""

from __future__ import annotations

import numpy as np
import pytest
from bad_input_table import bad, check, good, params

import tinygrad_nn as tg


def _leaf(values=(1.0, 2.0)):
    return tg.Tensor(np.array(values), requires_grad=True)


def _backward(gradient, out=None):
    x = _leaf()
    (x * 2 if out is None else out(x)).backward(gradient)
    return x.grad.data


def _twice():
    x = _leaf()
    y = (x * x).sum()
    y.backward()
    y.backward()


def _grad_outputs_hvp():
    """d/dv of <grad(x*x, x, v), 1> = 2x: only if v stays in the graph."""
    x, v = _leaf(), _leaf((3.0, 5.0))
    (g,) = tg.grad(x * x, x, grad_outputs=v, create_graph=True)
    g.sum().backward()
    return x.grad.data, v.grad.data


def _backward_gradient_in_graph():
    x, v = _leaf(), _leaf((3.0, 5.0))
    (x * x).backward(v, create_graph=True)
    x.grad.sum().backward()
    return v.grad.data


@tg.no_grad()
def _generator():
    for _ in range(2):
        yield tg.is_grad_enabled(), (_leaf() * 2).requires_grad


@tg.enable_grad()
def _enable_generator():
    yield tg.is_grad_enabled()


def _enable_inside_no_grad():
    with tg.no_grad():
        return list(_enable_generator())


def _generator_value_and_throw():
    @tg.no_grad()
    def echo():
        received = yield tg.is_grad_enabled()
        try:
            yield received, tg.is_grad_enabled()
        except KeyError:
            yield "caught", tg.is_grad_enabled()

    gen = echo()
    first = next(gen)
    second = gen.send("hello")
    third = gen.throw(KeyError("k"))
    return first, second, third, tg.is_grad_enabled()


def _grad_assigned_with_shape(shape, compiled=False, create_graph=False, dtype=np.float64):
    """x.grad set from outside with ``shape`` and ``dtype`` (x is (2,) float64), then a backward
    adds into it."""
    x = _leaf()

    def step():
        (x * x).sum().backward(create_graph=create_graph)

    run = tg.compile(step) if compiled else step
    if compiled:
        run()  # traced with x.grad None; the replay below meets the assigned one
    x.grad = tg.Tensor(np.ones(shape, dtype))
    run()
    return x.grad.data


ROWS = [
    bad("backward into a .grad of another shape (1,): never broadcast",
        lambda: _grad_assigned_with_shape((1,)), RuntimeError, ".grad", "(2,)", "(1,)"),
    bad("backward into a .grad of another shape (2, 2)",
        lambda: _grad_assigned_with_shape((2, 2)), RuntimeError, ".grad", "(2, 2)"),
    bad("backward into a .grad of another shape, create_graph",
        lambda: _grad_assigned_with_shape((1,), create_graph=True), RuntimeError, ".grad",
        "(1,)"),
    bad("backward into a .grad of another dtype: never promoted or cast",
        lambda: _grad_assigned_with_shape((2,), dtype=np.float32), RuntimeError, ".grad",
        "float32", "float64"),
    bad("compiled backward into a .grad of another shape",
        lambda: _grad_assigned_with_shape((1,), compiled=True), RuntimeError, ".grad", "(1,)"),
    good("backward into a .grad of the same shape adds to it",
         lambda: _grad_assigned_with_shape((2,)), np.array([3.0, 5.0])),
    good("compiled backward into a .grad of the same shape adds to it",
         lambda: _grad_assigned_with_shape((2,), compiled=True), np.array([3.0, 5.0])),
    bad("backward complex gradient", lambda: _backward(np.array([1 + 1j, 1])), TypeError,
        "gradient", "complex"),
    bad("backward object gradient", lambda: _backward(np.array([None, 1])), TypeError,
        "gradient", "object"),
    bad("backward string gradient", lambda: _backward(["a", "b"]), TypeError, "gradient"),
    bad("backward gradient shape", lambda: _backward(np.ones(3)), RuntimeError, "(3,)", "(2,)"),
    bad("backward non-scalar without gradient", lambda: _backward(None), RuntimeError,
        "scalar", "(2,)"),
    bad("backward twice", _twice, RuntimeError, "second time", "retain_graph"),
    bad("backward on a constant", lambda: tg.Tensor([1.0]).sum().backward(), RuntimeError,
        "does not require grad"),
    bad("grad input unused", lambda: tg.grad((_leaf() * 2).sum(), _leaf()), RuntimeError,
        "not used", "allow_unused"),
    bad("grad input not requiring grad", lambda: tg.grad((_leaf() * 2).sum(), tg.ones(2)),
        RuntimeError, "does not require grad"),
    bad("grad outputs count", lambda: tg.grad([_leaf().sum(), _leaf().sum()], [_leaf()],
                                              grad_outputs=[None]), ValueError, "2 outputs"),
    bad("grad complex grad_outputs", lambda: tg.grad(_leaf() * 2, _leaf(), np.ones(2) * 1j),
        TypeError, "complex"),
    good("backward list gradient for one tensor", lambda: _backward([1.0, 3.0]),
         np.array([2.0, 6.0])),
    good("backward int gradient is cast", lambda: _backward(np.array([1, 2])),
         np.array([2.0, 4.0])),
    good("issue: grad_outputs differentiable under create_graph (torch: x.grad 2v, v.grad 2x)",
         _grad_outputs_hvp, (np.array([6.0, 10.0]), np.array([2.0, 4.0]))),
    good("backward(gradient=v, create_graph) keeps v in the graph", _backward_gradient_in_graph,
         np.array([2.0, 4.0])),
    good("issue: @no_grad() on a generator holds inside it (torch)", lambda: list(_generator()),
         [(False, False), (False, False)]),
    good("grad mode restored after the generator", lambda: (list(_generator()),
                                                            tg.is_grad_enabled())[1], True),
    good("@enable_grad() generator inside no_grad", _enable_inside_no_grad, [True]),
    good("generator send/throw keep the mode, restore it outside", _generator_value_and_throw,
         (False, ("hello", False), ("caught", False), True)),
]


@params(ROWS)
def test_bad_input_autograd(row):
    check(row)


def test_no_grad_generator_matches_torch():
    torch = pytest.importorskip("torch")

    @torch.no_grad()
    def theirs():
        yield torch.is_grad_enabled()

    assert list(theirs()) == [enabled for enabled, _ in _generator()][:1]
