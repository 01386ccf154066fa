"""Every op: forward and gradient against PyTorch (float64) and central differences."""

from __future__ import annotations

import numpy as np
import pytest
from op_helpers import helper_test_op, torch

import tinygrad_nn as tg
from tinygrad_nn.nn import functional as F

T = torch  # short name inside the lambdas; None when torch is not installed

# (id, shapes, torch function, tinygrad function, input range)
CASES = [
    # elementwise, binary
    ("add", [(3, 4), (3, 4)], lambda a, b: a + b, lambda a, b: a + b, None),
    ("sub", [(3, 4), (3, 4)], lambda a, b: a - b, lambda a, b: a - b, None),
    ("mul", [(3, 4), (3, 4)], lambda a, b: a * b, lambda a, b: a * b, None),
    ("div", [(3, 4), (3, 4)], lambda a, b: a / b, lambda a, b: a / b, (0.5, 2.0)),
    ("pow", [(3, 4), (3, 4)], lambda a, b: a**b, lambda a, b: a**b, (0.5, 2.0)),
    ("maximum", [(3, 4), (3, 4)], lambda a, b: T.maximum(a, b), lambda a, b: a.maximum(b), None),
    ("minimum", [(3, 4), (3, 4)], lambda a, b: T.minimum(a, b), lambda a, b: a.minimum(b), None),
    # scalars on either side
    ("add_scalar", [(3, 4)], lambda a: a + 2.5, lambda a: a + 2.5, None),
    ("rsub_scalar", [(3, 4)], lambda a: 2.5 - a, lambda a: 2.5 - a, None),
    ("sse_broadcast", [(3, 4), (3, 1)], lambda a, b: ((a - b) ** 2).sum() * 2,
     lambda a, b: F.sum_squared_error(a, b, 2.0), None),
    ("mul_scalar", [(3, 4)], lambda a: a * -1.5, lambda a: a * -1.5, None),
    ("rdiv_scalar", [(3, 4)], lambda a: 3.0 / a, lambda a: 3.0 / a, (0.5, 2.0)),
    ("pow_scalar", [(3, 4)], lambda a: a**3, lambda a: a**3, None),
    ("pow_half", [(3, 4)], lambda a: a**0.5, lambda a: a**0.5, (0.5, 2.0)),
    ("rpow_scalar", [(3, 4)], lambda a: 2.0**a, lambda a: 2.0**a, None),
    # elementwise, unary
    ("neg", [(3, 4)], lambda a: -a, lambda a: -a, None),
    ("exp", [(3, 4)], lambda a: a.exp(), lambda a: a.exp(), None),
    ("log", [(3, 4)], lambda a: a.log(), lambda a: a.log(), (0.1, 3.0)),
    ("sqrt", [(3, 4)], lambda a: a.sqrt(), lambda a: a.sqrt(), (0.1, 3.0)),
    ("abs", [(3, 4)], lambda a: a.abs(), lambda a: a.abs(), None),
    ("tanh", [(3, 4)], lambda a: a.tanh(), lambda a: a.tanh(), None),
    ("sigmoid", [(3, 4)], lambda a: a.sigmoid(), lambda a: a.sigmoid(), (-8.0, 8.0)),
    ("relu", [(3, 4)], lambda a: a.relu(), lambda a: a.relu(), None),
    ("leaky_relu", [(3, 4)], lambda a: T.nn.functional.leaky_relu(a, 0.1),
     lambda a: a.leaky_relu(0.1), None),
    ("clip", [(3, 4)], lambda a: a.clamp(-1.0, 0.5), lambda a: a.clip(-1.0, 0.5), None),
    ("clip_min", [(3, 4)], lambda a: a.clamp(min=-0.3), lambda a: a.clip(min=-0.3), None),
    ("where", [(3, 4), (3, 4)], lambda a, b: T.where(a > b, a, b * 2),
     lambda a, b: tg.where(a > b, a, b * 2), None),
    # reductions
    ("sum_all", [(3, 4)], lambda a: a.sum(), lambda a: a.sum(), None),
    ("sum_axis0", [(3, 4)], lambda a: a.sum(0), lambda a: a.sum(0), None),
    ("sum_neg_keep", [(2, 3, 4)], lambda a: a.sum(-1, keepdim=True),
     lambda a: a.sum(-1, keepdims=True), None),
    ("sum_tuple", [(2, 3, 4)], lambda a: a.sum((0, 2)), lambda a: a.sum((0, 2)), None),
    ("mean", [(2, 3, 4)], lambda a: a.mean(1), lambda a: a.mean(1), None),
    ("mean_all", [(2, 3)], lambda a: a.mean(), lambda a: a.mean(), None),
    ("max_all", [(3, 4)], lambda a: a.amax(), lambda a: a.max(), None),
    ("max_axis", [(3, 4)], lambda a: a.amax(1), lambda a: a.amax(1), None),
    ("max_tuple_keep", [(2, 3, 4)], lambda a: a.amax((0, 2), keepdim=True),
     lambda a: a.amax((0, 2), keepdim=True), None),
    ("min_axis", [(3, 4)], lambda a: a.amin(0), lambda a: a.amin(0), None),
    ("var", [(3, 4)], lambda a: a.var(1, correction=0), lambda a: a.var(axis=1), None),
    ("var_torch", [(3, 4)], lambda a: a.var(1), lambda a: a.var(1), None),
    ("var_ddof1", [(3, 4)], lambda a: a.var(), lambda a: a.var(ddof=1), None),
    ("var_default", [(3, 4)], lambda a: a.var(), lambda a: a.var(), None),
    ("std", [(3, 4)], lambda a: a.std(0, correction=0), lambda a: a.std(axis=0), None),
    ("std_unbiased", [(3, 4)], lambda a: a.std(dim=0, keepdim=True),
     lambda a: a.std(dim=0, keepdim=True), None),
    ("softmax", [(3, 5)], lambda a: a.softmax(-1), lambda a: a.softmax(-1), None),
    ("softmax_axis0", [(3, 5)], lambda a: a.softmax(0), lambda a: a.softmax(0), None),
    ("log_softmax", [(3, 5)], lambda a: a.log_softmax(1), lambda a: a.log_softmax(1), None),
    ("logsumexp", [(3, 5)], lambda a: a.logsumexp(1), lambda a: a.logsumexp(1), None),
    ("logsumexp_keep", [(2, 3, 4)], lambda a: a.logsumexp((0, 2), keepdim=True),
     lambda a: a.logsumexp((0, 2), keepdims=True), None),
    # movement
    ("reshape", [(3, 4)], lambda a: a.reshape(2, 6), lambda a: a.reshape(2, 6), None),
    ("reshape_neg", [(2, 3, 4)], lambda a: a.reshape(-1, 4), lambda a: a.reshape(-1, 4), None),
    ("T", [(3, 4)], lambda a: a.T, lambda a: a.T, None),
    ("transpose", [(2, 3, 4)], lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2), None),
    ("permute", [(2, 3, 4)], lambda a: a.permute(1, 2, 0), lambda a: a.permute(1, 2, 0), None),
    ("squeeze", [(3, 1, 4)], lambda a: a.squeeze(1), lambda a: a.squeeze(1), None),
    ("unsqueeze", [(3, 4)], lambda a: a.unsqueeze(-1), lambda a: a.unsqueeze(-1), None),
    ("expand", [(3, 1)], lambda a: a.expand(2, 3, 4), lambda a: a.expand(2, 3, 4), None),
    ("flatten", [(2, 3, 4)], lambda a: a.flatten(1), lambda a: a.flatten(1), None),
    ("getitem_slice", [(4, 5)], lambda a: a[1:3, ::2], lambda a: a[1:3, ::2], None),
    ("getitem_int", [(4, 5)], lambda a: a[2], lambda a: a[2], None),
    ("getitem_neg_ellipsis", [(2, 3, 4)], lambda a: a[..., -1], lambda a: a[..., -1], None),
    ("getitem_newaxis", [(3, 4)], lambda a: a[None, :, 1], lambda a: a[None, :, 1], None),
    ("getitem_repeated", [(4, 5)], lambda a: a[[0, 2, 0, 0]], lambda a: a[[0, 2, 0, 0]], None),
    ("getitem_pairs", [(4, 5)], lambda a: a[[0, 1, 1], [2, 2, 4]],
     lambda a: a[[0, 1, 1], [2, 2, 4]], None),
    ("getitem_bool", [(4, 5)], lambda a: a[a > 0], lambda a: a[a > 0], None),
    ("cat", [(2, 3), (4, 3)], lambda a, b: T.cat([a, b], 0), lambda a, b: tg.cat([a, b], 0),
     None),
    ("cat_axis1", [(2, 3), (2, 1)], lambda a, b: T.cat([a, b], 1),
     lambda a, b: tg.cat([a, b], -1), None),
    ("stack", [(2, 3), (2, 3)], lambda a, b: T.stack([a, b], 1),
     lambda a, b: tg.stack([a, b], 1), None),
    # products
    ("matmul_2d", [(3, 4), (4, 5)], lambda a, b: a @ b, lambda a, b: a @ b, None),
    ("matmul_vec_mat", [(4,), (4, 5)], lambda a, b: a @ b, lambda a, b: a @ b, None),
    ("matmul_mat_vec", [(3, 4), (4,)], lambda a, b: a @ b, lambda a, b: a @ b, None),
    ("matmul_dot", [(4,), (4,)], lambda a, b: a @ b, lambda a, b: a @ b, None),
    ("matmul_batched", [(2, 3, 4), (2, 4, 5)], lambda a, b: a @ b, lambda a, b: a @ b, None),
    ("matmul_broadcast", [(2, 3, 4), (4, 5)], lambda a, b: a @ b, lambda a, b: a @ b, None),
    ("matmul_vec_batched", [(4,), (2, 4, 5)], lambda a, b: a @ b, lambda a, b: a @ b, None),
    ("linear", [(5, 4), (3, 4), (3,)], lambda x, w, b: T.nn.functional.linear(x, w, b),
     lambda x, w, b: F.linear(x, w, b), None),
    ("linear_nobias", [(5, 4), (3, 4)], lambda x, w: T.nn.functional.linear(x, w),
     lambda x, w: F.linear(x, w), None),
    ("linear_batched", [(2, 5, 4), (3, 4), (3,)], lambda x, w, b: T.nn.functional.linear(x, w, b),
     lambda x, w, b: F.linear(x, w, b), None),
    ("linear_vector", [(4,), (3, 4), (3,)], lambda x, w, b: T.nn.functional.linear(x, w, b),
     lambda x, w, b: F.linear(x, w, b), None),
    # a composite, the shape of a training step
    ("mlp_step", [(5, 4), (3, 4), (3,), (5, 3)],
     lambda x, w, b, y: ((T.nn.functional.linear(x, w, b).sigmoid() - y) ** 2).sum() * 0.5,
     lambda x, w, b, y: ((F.linear(x, w, b).sigmoid() - y) ** 2).sum() * 0.5, None),
]


@pytest.mark.parametrize("name, shapes, torch_fn, tg_fn, bounds", CASES,
                         ids=[case[0] for case in CASES])
def test_op(name, shapes, torch_fn, tg_fn, bounds):
    low, high = bounds or (-2.0, 2.0)
    helper_test_op(shapes, torch_fn, tg_fn, low=low, high=high)


BROADCAST_SHAPES = [
    [(3, 1), (1, 4)],
    [(4,), (3, 4)],
    [(3, 4), (4,)],
    [(2, 1, 3), (4, 1)],
    [(), (2, 3)],
    [(2, 3), ()],
    [(1,), (5,)],
    [(5, 1, 1), (1, 4, 1), (1, 1, 3)],
]


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "where"])
def test_broadcasting(shapes, op):
    if len(shapes) == 3 and op != "add":
        shapes = shapes[:2]
    fns = {
        "add": (lambda *xs: sum(xs[1:], xs[0]),) * 2,
        "sub": (lambda a, b: a - b,) * 2,
        "mul": (lambda a, b: a * b,) * 2,
        "div": (lambda a, b: a / (b * b + 1),) * 2,
        "maximum": (lambda a, b: T.maximum(a, b), lambda a, b: a.maximum(b)),
        "where": (lambda a, b: T.where(a > 0, a, b), lambda a, b: tg.where(a > 0, a, b)),
    }
    torch_fn, tg_fn = fns[op]
    helper_test_op(shapes, torch_fn, tg_fn)


# --------------------------------------------------------------------------------------------
# kinks: exactly at 0 and at ties, PyTorch's conventions
# --------------------------------------------------------------------------------------------

KINKS = [
    ("relu_at_0", [np.array([-1.0, 0.0, 2.0])], lambda a: a.relu(), lambda a: a.relu()),
    ("abs_at_0", [np.array([-1.0, 0.0, 2.0])], lambda a: a.abs(), lambda a: a.abs()),
    ("leaky_relu_at_0", [np.array([-1.0, 0.0, 2.0])],
     lambda a: T.nn.functional.leaky_relu(a, 0.2), lambda a: a.leaky_relu(0.2)),
    ("max_ties", [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])], lambda a: a.amax(1),
     lambda a: a.amax(1)),
    ("max_ties_all", [np.array([[1.0, 3.0, 3.0], [2.0, 3.0, 2.0]])], lambda a: a.max(),
     lambda a: a.max()),
    ("min_ties", [np.array([[1.0, 1.0, 3.0]])], lambda a: a.amin(1), lambda a: a.amin(1)),
    ("maximum_ties", [np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])],
     lambda a, b: T.maximum(a, b), lambda a, b: a.maximum(b)),
    ("minimum_ties", [np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])],
     lambda a, b: T.minimum(a, b), lambda a, b: a.minimum(b)),
    ("clip_at_bounds", [np.array([-1.0, -0.5, 0.0, 0.5, 1.0])], lambda a: a.clamp(-0.5, 0.5),
     lambda a: a.clip(-0.5, 0.5)),
]


@pytest.mark.parametrize("name, arrays, torch_fn, tg_fn", KINKS, ids=[k[0] for k in KINKS])
def test_kinks_follow_pytorch(name, arrays, torch_fn, tg_fn):
    # central differences straddle the kink, so only PyTorch can be the reference here
    if torch is None:
        pytest.skip("torch is not installed")
    helper_test_op([a.shape for a in arrays], torch_fn, tg_fn, arrays=arrays, gradcheck=False)


def test_relu_and_abs_gradients_are_zero_at_zero():
    """The convention, checked without PyTorch."""
    x = tg.Tensor([0.0, 0.0], requires_grad=True)
    (x.relu().sum() + x.abs().sum()).backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_repeated_indices_accumulate():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_softmax_is_stable_for_large_inputs():
    x = tg.Tensor([[1000.0, 1000.0], [-1000.0, 0.0]], dtype=np.float64, requires_grad=True)
    s = x.softmax(-1)
    assert np.all(np.isfinite(s.data))
    np.testing.assert_allclose(s.data, [[0.5, 0.5], [0.0, 1.0]])
    ls = x.log_softmax(-1)
    np.testing.assert_allclose(ls.data, [[-np.log(2), -np.log(2)], [-1000.0, 0.0]])
    assert np.isfinite(x.logsumexp(1).data).all()
    assert x.logsumexp(1).data[0] == pytest.approx(1000.0 + np.log(2))


def test_logsumexp_of_all_minus_inf_is_minus_inf():
    x = tg.Tensor([[-np.inf, -np.inf]], dtype=np.float64)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer here
        assert x.logsumexp(1).data.tolist() == [-np.inf]


def test_sigmoid_is_the_exact_overflow_free_form_in_every_dtype():
    # the reference is written independently, in pure NumPy: e = exp(-|x|), then e / (1 + e)
    # below 0 and 1 / (1 + e) from 0 on (full precision in the tails, subnormals included)
    values = [-1000.0, -745.5, -700.0, -104.0, -100.0, -88.0, -20.0, -1e-310, -0.0, 0.0,
              1e-310, 0.5, 20.0, 700.0, 1000.0, np.inf, -np.inf, np.nan]
    for dtype in (np.float64, np.float32, np.float16):
        x = np.array(values).astype(dtype)
        with np.errstate(all="ignore"):
            e = np.exp(-np.abs(x))
            expected = np.where(x < 0, e / (1 + e), 1 / (1 + e)).astype(dtype)
        got = tg.Tensor(x).sigmoid().data
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, expected)
    for ints in (np.array([1, -2], np.int8), np.array([1, -2], np.int64), np.array([True])):
        got = tg.Tensor(ints).sigmoid().data  # integers and bools give float64, as before
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, 1 / (1 + np.exp(-ints.astype(np.float64))))


def test_sigmoid_saturates_without_overflow():
    with np.errstate(all="raise"):
        s = tg.Tensor([-1000.0, 0.0, 1000.0], dtype=np.float64).sigmoid()
    np.testing.assert_allclose(s.data, [0.0, 0.5, 1.0])


def test_comparisons_and_argmax_have_no_gradient():
    x = tg.Tensor([[1.0, 5.0], [7.0, 2.0]], requires_grad=True)
    for result in (x > 2, x <= 2, x == 5, x != 5, x.argmax(1), x.argmin()):
        assert not result.requires_grad
    assert (x > 2).dtype == np.bool_
    assert x.argmax(1).tolist() == [1, 0]


def test_fused_squared_error_equals_composed_form():
    rng = np.random.default_rng(5)
    for shapes in [((4, 3), (4, 3)), ((4, 3), (4, 1)), ((5,), ())]:
        a, b = (rng.standard_normal(s) for s in shapes)
        results = []
        for fn in (F.sum_squared_error, F.sum_squared_error_composed):
            x, y = tg.Tensor(a, requires_grad=True), tg.Tensor(b, requires_grad=True)
            out = fn(x, y, scale=0.37)
            out.backward()
            results.append((out.data, x.grad.data, y.grad.data))
        for fused, composed in zip(*results):
            np.testing.assert_allclose(fused, composed, rtol=1e-13, atol=1e-15)


def test_fused_squared_error_against_torch_and_numerically():
    helper_test_op([(4, 3), (4, 3)],
                   lambda a, b: 0.5 * ((a - b) ** 2).sum(),
                   lambda a, b: F.sum_squared_error(a, b, scale=0.5))
