"""NumPy dispatch on Tensor (NEP 13 ufuncs, NEP 18 functions): plain NumPy code records a graph.

Every entry of numpy_dispatch's two tables has a case here (a test checks the coverage), each
checked against PyTorch and central differences in float64 by ``helper_test_op``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from op_helpers import helper_test_op, torch

import tinygrad_nn as tg
from tinygrad_nn import numpy_dispatch
from tinygrad_nn.numpy_dispatch import NotDifferentiableError

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
T = torch

# (NumPy callable, shapes, NumPy call on Tensors, torch equivalent, input range)
UFUNC_CASES = [
    (np.add, [(3, 4), (4,)], lambda x, y: np.add(x, y), lambda x, y: x + y, (-2, 2)),
    (np.subtract, [(3, 4), (3, 1)], lambda x, y: np.subtract(x, y), lambda x, y: x - y, (-2, 2)),
    (np.multiply, [(3, 4), (3, 4)], lambda x, y: np.multiply(x, y), lambda x, y: x * y, (-2, 2)),
    (np.true_divide, [(3, 4), (4,)], lambda x, y: np.divide(x, y), lambda x, y: x / y, (0.5, 2)),
    (np.power, [(3, 4), (3, 4)], lambda x, y: np.power(x, y), lambda x, y: x ** y, (0.5, 2)),
    (np.matmul, [(3, 4), (4, 2)], lambda x, y: np.matmul(x, y), lambda x, y: x @ y, (-2, 2)),
    (np.maximum, [(3, 4), (4,)], lambda x, y: np.maximum(x, y), T and T.maximum, (-2, 2)),
    (np.minimum, [(3, 4), (3, 4)], lambda x, y: np.minimum(x, y), T and T.minimum, (-2, 2)),
    (np.negative, [(3, 4)], np.negative, lambda x: -x, (-2, 2)),
    (np.positive, [(3, 4)], np.positive, lambda x: +x, (-2, 2)),
    (np.exp, [(3, 4)], np.exp, T and T.exp, (-2, 2)),
    (np.exp2, [(3, 4)], np.exp2, T and T.exp2, (-2, 2)),
    (np.expm1, [(3, 4)], np.expm1, T and T.expm1, (-2, 2)),
    (np.log, [(3, 4)], np.log, T and T.log, (0.5, 2)),
    (np.log2, [(3, 4)], np.log2, T and T.log2, (0.5, 2)),
    (np.log10, [(3, 4)], np.log10, T and T.log10, (0.5, 2)),
    (np.log1p, [(3, 4)], np.log1p, T and T.log1p, (0.5, 2)),
    (np.sqrt, [(3, 4)], np.sqrt, T and T.sqrt, (0.5, 2)),
    (np.square, [(3, 4)], np.square, T and T.square, (-2, 2)),
    (np.reciprocal, [(3, 4)], np.reciprocal, T and T.reciprocal, (0.5, 2)),
    (np.absolute, [(3, 4)], np.abs, T and T.abs, (-2, 2)),
    (np.fabs, [(3, 4)], np.fabs, T and T.abs, (-2, 2)),
    (np.tanh, [(3, 4)], np.tanh, T and T.tanh, (-2, 2)),
    (np.logaddexp, [(3, 4), (4,)], np.logaddexp, T and T.logaddexp, (-2, 2)),
    (np.sin, [(3, 4)], np.sin, T and T.sin, (-2, 2)),
    (np.cos, [(3, 4)], np.cos, T and T.cos, (-2, 2)),
    (np.tan, [(3, 4)], np.tan, T and T.tan, (-1, 1)),
    (np.sinh, [(3, 4)], np.sinh, T and T.sinh, (-2, 2)),
    (np.cosh, [(3, 4)], np.cosh, T and T.cosh, (-2, 2)),
]

FUNCTION_CASES = [
    (np.sum, [(3, 4)], lambda x: np.sum(x, axis=0), lambda x: x.sum(0)),
    (np.mean, [(3, 4)], lambda x: np.mean(x, axis=1, keepdims=True),
     lambda x: x.mean(1, keepdim=True)),
    (np.var, [(3, 4)], lambda x: np.var(x, axis=0), lambda x: x.var(0, unbiased=False)),
    (np.std, [(3, 4)], lambda x: np.std(x, axis=1, ddof=1), lambda x: x.std(1)),
    (np.max, [(3, 4)], lambda x: np.max(x, axis=1, keepdims=True),
     lambda x: x.amax(1, keepdim=True)),
    (np.amax, [(3, 4)], np.amax, T and T.amax),
    (np.min, [(3, 4)], lambda x: np.min(x, axis=0), lambda x: x.amin(0)),
    (np.amin, [(3, 4)], np.amin, T and T.amin),
    (np.dot, [(3, 4), (4, 2)], np.dot, T and T.matmul),
    (np.outer, [(3,), (4,)], np.outer, T and T.outer),
    (np.reshape, [(3, 4)], lambda x: np.reshape(x, (2, 6)), lambda x: x.reshape(2, 6)),
    (np.ravel, [(3, 4)], np.ravel, lambda x: x.reshape(-1)),
    (np.transpose, [(2, 3, 4)], lambda x: np.transpose(x, (2, 0, 1)),
     lambda x: x.permute(2, 0, 1)),
    (np.swapaxes, [(2, 3, 4)], lambda x: np.swapaxes(x, 0, 2), lambda x: x.transpose(0, 2)),
    (np.moveaxis, [(2, 3, 4)], lambda x: np.moveaxis(x, 0, -1), lambda x: x.movedim(0, -1)),
    (np.squeeze, [(3, 1, 4)], np.squeeze, T and T.squeeze),
    (np.expand_dims, [(3, 4)], lambda x: np.expand_dims(x, 1), lambda x: x.unsqueeze(1)),
    (np.broadcast_to, [(3, 1)], lambda x: np.broadcast_to(x, (2, 3, 4)),
     lambda x: x.expand(2, 3, 4)),
    (np.concatenate, [(3, 4), (2, 4)], lambda x, y: np.concatenate([x, y]),
     lambda x, y: T.cat([x, y])),
    (np.stack, [(3, 4), (3, 4)], lambda x, y: np.stack([x, y], axis=1),
     lambda x, y: T.stack([x, y], 1)),
    (np.vstack, [(4,), (2, 4)], lambda x, y: np.vstack([x, y]),
     lambda x, y: T.vstack([x, y])),
    (np.hstack, [(3, 2), (3, 4)], lambda x, y: np.hstack([x, y]),
     lambda x, y: T.hstack([x, y])),
    (np.where, [(3, 4), (3, 4)], lambda x, y: np.where(x > 0, x, y),
     lambda x, y: T.where(x > 0, x, y)),
    (np.clip, [(3, 4)], lambda x: np.clip(x, -1.0, 1.0), lambda x: x.clamp(-1.0, 1.0)),
    (np.copy, [(3, 4)], np.copy, lambda x: x.clone()),
    (np.prod, [(3, 4)], lambda x: np.prod(x, axis=1, keepdims=True),
     lambda x: x.prod(1, keepdim=True)),
    (np.cumsum, [(3, 4)], lambda x: np.cumsum(x, axis=1), lambda x: x.cumsum(1)),
    (np.linalg.norm, [(3, 4)], lambda x: np.linalg.norm(x, axis=1),
     lambda x: T.linalg.vector_norm(x, dim=1)),
    (np.einsum, [(3, 4), (4, 5)], lambda x, y: np.einsum("ij,jk->ik", x, y),
     lambda x, y: T.einsum("ij,jk->ik", x, y)),
    (np.tril, [(4, 4)], lambda x: np.tril(x, -1), lambda x: T.tril(x, -1)),
    (np.triu, [(4, 4)], np.triu, T and T.triu),
    (np.diagonal, [(3, 4)], lambda x: np.diagonal(x, 1), lambda x: T.diagonal(x, 1)),
    (np.diag, [(4,)], np.diag, T and T.diag),
    (np.trace, [(4, 4)], np.trace, T and T.trace),
    (np.flip, [(3, 4)], lambda x: np.flip(x, 1), lambda x: T.flip(x, (1,))),
    (np.roll, [(3, 4)], lambda x: np.roll(x, 2, axis=1), lambda x: T.roll(x, 2, 1)),
    (np.split, [(4, 3)], lambda x: np.split(x, [1, 3])[1] * np.split(x, 2)[0],
     lambda x: T.split(x, [1, 2, 1])[1] * T.split(x, 2)[0]),
    (np.pad, [(2, 3, 4)], lambda x: np.pad(x, ((0, 0), (1, 2), (2, 1))),
     lambda x: T.nn.functional.pad(x, (2, 1, 1, 2))),
    (np.zeros_like, [(3, 4)], lambda x: x * 2 + np.zeros_like(x), lambda x: x * 2),
    (np.ones_like, [(3, 4)], lambda x: x * np.ones_like(x), lambda x: x * 1),
    (np.empty_like, [(3, 4)], lambda x: x + np.empty_like(x) * 0, lambda x: x * 1),
    (np.full_like, [(3, 4)], lambda x: x * np.full_like(x, 3.0), lambda x: x * 3),
]


@pytest.mark.parametrize("case", UFUNC_CASES, ids=lambda c: c[0].__name__)
def test_ufunc_matches_torch_and_central_differences(case):
    _, shapes, np_fn, torch_fn, (low, high) = case
    helper_test_op(shapes, torch_fn, np_fn, low=low, high=high)


@pytest.mark.parametrize("case", FUNCTION_CASES, ids=lambda c: c[0].__name__)
def test_function_matches_torch_and_central_differences(case):
    _, shapes, np_fn, torch_fn = case
    helper_test_op(shapes, torch_fn, np_fn)


def test_every_table_entry_has_a_case():
    ufuncs = {c[0] for c in UFUNC_CASES}
    functions = {c[0] for c in FUNCTION_CASES}
    differentiable = set(numpy_dispatch.UFUNCS) - set(numpy_dispatch.CONSTANTS)
    assert differentiable == ufuncs
    assert set(numpy_dispatch.FUNCTIONS) == functions


# --------------------------------------------------------------------------------------------
# a learner's plain-NumPy code, unchanged
# --------------------------------------------------------------------------------------------


def two_layer_loss(x, w1, b1, w2, b2, gamma, y):
    """A learner's forward written for ndarrays: affine, layernorm, tanh, relu, softmax loss."""
    h = x.dot(w1) + b1
    mu = np.mean(h, axis=1, keepdims=True)
    var = np.var(h, axis=1, keepdims=True)
    h = gamma * (h - mu) / np.sqrt(var + 1e-5)
    h = np.maximum(0, np.tanh(h) + 0.1 * h)
    scores = np.dot(h, w2) + b2
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = x.shape[0]
    return -np.sum(log_probs[np.arange(n), y]) / n


def _learner_inputs():
    rng = np.random.default_rng(3)
    shapes = [(5, 4), (4, 6), (6,), (6, 3), (3,), (6,)]
    return [rng.uniform(-1.5, 1.5, size=s) for s in shapes], np.array([0, 2, 1, 2, 0])


def test_plain_numpy_function_records_a_graph_checked_by_gradcheck():
    arrays, y = _learner_inputs()
    ts = [tg.Tensor(a, requires_grad=True) for a in arrays]
    loss = two_layer_loss(*ts, y)
    assert isinstance(loss, tg.Tensor) and loss.requires_grad
    np.testing.assert_allclose(loss.data, two_layer_loss(*arrays, y), rtol=1e-14)
    tg.gradcheck(lambda *t: two_layer_loss(*t, y), *ts)


@needs_torch
def test_plain_numpy_function_gradients_match_torch():
    arrays, y = _learner_inputs()
    ts = [tg.Tensor(a, requires_grad=True) for a in arrays]
    two_layer_loss(*ts, y).backward()
    pts = [torch.tensor(a, requires_grad=True) for a in arrays]
    h = pts[0] @ pts[1] + pts[2]
    h = pts[5] * (h - h.mean(1, keepdim=True)) / torch.sqrt(h.var(1, unbiased=False,
                                                                  keepdim=True) + 1e-5)
    h = torch.clamp(torch.tanh(h) + 0.1 * h, min=0)
    log_probs = torch.log_softmax(h @ pts[3] + pts[4], dim=1)
    (-log_probs[torch.arange(5), torch.tensor(y)].mean()).backward()
    for t, p in zip(ts, pts):
        np.testing.assert_allclose(t.grad.data, p.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_ndarray_on_the_left_records_the_op():
    x = tg.Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    for y in (np.array([3.0, 4.0]) * x, np.float64(3.0) * x, np.array([1.0, 1.0]) - x):
        assert isinstance(y, tg.Tensor) and y.requires_grad


# --------------------------------------------------------------------------------------------
# in place into ndarrays: micrograd's update
# --------------------------------------------------------------------------------------------


def test_micrograd_update_writes_into_data_and_records_nothing():
    p = tg.Tensor([1.0, -2.0, 3.0], dtype=np.float64, requires_grad=True)
    (p * p).sum().backward()
    data = p.data
    p.data += -0.1 * p.grad
    assert p.data is data and isinstance(p.data, np.ndarray)
    np.testing.assert_allclose(p.data, [0.8, -1.6, 2.4])
    assert p.is_leaf and p.grad_fn is None


def test_ufunc_out_into_ndarray_and_refuses_a_tensor_out():
    x = tg.Tensor([1.0, 4.0], dtype=np.float64, requires_grad=True)
    buffer = np.zeros(2)
    result = np.sqrt(x, out=buffer)
    assert result is buffer and buffer.tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match=r"np.sqrt: out= cannot be a Tensor"):
        np.sqrt(buffer, out=(x,))


# --------------------------------------------------------------------------------------------
# never a wrong gradient: unsupported calls raise, queries carry no gradient
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call, name", [
    (lambda x: np.arcsin(x), "np.arcsin"),
    (lambda x: np.cumprod(x, axis=0), "np.cumprod"),
    (lambda x: np.add.reduce(x), "np.add.reduce"),
    (lambda x: np.linalg.det(x[:, :2]), "np.linalg.det"),
    (lambda x: np.linalg.norm(x, 2), "np.linalg.norm"),
    (lambda x: np.sum(x, dtype=np.float32), "np.sum"),
    (lambda x: np.exp(x, where=np.ones((2, 3), bool)), "np.exp"),
    (lambda x: np.dot(x.T, np.ones((2, 3, 4))), "np.dot"),
    (lambda x: np.pad(x, 1, mode="reflect"), "np.pad"),
])
def test_unsupported_call_on_a_tensor_that_needs_grad_names_the_function(call, name):
    x = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(NotDifferentiableError, match=name.replace(".", r"\.")) as info:
        call(x)
    message = str(info.value)
    if "is not differentiable" in message:  # the alternatives: differentiable ones only
        assert "np.tanh" in message and "np.arcsin," not in message and "np.greater" not in message
    elif name == "np.sum":
        assert "supported: np.sum(a, axis=None, keepdims=False)" in message


def test_unsupported_call_without_grad_runs_on_the_arrays():
    x = tg.Tensor(np.array([0.5, 1.0]))
    np.testing.assert_allclose(np.arcsin(x), np.arcsin([0.5, 1.0]))
    with tg.no_grad():
        y = tg.Tensor(np.array([0.5, 2.0]), requires_grad=True)
        np.testing.assert_allclose(np.cumprod(y), [0.5, 1.0])


def test_queries_and_comparisons_carry_no_gradient():
    x = tg.Tensor(np.array([[1.0, -2.0], [3.0, 0.0]]), requires_grad=True)
    assert np.shape(x) == (2, 2) and np.ndim(x) == 2 and np.size(x) == 4
    assert np.argmax(x, axis=1).tolist() == [0, 0]
    assert np.allclose(x, x.data) and np.isclose(x, x).all()
    for mask in (x > 0, np.greater(x, 0), np.isnan(x), np.sign(x)):
        assert isinstance(mask, tg.Tensor) and not mask.requires_grad
    assert np.where(x > 0)[1].tolist() == [0, 0]


def test_tracing_refuses_to_turn_a_tensor_that_needs_grad_into_an_ndarray():
    x = tg.Tensor(np.ones(3), requires_grad=True)
    assert np.asarray(x) is x.data  # outside tracing, as before
    out = np.zeros(3)
    with numpy_dispatch.tracing():
        with pytest.raises(NotDifferentiableError, match="converted to an ndarray"):
            np.asarray(x * 2)
        with pytest.raises(ValueError) as info:  # NumPy wraps float()'s error in its own
            out[0] = (x * 2)[0]
        assert isinstance(info.value.__cause__, NotDifferentiableError)
        with pytest.raises(NotDifferentiableError, match="cuts it from the graph"):
            out[:2] = (x * 2)[:2]
        np.asarray(x.detach())  # a tensor that records nothing may convert


def test_dot_semantics_match_numpy():
    rng = np.random.default_rng(0)
    for a, b in [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
                 ((2, 2, 3), (3, 4)), ((), (3,))]:
        x, y = rng.standard_normal(a), rng.standard_normal(b)
        result = np.dot(tg.Tensor(x), tg.Tensor(y))
        np.testing.assert_allclose(result.data, np.dot(x, y), rtol=1e-13)
        np.testing.assert_allclose(tg.Tensor(x).dot(y).data if x.ndim else result.data,
                                   np.dot(x, y), rtol=1e-13)


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_reductions_with_axis_and_keepdims_match_numpy(shape, data):
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    keepdims = data.draw(st.booleans())
    x = np.random.default_rng(len(shape)).uniform(-2, 2, size=shape)
    for f in (np.sum, np.mean, np.max, np.min, np.var):
        t = tg.Tensor(x, requires_grad=True)
        result = f(t, axis=axis, keepdims=keepdims)
        np.testing.assert_allclose(result.data, f(x, axis=axis, keepdims=keepdims), rtol=1e-12)
        tg.gradcheck(lambda u, f=f: f(u, axis=axis, keepdims=keepdims), t)


# --------------------------------------------------------------------------------------------
# t[index] = value, recorded (CS231n's margins[np.arange(N), y] = 0 and dx[..., y] -= 1)
# --------------------------------------------------------------------------------------------


def _setitem_program(x, w, lib):
    """Writes into intermediates that ops have already used: those ops keep the old values."""
    h = x * 1.5
    used_before = h * 3.0  # records h's value before the writes below
    h[np.arange(2), [0, 2]] -= 1.0  # getitem, subtract, setitem
    h[:, 0] = w * 2.0  # a value that needs a gradient too
    h[h.data > 1.0 if lib == "tg" else h.detach() > 1.0] = 0.0  # a boolean mask
    return (used_before * used_before).sum() + (h * h * h).sum()


def test_setitem_gradients_match_torch_and_central_differences():
    x0, w0 = np.random.default_rng(5).uniform(-2, 2, (2, 3)), np.array([0.3, -0.7])
    x, w = tg.Tensor(x0, requires_grad=True), tg.Tensor(w0, requires_grad=True)
    _setitem_program(x, w, "tg").backward()
    if torch is None:  # (with torch, gradcheck's many writes are slow: each scans a big heap)
        tg.gradcheck(lambda a, b: _setitem_program(a, b, "tg"),
                     tg.Tensor(x0, requires_grad=True), tg.Tensor(w0, requires_grad=True))
        return
    px, pw = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    _setitem_program(px, pw, "torch").backward()
    np.testing.assert_allclose(x.grad.data, px.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.data, pw.grad.numpy(), rtol=1e-12)


def test_setitem_into_a_constant_tensor_and_refusals():
    x = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    d = np.zeros_like(x)
    d[x > 2] = 1.0  # a constant Tensor written with a Tensor mask
    assert d.tolist() == [[0, 0, 0], [1, 1, 1]] and not d.requires_grad
    with pytest.raises(RuntimeError, match="a leaf Tensor of shape \\(2, 3\\) that requires grad"):
        x[0, 0] = 1.0
    h = x * 1.0
    with pytest.raises(ValueError, match="names some elements more than once"):
        h[[0, 0], [1, 1]] = 5.0
    with pytest.raises(ValueError, match=r"value of shape \(4,\) cannot be written"):
        h[0] = np.ones(4)
