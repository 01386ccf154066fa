"""Replay rules: an op's forward and backward as NumPy calls into preallocated buffers.

A rule makes exactly the NumPy calls the op's ``Function`` makes, in the same order, with
``out=`` where the Function allocates: a replay is then bit-for-bit the eager computation
(tests/test_compile.py checks 100 training steps to 1e-12). A rule declines (returns None) for
cases it does not cover (broadcasting operands, mixed dtypes, batched inputs), and the op falls
back to its Function's own forward and backward.

Each rule is ``rule(program, op) -> (forward closure, backward builder) | None``; the backward
builder gets the number of gradient terms per slot (``terms``) and returns the backward closure.
Fused here: Linear's product and bias (forward), its three gradients (backward); the
activations' derivatives from their outputs; plain SGD's update.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import ops, threads
from ..optim import SGD

if TYPE_CHECKING:
    from .program import Program
    from .trace import OpRecord

Closure = Callable[[], None]
Built = tuple[Closure, Callable[[dict[int, int]], Closure]] | None


def _uniform(op: OpRecord) -> bool:
    """All operands of one float dtype and one shape: no broadcasting, no promotion."""
    first_shape, first_dtype = op.shapes[0]
    return (first_dtype.kind == "f" and op.out_dtype == first_dtype
            and all(shape == first_shape and dtype == first_dtype for shape, dtype in op.shapes))


def _route(grads: list[Any], slot: int, g: Any) -> None:
    previous = grads[slot]
    grads[slot] = g if previous is None else previous + g


# --------------------------------------------------------------------------------------------
# Linear: x @ w.T + b
# --------------------------------------------------------------------------------------------


def linear(program: Program, op: OpRecord) -> Built:
    (x_shape, dtype), (w_shape, w_dtype) = op.shapes[0], op.shapes[1]
    has_bias = len(op.ins) == 3
    if (len(x_shape) != 2 or dtype.kind != "f" or w_dtype != dtype or op.out_dtype != dtype
            or (has_bias and op.shapes[2][1] != dtype)):
        return None
    vals, grads = program.vals, program.grads
    ix, iw = op.ins[0], op.ins[1]
    ib = op.ins[2] if has_bias else -1
    o = op.out
    out = program.buffer(op.out_shape, dtype)
    work = x_shape[0] * w_shape[0] * w_shape[1]
    fit = threads.fit

    def forward() -> None:
        fit(work)
        np.dot(vals[ix], vals[iw].T, out=out)
        if has_bias:
            np.add(out, vals[ib], out=out)
        vals[o] = out

    def backward(terms: dict[int, int]) -> Closure:
        need_x, need_w = op.needs[0], op.needs[1]
        need_b = has_bias and op.needs[2]
        gx = program.gradient_target(ix, terms, x_shape, dtype) if need_x else None
        gw = program.gradient_target(iw, terms, w_shape, dtype) if need_w else None
        gb = program.gradient_target(ib, terms, op.shapes[2][0], dtype) if need_b else None

        def run() -> None:
            g = grads[o]
            if g is None:
                return
            fit(work)
            if gx is not None:
                _route(grads, ix, np.dot(g, vals[iw], out=gx()))
            if gw is not None:
                _route(grads, iw, np.dot(g.T, vals[ix], out=gw()))
            if gb is not None:
                _route(grads, ib, np.add.reduce(g, axis=0, out=gb()))

        return run

    return forward, backward


# --------------------------------------------------------------------------------------------
# activations: the derivative from the output, fused into two buffers
# --------------------------------------------------------------------------------------------


def sigmoid(program: Program, op: OpRecord) -> Built:
    if not _uniform(op):
        return None
    vals, grads = program.vals, program.grads
    ix, o = op.ins[0], op.out
    shape, dtype = op.shapes[0]
    out = program.buffer(shape, dtype)
    e = program.buffer(shape, dtype)
    negative = program.buffer(shape, np.bool_)
    one = dtype.type(1)

    def forward() -> None:  # ops.Sigmoid: e = exp(-|x|); where(x < 0, e, 1) / (1 + e)
        x = vals[ix]
        np.abs(x, out=e)
        np.negative(e, out=e)
        np.exp(e, out=e)
        np.less(x, 0, out=negative)
        out.fill(one)
        np.copyto(out, e, where=negative)
        np.add(e, 1.0, out=e)
        np.divide(out, e, out=out)
        vals[o] = out

    def backward(terms: dict[int, int]) -> Closure:
        target = program.gradient_target(ix, terms, shape, dtype)
        spare = program.buffer(shape, dtype)

        def run() -> None:  # g * s * (1 - s)
            g = grads[o]
            if g is None:
                return
            gx = np.multiply(g, out, out=target())
            np.subtract(1.0, out, out=spare)
            gx *= spare
            _route(grads, ix, gx)

        return run

    return forward, backward


def tanh(program: Program, op: OpRecord) -> Built:
    if not _uniform(op):
        return None
    vals, grads = program.vals, program.grads
    ix, o = op.ins[0], op.out
    shape, dtype = op.shapes[0]
    out = program.buffer(shape, dtype)

    def forward() -> None:
        vals[o] = np.tanh(vals[ix], out=out)

    def backward(terms: dict[int, int]) -> Closure:
        target = program.gradient_target(ix, terms, shape, dtype)
        spare = program.buffer(shape, dtype)

        def run() -> None:  # g * (1 - t * t)
            g = grads[o]
            if g is None:
                return
            np.multiply(out, out, out=spare)
            np.subtract(1.0, spare, out=spare)
            _route(grads, ix, np.multiply(g, spare, out=target()))

        return run

    return forward, backward


def relu(program: Program, op: OpRecord) -> Built:
    if not _uniform(op):
        return None
    vals, grads = program.vals, program.grads
    ix, o = op.ins[0], op.out
    shape, dtype = op.shapes[0]
    out = program.buffer(shape, dtype)
    mask = program.buffer(shape, np.bool_)

    def forward() -> None:
        vals[o] = np.maximum(vals[ix], 0.0, out=out)

    def backward(terms: dict[int, int]) -> Closure:
        target = program.gradient_target(ix, terms, shape, dtype)

        def run() -> None:  # g where out > 0 (relu'(0) = 0)
            g = grads[o]
            if g is None:
                return
            np.greater(out, 0, out=mask)
            _route(grads, ix, np.multiply(g, mask, out=target()))

        return run

    return forward, backward


# --------------------------------------------------------------------------------------------
# elementwise arithmetic on same-shaped operands
# --------------------------------------------------------------------------------------------


def _binary(ufunc: Any, grad_x: Callable[..., Any], grad_y: Callable[..., Any]) -> Any:
    """A rule for ``x (op) y`` whose gradients ``grad_x(g, x, y, out=)`` need no broadcast."""

    def rule(program: Program, op: OpRecord) -> Built:
        if not _uniform(op):
            return None
        vals, grads = program.vals, program.grads
        ix, iy, o = op.ins[0], op.ins[1], op.out
        shape, dtype = op.shapes[0]
        out = program.buffer(shape, dtype)

        def forward() -> None:
            vals[o] = ufunc(vals[ix], vals[iy], out=out)

        def backward(terms: dict[int, int]) -> Closure:
            tx = program.gradient_target(ix, terms, shape, dtype) if op.needs[0] else None
            ty = program.gradient_target(iy, terms, shape, dtype) if op.needs[1] else None

            def run() -> None:
                g = grads[o]
                if g is None:
                    return
                x, y = vals[ix], vals[iy]
                if tx is not None:
                    _route(grads, ix, grad_x(g, x, y, tx))
                if ty is not None:
                    _route(grads, iy, grad_y(g, x, y, ty))

            return run

        return forward, backward

    return rule


def _same(g: Any, x: Any, y: Any, target: Any) -> Any:
    return g  # the engine hands the same array on; delivery copies where it must


def _negated(g: Any, x: Any, y: Any, target: Any) -> Any:
    return np.negative(g, out=target())


def _times_y(g: Any, x: Any, y: Any, target: Any) -> Any:
    return np.multiply(g, y, out=target())


def _times_x(g: Any, x: Any, y: Any, target: Any) -> Any:
    return np.multiply(g, x, out=target())


RULES: dict[type, Callable[[Program, OpRecord], Built]] = {
    ops.Linear: linear,
    ops.Sigmoid: sigmoid,
    ops.Tanh: tanh,
    ops.Relu: relu,
    ops.Add: _binary(np.add, _same, _same),
    ops.Sub: _binary(np.subtract, _same, _negated),
    ops.Mul: _binary(np.multiply, _times_y, _times_x),
}


# --------------------------------------------------------------------------------------------
# the optimizer step
# --------------------------------------------------------------------------------------------


def optimizer_step(optimizer: Any) -> Closure:
    """Plain SGD (no momentum, weight decay, maximize) as its in-place update, reading each
    group's lr on every call (schedulers are honoured); anything else: the optimizer's own
    ``step()``."""
    if type(optimizer) is not SGD:
        return optimizer.step

    def step() -> None:
        groups = optimizer.param_groups
        for group in groups:
            if group["momentum"] != 0 or group["weight_decay"] != 0 or group["maximize"]:
                optimizer.step()
                return
            for p in group["params"]:
                if p.grad is not None and p.grad.data.shape != p.data.shape:
                    optimizer.step()  # its own error message
                    return
        scratch = optimizer._scratch
        for group in groups:
            lr = group["lr"]
            for p in group["params"]:
                grad = p.grad
                if grad is not None:
                    p.data -= np.multiply(grad.data, lr, out=scratch(p))

    return step
