"""Property tests over shapes of any rank: broadcasting, reductions, movement."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes
from op_helpers import torch

import tinygrad_nn as tg

BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / (b * b + 1.0), lambda a, b: a / (b * b + 1.0)),
    "maximum": (lambda a, b: a.maximum(b), lambda a, b: torch.maximum(a, b)),
    "logaddexp": (lambda a, b: a.logaddexp(b), lambda a, b: torch.logaddexp(a, b)),
}

# ops along one axis (issue #12): (tinygrad, torch) given the tensor and a valid axis
ALONG_AXIS = {
    "cumsum": (lambda t, d: t.cumsum(dim=d), lambda t, d: t.cumsum(dim=d)),
    "prod": (lambda t, d: t.prod(d), lambda t, d: t.prod(d)),
    "flip": (lambda t, d: t.flip(d) * t, lambda t, d: t.flip(d) * t),
    "roll": (lambda t, d: t.roll(2, d), lambda t, d: t.roll(2, d)),
    "norm": (lambda t, d: t.norm(dim=d), lambda t, d: t.norm(dim=d)),
    "max_values": (lambda t, d: t.max(dim=d).values, lambda t, d: t.max(dim=d).values),
    "chunk": (lambda t, d: t.chunk(2, d)[-1], lambda t, d: t.chunk(2, d)[-1]),
    "repeat": (lambda t, d: t.repeat(*[2 if i == d else 1 for i in range(t.ndim)]),
               lambda t, d: t.repeat(*[2 if i == d else 1 for i in range(t.ndim)])),
}


def _values(shape, seed):
    # distinct, non-zero, uneven values: ties and zeros would hide wrong gradients
    rng = np.random.default_rng(seed)
    return np.asarray(rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape))


def _check(tg_fn, torch_fn, arrays, numeric=True):
    ts = [tg.Tensor(a, requires_grad=True) for a in arrays]
    out = tg_fn(*ts)
    v = np.random.default_rng(7).standard_normal(out.shape)
    out.backward(v)
    for t in ts:
        assert t.grad.shape == t.shape
    if torch is not None:
        ps = [torch.tensor(a, requires_grad=True) for a in arrays]
        expected = torch_fn(*ps)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
        expected.backward(torch.tensor(v))
        for t, p in zip(ts, ps):
            np.testing.assert_allclose(t.grad.data, p.grad.numpy(), rtol=1e-10, atol=1e-12)
    if numeric:
        tg.gradcheck(tg_fn, *[tg.Tensor(a, requires_grad=True) for a in arrays])


@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3),
       op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_binary_ops_broadcast_any_rank(shapes, op, seed):
    tg_fn, torch_fn = BINARY[op]
    a, b = (_values(s, seed + i) for i, s in enumerate(shapes.input_shapes))
    _check(tg_fn, torch_fn, [a, b], numeric=a.size + b.size <= 40)


@given(shape=array_shapes(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_sum_and_max_over_any_axes(shape, data):
    ndim = len(shape)
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, ndim - 1), max_size=ndim))))
    keepdims = data.draw(st.booleans())
    x = _values(shape, data.draw(st.integers(0, 1000)))
    dims = axes if axes else None
    _check(lambda t: t.sum(axis=dims, keepdims=keepdims),
           lambda t: t.sum(dim=dims, keepdim=keepdims) if dims else
           (t.sum().reshape([1] * ndim) if keepdims else t.sum()), [x], numeric=x.size <= 40)
    _check(lambda t: t.max(axis=dims, keepdims=keepdims),
           lambda t: t.amax(dim=dims if dims else tuple(range(ndim)), keepdim=keepdims), [x],
           numeric=False)


@given(shape=array_shapes(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_permute_reshape_and_getitem(shape, data):
    x = _values(shape, data.draw(st.integers(0, 1000)))
    order = data.draw(st.permutations(range(len(shape))))
    _check(lambda t: t.permute(*order).reshape(-1) * 2.0,
           lambda t: t.permute(*order).reshape(-1) * 2.0, [x], numeric=False)
    index = data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=6))
    _check(lambda t: t[index], lambda t: t[index], [x], numeric=False)


@given(batch=array_shapes(min_dims=0, max_dims=2, max_side=3),
       n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4), seed=st.integers(0, 99))
def test_matmul_batched(batch, n, k, m, seed):
    a = _values(batch + (n, k), seed)
    b = _values((k, m), seed + 1)
    _check(lambda x, y: x @ y, lambda x, y: x @ y, [a, b], numeric=a.size + b.size <= 40)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_rows_sum_to_one(axis):
    x = tg.randn(4, 5, 3, dtype=np.float64)
    np.testing.assert_allclose(x.softmax(axis).sum(axis).data, 1.0)


@given(shape=array_shapes(min_dims=1, max_dims=4, max_side=4), op=st.sampled_from(sorted(
    ALONG_AXIS)), data=st.data())
def test_ops_along_any_axis(shape, op, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = _values(shape, data.draw(st.integers(0, 1000)))
    tg_fn, torch_fn = ALONG_AXIS[op]
    _check(lambda t: tg_fn(t, axis), lambda t: torch_fn(t, axis), [x], numeric=x.size <= 24)


# issue #12's ops that take shapes and arguments beyond one axis

@given(shape=array_shapes(min_dims=2, max_dims=4, max_side=4), diagonal=st.integers(-3, 3),
       upper=st.booleans(), seed=st.integers(0, 999))
def test_tril_triu_any_shape_and_diagonal(shape, diagonal, upper, seed):
    name = "triu" if upper else "tril"
    _check(lambda t: getattr(t, name)(diagonal) * t, lambda t: getattr(t, name)(diagonal) * t,
           [_values(shape, seed)], numeric=False)


@given(shape=array_shapes(min_dims=1, max_dims=4, max_side=4), reflect=st.booleans(),
       data=st.data())
def test_pad_constant_and_reflect(shape, reflect, data):
    dims = data.draw(st.integers(1, min(2, len(shape))))
    pads = []
    for side in reversed(shape[-dims:]):  # PyTorch's order: last dimension first
        top = side - 1 if reflect else 3  # reflect needs a pad smaller than the side
        pads += [data.draw(st.integers(0, top)), data.draw(st.integers(0, top))]
    mode = "reflect" if reflect else "constant"
    if reflect:  # torch's reflect takes one or two leading (batch, channel) dimensions, no more
        shape = (2,) * data.draw(st.integers(1, 2)) + tuple(shape[-dims:])
    x = _values(shape, data.draw(st.integers(0, 999)))
    _check(lambda t: tg.nn.functional.pad(t, pads, mode=mode),
           lambda t: torch.nn.functional.pad(t, pads, mode=mode), [x], numeric=x.size <= 24)


EINSUM = {
    "bij,bjk->bik": lambda b, n, k, m: [(b, n, k), (b, k, m)],
    "i,j->ij": lambda b, n, k, m: [(n,), (m,)],
    "ii->": lambda b, n, k, m: [(n, n)],
    "ij->j": lambda b, n, k, m: [(n, k)],
    "bi,bi->b": lambda b, n, k, m: [(b, n), (b, n)],
}


@given(spec=st.sampled_from(sorted(EINSUM)), sizes=st.tuples(*[st.integers(1, 4)] * 4),
       seed=st.integers(0, 999))
def test_einsum_contractions(spec, sizes, seed):
    arrays = [_values(s, seed + i) for i, s in enumerate(EINSUM[spec](*sizes))]
    _check(lambda *t: tg.einsum(spec, *t), lambda *t: torch.einsum(spec, *t), arrays,
           numeric=sum(a.size for a in arrays) <= 30)
