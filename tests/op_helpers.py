"""One call per op case: forward and backward against PyTorch (when installed) and gradcheck.

Inputs are float64 with non-zero, uneven values; the cotangent is random, so a gradient that is
wrong anywhere shows up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import tinygrad_nn as tg

try:
    import torch
except ImportError:  # the comparisons against PyTorch are skipped, gradcheck still runs
    torch = None


def make_inputs(shapes: Sequence[tuple[int, ...]], low: float = -2.0, high: float = 2.0,
                seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=shape) for shape in shapes]


def helper_test_op(
    shapes: Sequence[tuple[int, ...]],
    torch_fn: Callable[..., Any] | None,
    tg_fn: Callable[..., tg.Tensor],
    low: float = -2.0,
    high: float = 2.0,
    arrays: Sequence[np.ndarray] | None = None,
    atol: float = 1e-10,
    gradcheck: bool = True,
    second_order: bool = False,
) -> None:
    """Check ``tg_fn`` against ``torch_fn`` (forward values, gradients of every input) and
    against central differences; with ``second_order`` also the double backward (the gradient
    of <gradients, random u> with respect to every input) against PyTorch's."""
    values = list(arrays) if arrays is not None else make_inputs(shapes, low, high)
    ts = [tg.Tensor(v, dtype=np.float64, requires_grad=True) for v in values]
    out = tg_fn(*ts)
    assert out.dtype == np.float64, f"forward changed dtype to {out.dtype}"
    cotangent = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(cotangent)
    for t in ts:
        assert t.grad is not None, "an input that requires grad got no gradient"
        assert t.grad.shape == t.shape, f"gradient shape {t.grad.shape} != input {t.shape}"
    if torch is not None and torch_fn is not None:
        pts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
        expected = torch_fn(*pts)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), atol=atol, rtol=1e-10)
        expected.backward(torch.tensor(cotangent))
        for i, (t, p) in enumerate(zip(ts, pts)):
            reference = np.zeros(t.shape) if p.grad is None else p.grad.numpy()
            np.testing.assert_allclose(t.grad.data, reference, atol=atol, rtol=1e-10,
                                       err_msg=f"gradient of input {i}")
    if second_order and torch is not None and torch_fn is not None:
        _check_second_order(values, torch_fn, tg_fn, cotangent, atol)
    if gradcheck:
        fresh = [tg.Tensor(v, dtype=np.float64, requires_grad=True) for v in values]
        tg.gradcheck(tg_fn, *fresh)


def _check_second_order(values: Sequence[np.ndarray], torch_fn: Callable[..., Any],
                        tg_fn: Callable[..., tg.Tensor], cotangent: np.ndarray,
                        atol: float) -> None:
    rng = np.random.default_rng(2)
    us = [rng.standard_normal(v.shape) for v in values]
    ts = [tg.Tensor(v, dtype=np.float64, requires_grad=True) for v in values]
    grads = tg.grad(tg_fn(*ts), ts, grad_outputs=cotangent, create_graph=True)
    total = sum((g * u).sum() for g, u in zip(grads, us) if g.requires_grad)
    pts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    pgrads = torch.autograd.grad(torch_fn(*pts), pts, torch.tensor(cotangent), create_graph=True,
                                 allow_unused=True)
    ptotal = sum((g * torch.tensor(u)).sum() for g, u in zip(pgrads, us)
                 if g is not None and g.requires_grad)
    if not isinstance(ptotal, torch.Tensor):  # linear in every input: no second derivative
        assert not isinstance(total, tg.Tensor), "second derivative where PyTorch has none"
        return
    expected = torch.autograd.grad(ptotal, pts, allow_unused=True)
    got = (tg.grad(total, ts, allow_unused=True) if isinstance(total, tg.Tensor)
           else [None] * len(ts))
    for i, (g, e) in enumerate(zip(got, expected)):
        reference = np.zeros(values[i].shape) if e is None else e.numpy(force=True)
        actual = np.zeros(values[i].shape) if g is None else g.data
        np.testing.assert_allclose(actual, reference, atol=atol, rtol=1e-10,
                                   err_msg=f"second derivative of input {i}")
