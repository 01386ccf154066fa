"""clip_grad_norm_ and clip_grad_value_ against torch.nn.utils, and their no-aliasing rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import optim

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (5,), (2, 2, 2)]


def _pairs(scale: float = 1.0) -> tuple[list[tg.Tensor], list[object]]:
    rng = np.random.default_rng(0)
    ours, theirs = [], []
    for shape in SHAPES:
        value, grad = rng.normal(size=shape), scale * rng.normal(size=shape)
        p = tg.Tensor(value, requires_grad=True)
        p.grad = tg.Tensor(grad)
        q = torch.tensor(value, requires_grad=True)
        q.grad = torch.tensor(grad)
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type: float, max_norm: float) -> None:
    ours, theirs = _pairs()
    before = [p.grad.data.copy() for p in ours]
    total = optim.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, tg.Tensor) and total.shape == ()
    np.testing.assert_allclose(total.item(), total_t.item(), rtol=1e-13)
    for p, q, old in zip(ours, theirs, before, strict=True):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-13, atol=1e-15)
        assert np.array_equal(p.grad.data, old) == (max_norm > total.item())


def test_clip_grad_value_matches_torch() -> None:
    ours, theirs = _pairs(scale=2.0)
    optim.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours, theirs, strict=True):
        assert np.array_equal(p.grad.data, q.grad.numpy())
    assert max(np.abs(p.grad.data).max() for p in ours) == 0.7


@pytest.mark.parametrize("clip", [
    lambda ps: optim.clip_grad_norm_(ps, 0.1),
    lambda ps: optim.clip_grad_value_(ps, 0.1),
], ids=["norm", "value"])
def test_clipping_never_writes_into_a_shared_gradient(clip: object) -> None:
    shared = np.arange(1.0, 7.0)
    a = tg.Tensor(np.zeros(6), requires_grad=True)
    b = tg.Tensor(np.zeros(3), requires_grad=True)
    a.grad = tg.Tensor.from_numpy(shared)
    b.grad = tg.Tensor.from_numpy(shared[:3])  # a view into a's gradient
    clip([a])  # type: ignore[operator]
    assert np.array_equal(shared, np.arange(1.0, 7.0)), "the shared array was written"
    assert np.array_equal(b.grad.data, [1.0, 2.0, 3.0])
    assert np.abs(a.grad.data).max() < 1.0


def test_parameters_without_gradients_are_skipped() -> None:
    p = tg.Tensor(np.ones(3), requires_grad=True)
    q = tg.Tensor(np.ones(2), requires_grad=True)
    q.grad = tg.Tensor(np.array([3.0, 4.0]))
    assert optim.clip_grad_norm_([p, q], 1.0).item() == 5.0
    assert p.grad is None
    np.testing.assert_allclose(q.grad.data, [0.6, 0.8], rtol=1e-6)
    assert optim.clip_grad_norm_([p], 1.0).item() == 0.0
    optim.clip_grad_value_(p, 1.0)  # a single tensor is accepted, as in torch
    assert p.grad is None


def test_nonfinite_norm_raises_only_when_asked() -> None:
    p = tg.Tensor(np.ones(2), requires_grad=True)
    p.grad = tg.Tensor(np.array([np.inf, 1.0]))
    with pytest.raises(RuntimeError, match="total norm"):
        optim.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert math.isinf(optim.clip_grad_norm_(p, 1.0).item())


def test_float32_gradients_stay_float32() -> None:
    p = tg.Tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    p.grad = tg.Tensor(np.full(4, 10.0, dtype=np.float32))
    total = optim.clip_grad_norm_(p, 1.0)
    assert p.grad.dtype == np.float32 and total.dtype == np.float32
    optim.clip_grad_value_(p, 0.1)
    assert p.grad.dtype == np.float32
