"""PyTorch's habits (issue #12): dtype objects, constructors, in-place ops and version counters,
tensor hooks, custom Functions with ctx.save_for_backward, tg.save/tg.load, tg.autograd."""

from __future__ import annotations

import numpy as np
import pytest
from op_helpers import torch

import tinygrad_nn as tg
from tinygrad_nn import nn, optim


def test_dtype_objects_are_numpy_dtypes():
    x = tg.tensor([1.0, 2.0])
    assert x.dtype == tg.float32 and x.to(tg.float64).dtype == tg.float64
    assert x.double().dtype == tg.double and x.long().dtype == tg.int64
    assert (x > 1).dtype == tg.bool
    assert x.to("float64").dtype == np.float64 and x.to("cpu") is x
    assert x.type_as(tg.zeros(1, dtype=tg.float64)).dtype == np.float64
    if torch is not None:
        with pytest.raises(TypeError, match="tg.float64"):
            x.to(torch.float64)


def test_constructors():
    assert tg.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    r = tg.randint(0, 10, (3, 4), generator=0)
    assert r.dtype == np.int64 and r.shape == (3, 4) and 0 <= r.data.min() and r.data.max() < 10
    assert tg.randint(0, 10, (3, 4), generator=0).tolist() == r.tolist()  # int seeds repeat
    assert tg.randn(2, generator=5).tolist() == tg.randn(2, generator=5).tolist()
    assert sorted(tg.randperm(5, generator=1).tolist()) == [0, 1, 2, 3, 4]
    a = np.arange(3.0)
    shared = tg.from_numpy(a)
    a[0] = 7.0
    assert shared.data[0] == 7.0 and tg.as_tensor(a).data is a
    assert tg.as_tensor(a, dtype=tg.float32).dtype == np.float32
    assert tg.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    like = tg.randn_like(tg.zeros(2, 3, dtype=tg.float64), generator=1)
    assert like.shape == (2, 3) and like.dtype == np.float64
    x = tg.ones(2, 3, dtype=tg.float64)
    assert x.new_zeros(2).dtype == np.float64 and x.new_full((2,), 3.0).tolist() == [3.0, 3.0]
    with pytest.raises(TypeError, match="seed"):
        tg.randn(2, generator="x")


def test_module_level_functions_are_the_methods():
    x = tg.Tensor([[0.5, -1.0], [2.0, 0.25]], dtype=np.float64)
    for name in ["relu", "sigmoid", "tanh", "exp", "sin", "cos", "abs", "sqrt", "log1p"]:
        value = getattr(tg, name)(x.abs() if name in ("sqrt", "log1p") else x)
        method = getattr(x.abs() if name in ("sqrt", "log1p") else x, name)()
        np.testing.assert_array_equal(value.data, method.data, err_msg=name)
    assert tg.softmax(x, dim=0).shape == (2, 2) and tg.mean(x, dim=1).shape == (2,)


# --------------------------------------------------------------------------------------------
# in place and version counters
# --------------------------------------------------------------------------------------------


def test_optimizer_step_between_forward_and_backward_raises():
    w = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = tg.ones(3)
    loss = (w * w).sum()
    opt.step()
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*Mul.*version 1; "
                                           r"expected version 0"):
        loss.backward()


def test_add_on_a_saved_tensor_raises_and_names_versions():
    a = tg.Tensor([1.0, -2.0], requires_grad=True)
    y = a * 2
    z = y * y
    y.add_(1)
    with pytest.raises(RuntimeError, match="input 0 of Mul, is at version 1; expected version 0"):
        z.sum().backward()


def test_inplace_on_an_op_output_rebases_it_like_torch():
    a = tg.Tensor([1.0, -2.0, 0.5], requires_grad=True)
    y = a * 2
    y.add_(1).mul_(y.detach())
    y.sum().backward()
    ya = 2 * np.array([1.0, -2.0, 0.5]) + 1
    np.testing.assert_allclose(a.grad.data, 2 * ya)  # d/da of (2a+1) * const(2a+1)
    assert y._version == 2


def test_inplace_on_a_leaf_requiring_grad_raises_outside_no_grad():
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*no_grad"):
        w.add_(1)
    with tg.no_grad():
        w.sub_(tg.Tensor([0.5, 0.5]))
    assert w.tolist() == [0.5, 1.5] and w._version == 1


def test_output_modified_under_no_grad_raises():
    a = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = a.exp()  # exp's backward reads its output
    with tg.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="its output of Exp"):
        y.sum().backward()


def test_inplace_through_detach_is_seen_by_backward():
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    w.detach().add_(1.0)  # the same data: torch's detach shares the version counter too
    assert w._version == 1
    with pytest.raises(RuntimeError, match="expected version 0"):
        loss.backward()


def test_data_writes_are_the_unchecked_escape_hatch():
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    w.data += -0.1 * w.grad.data  # micrograd's update: not tracked, as torch's .data
    assert w._version == 0
    np.testing.assert_allclose(w.data, [0.8, 1.6])


def test_load_state_dict_and_module_to_bump_versions():
    model = nn.Linear(2, 1, generator=0)
    x = tg.ones(3, 2)
    loss = model(x).sum()
    model.load_state_dict(model.state_dict())
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    loss = model(x).sum()
    model.double()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_grad_zero_and_fill_and_copy():
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0]
    t = tg.zeros(2).fill_(4.0)
    assert t.tolist() == [4.0, 4.0]
    src = tg.Tensor([5.0, 6.0], requires_grad=True)
    buf = tg.zeros(2)
    buf.copy_(src * 2)  # gradient flows to src through copy_, as in torch
    buf.sum().backward()
    assert src.grad.tolist() == [2.0, 2.0]


def test_version_check_costs_nothing_without_inplace_changes():
    # the check is one comparison: after an optimizer step, a new forward is not flagged
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    assert w._version == 3


def test_a_long_training_run_keeps_a_bounded_version_history():
    # a parameter stepped for a whole training run must not grow one entry per step
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=1e-6)
    loss = (w * w).sum()
    for _ in range(5000):
        w.grad = tg.Tensor([1.0, 1.0])
        opt.step()
    assert w._version == 5000
    assert len(w._bumps.recent) <= 64
    with pytest.raises(RuntimeError, match="is at version 5000; expected version at most"):
        loss.backward()
    y = w * w
    with tg.no_grad():
        w.add_(1.0)
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="is at version 5002; expected version 5000 instead"):
        y.sum().backward()


# --------------------------------------------------------------------------------------------
# hooks, custom functions, tg.autograd
# --------------------------------------------------------------------------------------------


def test_register_hook_sees_and_replaces_gradients():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    seen = []
    y = x * 3
    handle = y.register_hook(lambda g: seen.append(g.tolist()))
    x.register_hook(lambda g: g * 10)
    (y * y).sum().backward()
    assert seen == [[6.0, 12.0]]
    assert x.grad.tolist() == [180.0, 360.0]
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert len(seen) == 1


class Cube(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x * x * ctx.scale, None


def test_custom_function_with_save_for_backward():
    x = tg.Tensor([1.0, -2.0, 0.5], dtype=np.float64, requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data**2)
    tg.gradcheck(lambda t: Cube.apply(t, 2.0), tg.Tensor(x.data, requires_grad=True))
    (g,) = tg.autograd.grad(Cube.apply(x, 1.0).sum(), x, create_graph=True)
    (gg,) = tg.autograd.grad(g.sum(), x)  # the backward is recorded: second order works
    np.testing.assert_allclose(gg.data, 6 * x.data)


def test_autograd_backward_takes_a_list_like_torch():
    a = tg.Tensor([1.0, 2.0], requires_grad=True)
    tg.autograd.backward([(a * a).sum(), (a * 3).sum()])
    assert a.grad.tolist() == [5.0, 7.0]


def test_save_and_load_a_state_dict_in_torch_order(tmp_path):
    model = nn.Linear(3, 2, generator=0)
    tg.save(model.state_dict(), tmp_path / "w.safetensors")
    other = nn.Linear(3, 2, generator=1)
    other.load_state_dict(tg.load(tmp_path / "w.safetensors"))
    np.testing.assert_array_equal(other.weight.data, model.weight.data)
