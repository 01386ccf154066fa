"""The ops PyTorch users reach for (issue #12): forward, backward and double backward against
PyTorch in float64, and central differences. One call per op case."""

from __future__ import annotations

import numpy as np
import pytest
from op_helpers import helper_test_op, torch

import tinygrad_nn as tg
import tinygrad_nn.nn.functional as F

T = torch
TF = None if torch is None else torch.nn.functional
IDX = np.array([[2, 0, 1, 1], [0, 2, 2, 1]])  # gather indices for a (3, 4) input along dim 0

# (id, shapes, torch function, tinygrad function, input range)
CASES = [
    # elementwise
    ("sin", [(3, 4)], lambda a: a.sin(), lambda a: a.sin(), None),
    ("cos", [(3, 4)], lambda a: a.cos(), lambda a: a.cos(), None),
    ("tan", [(3, 4)], lambda a: a.tan(), lambda a: a.tan(), (-1.2, 1.2)),
    ("sinh", [(3, 4)], lambda a: a.sinh(), lambda a: a.sinh(), None),
    ("cosh", [(3, 4)], lambda a: a.cosh(), lambda a: a.cosh(), None),
    ("log1p", [(3, 4)], lambda a: a.log1p(), lambda a: a.log1p(), (-0.9, 2.0)),
    ("expm1", [(3, 4)], lambda a: a.expm1(), lambda a: a.expm1(), None),
    ("log2", [(3, 4)], lambda a: a.log2(), lambda a: a.log2(), (0.1, 3.0)),
    ("log10", [(3, 4)], lambda a: a.log10(), lambda a: a.log10(), (0.1, 3.0)),
    ("erf", [(3, 4)], lambda a: a.erf(), lambda a: a.erf(), None),
    ("softplus", [(3, 4)], lambda a: TF.softplus(a), lambda a: F.softplus(a), (-30.0, 30.0)),
    ("softplus_beta", [(3, 4)], lambda a: TF.softplus(a, beta=2.0, threshold=3.0),
     lambda a: F.softplus(a, beta=2.0, threshold=3.0), None),
    ("elu", [(3, 4)], lambda a: TF.elu(a, 0.7), lambda a: F.elu(a, 0.7), None),
    ("gelu", [(3, 4)], lambda a: TF.gelu(a), lambda a: F.gelu(a), (-4.0, 4.0)),
    ("gelu_tanh", [(3, 4)], lambda a: TF.gelu(a, approximate="tanh"),
     lambda a: F.gelu(a, approximate="tanh"), (-4.0, 4.0)),
    ("silu", [(3, 4)], lambda a: TF.silu(a), lambda a: F.silu(a), None),
    ("mish", [(3, 4)], lambda a: TF.mish(a), lambda a: F.mish(a), None),
    ("sign", [(3, 4)], lambda a: a.sign() * a, lambda a: a.sign() * a, None),
    ("floor", [(3, 4)], lambda a: a.floor() + a, lambda a: a.floor() + a, None),
    ("ceil", [(3, 4)], lambda a: a.ceil() * a, lambda a: a.ceil() * a, None),
    ("round", [(3, 4)], lambda a: a.round() * a, lambda a: a.round() * a, None),
    ("logaddexp", [(3, 4), (3, 4)], lambda a, b: T.logaddexp(a, b),
     lambda a, b: tg.logaddexp(a, b), None),
    ("logaddexp_bcast", [(3, 4), (4,)], lambda a, b: T.logaddexp(a, b),
     lambda a, b: a.logaddexp(b), None),
    ("square", [(3, 4)], lambda a: a.square(), lambda a: a.square(), None),
    ("pow_method", [(3, 4)], lambda a: a.pow(3), lambda a: a.pow(3), None),
    # reductions
    ("prod_all", [(2, 3)], lambda a: a.prod(), lambda a: a.prod(), None),
    ("prod_dim", [(3, 5)], lambda a: a.prod(1), lambda a: a.prod(1), None),
    ("prod_keepdim", [(3, 5, 2)], lambda a: a.prod(dim=1, keepdim=True),
     lambda a: a.prod(dim=1, keepdim=True), None),
    ("cumsum", [(3, 4)], lambda a: a.cumsum(1), lambda a: a.cumsum(1), None),
    ("cumsum_dim0", [(3, 4)], lambda a: a.cumsum(dim=0) * a, lambda a: a.cumsum(dim=0) * a,
     None),
    ("norm_fro", [(3, 4)], lambda a: a.norm(), lambda a: a.norm(), None),
    ("norm_2_dim", [(3, 4)], lambda a: a.norm(2, dim=1), lambda a: a.norm(2, dim=1), None),
    ("norm_1", [(3, 4)], lambda a: a.norm(1, dim=0, keepdim=True),
     lambda a: a.norm(1, dim=0, keepdim=True), None),
    ("norm_inf", [(3, 4)], lambda a: a.norm(float("inf"), dim=1),
     lambda a: a.norm(float("inf"), dim=1), None),
    ("norm_3", [(3, 4)], lambda a: a.norm(3), lambda a: a.norm(3), None),
    ("sum_dim", [(2, 3, 4)], lambda a: a.sum(dim=(0, 2), keepdim=True),
     lambda a: a.sum(dim=(0, 2), keepdim=True), None),
    ("mean_dim", [(2, 3, 4)], lambda a: a.mean(dim=1), lambda a: a.mean(dim=1), None),
    ("max_dim_values", [(3, 4)], lambda a: a.max(dim=1).values, lambda a: a.max(dim=1).values,
     None),
    ("min_dim_keepdim", [(3, 4)], lambda a: a.min(0, keepdim=True)[0],
     lambda a: a.min(0, keepdim=True)[0], None),
    ("max_binary", [(3, 4), (3, 4)], lambda a, b: a.max(b), lambda a, b: a.max(b), None),
    ("logsumexp_dim", [(3, 4)], lambda a: a.logsumexp(dim=1), lambda a: a.logsumexp(dim=1),
     None),
    ("softmax_dim", [(3, 4)], lambda a: a.softmax(dim=0), lambda a: a.softmax(dim=0), None),
    # movement
    ("flip", [(3, 4)], lambda a: a.flip(0) * a, lambda a: a.flip(0) * a, None),
    ("flip_dims", [(2, 3, 4)], lambda a: a.flip((0, 2)), lambda a: a.flip((0, 2)), None),
    ("roll", [(3, 4)], lambda a: a.roll(1, 1) * a, lambda a: a.roll(1, 1) * a, None),
    ("roll_flat", [(3, 4)], lambda a: a.roll(-5), lambda a: a.roll(-5), None),
    ("roll_two", [(3, 4)], lambda a: a.roll((2, -1), (0, 1)), lambda a: a.roll((2, -1), (0, 1)),
     None),
    ("repeat", [(2, 3)], lambda a: a.repeat(2, 1, 3), lambda a: a.repeat(2, 1, 3), None),
    ("tile", [(2, 3)], lambda a: a.tile((2,)), lambda a: a.tile((2,)), None),
    ("pad_constant", [(2, 3)], lambda a: TF.pad(a, (1, 2)), lambda a: F.pad(a, (1, 2)), None),
    ("pad_value_2d", [(2, 3)], lambda a: TF.pad(a, (1, 0, 2, 1), value=0.5),
     lambda a: F.pad(a, (1, 0, 2, 1), value=0.5), None),
    ("pad_reflect", [(2, 4)], lambda a: TF.pad(a, (2, 1), mode="reflect"),
     lambda a: F.pad(a, (2, 1), mode="reflect"), None),
    ("pad_crop", [(2, 5)], lambda a: TF.pad(a, (-1, 2)), lambda a: F.pad(a, (-1, 2)), None),
    ("split", [(5, 3)], lambda a: a.split(2)[2] * 2 + a.split(2)[0].sum(),
     lambda a: a.split(2)[2] * 2 + a.split(2)[0].sum(), None),
    ("split_sizes", [(3, 5)], lambda a: T.cat(a.split([1, 4], 1)[::-1], 1),
     lambda a: tg.cat(a.split([1, 4], 1)[::-1], 1), None),
    ("chunk", [(5, 3)], lambda a: a.chunk(2)[1], lambda a: a.chunk(2)[1], None),
    ("narrow", [(4, 5)], lambda a: a.narrow(1, 1, 3), lambda a: a.narrow(1, 1, 3), None),
    ("tril", [(3, 4)], lambda a: a.tril(), lambda a: a.tril(), None),
    ("triu_offset", [(2, 3, 4)], lambda a: a.triu(1), lambda a: a.triu(1), None),
    ("diag_vec", [(3,)], lambda a: T.diag(a), lambda a: tg.diag(a), None),
    ("diag_vec_offset", [(3,)], lambda a: T.diag(a, -1), lambda a: tg.diag(a, -1), None),
    ("diag_mat", [(3, 4)], lambda a: T.diag(a, 1), lambda a: tg.diag(a, 1), None),
    ("diagonal_3d", [(2, 3, 3)], lambda a: a.diagonal(0, 1, 2), lambda a: a.diagonal(0, 1, 2),
     None),
    ("trace", [(3, 3)], lambda a: a.trace() * a, lambda a: a.trace() * a, None),
    ("gather", [(3, 4)], lambda a: a.gather(0, T.tensor(IDX)), lambda a: a.gather(0, IDX),
     None),
    ("index_select", [(3, 4)], lambda a: a.index_select(1, T.tensor([3, 0, 3])),
     lambda a: a.index_select(1, np.array([3, 0, 3])), None),
    ("masked_fill", [(3, 4)], lambda a: a.masked_fill(a > 0, 2.0) * a,
     lambda a: a.masked_fill(a > 0, 2.0) * a, None),
    ("view_as", [(3, 4), (2, 6)], lambda a, b: a.view_as(b) * b, lambda a, b: a.view_as(b) * b,
     None),
    ("t", [(3, 4)], lambda a: a.t(), lambda a: a.t(), None),
    ("clone", [(3, 4)], lambda a: a.clone() * a, lambda a: a.clone() * a, None),
    # products
    ("mm", [(3, 4), (4, 2)], lambda a, b: a.mm(b), lambda a, b: a.mm(b), None),
    ("mv", [(3, 4), (4,)], lambda a, b: a.mv(b), lambda a, b: a.mv(b), None),
    ("dot", [(4,), (4,)], lambda a, b: a.dot(b), lambda a, b: a.dot(b), None),
    ("outer", [(3,), (4,)], lambda a, b: T.outer(a, b), lambda a, b: tg.outer(a, b), None),
    ("einsum_matmul", [(3, 4), (4, 2)], lambda a, b: T.einsum("ij,jk->ik", a, b),
     lambda a, b: tg.einsum("ij,jk->ik", a, b), None),
    ("einsum_outer", [(3,), (4,)], lambda a, b: T.einsum("i,j", a, b),
     lambda a, b: tg.einsum("i,j", a, b), None),
    ("einsum_trace", [(3, 3)], lambda a: T.einsum("ii", a) * a,
     lambda a: tg.einsum("ii", a) * a, None),
    ("einsum_diag", [(3, 3)], lambda a: T.einsum("ii->i", a), lambda a: tg.einsum("ii->i", a),
     None),
    ("einsum_batched", [(2, 3, 4), (2, 4, 5)], lambda a, b: T.einsum("bij,bjk->bik", a, b),
     lambda a, b: tg.einsum("bij,bjk->bik", a, b), None),
    ("einsum_ellipsis", [(2, 3, 4), (4, 5)], lambda a, b: T.einsum("...ij,jk->...ik", a, b),
     lambda a, b: tg.einsum("...ij,jk->...ik", a, b), None),
    ("einsum_sum", [(3, 4)], lambda a: T.einsum("ij->", a * a), lambda a: tg.einsum("ij->", a * a),
     None),
    ("einsum_bilinear", [(3,), (3, 4), (4,)], lambda a, w, b: T.einsum("i,ij,j->", a, w, b),
     lambda a, w, b: tg.einsum("i,ij,j->", a, w, b), None),
]


@pytest.mark.parametrize("name, shapes, torch_fn, tg_fn, bounds", CASES,
                         ids=[case[0] for case in CASES])
def test_op(name, shapes, torch_fn, tg_fn, bounds):
    low, high = bounds or (-2.0, 2.0)
    helper_test_op(shapes, torch_fn, tg_fn, low=low, high=high, second_order=True)


KINKS = [
    ("max_dim_ties", [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])],
     lambda a: a.max(1).values, lambda a: a.max(1).values),
    ("min_dim_ties", [np.array([[1.0, 1.0, 3.0], [5.0, 2.0, 2.0]])],
     lambda a: a.min(dim=1).values, lambda a: a.min(dim=1).values),
    ("norm_at_zero", [np.zeros((2, 3))], lambda a: a.norm(dim=1), lambda a: a.norm(dim=1)),
    ("sign_at_zero", [np.array([-1.0, 0.0, 2.0])], lambda a: a.sign() * a,
     lambda a: a.sign() * a),
    ("elu_at_zero", [np.array([-1.0, 0.0, 2.0])], lambda a: TF.elu(a), lambda a: F.elu(a)),
    ("softplus_at_threshold", [np.array([19.0, 20.0, 21.0])], lambda a: TF.softplus(a),
     lambda a: F.softplus(a)),
    ("prod_with_zero", [np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.5]])], lambda a: a.prod(1),
     lambda a: a.prod(1)),
]


@pytest.mark.parametrize("name, arrays, torch_fn, tg_fn", KINKS, ids=[k[0] for k in KINKS])
def test_kinks_follow_pytorch(name, arrays, torch_fn, tg_fn):
    if torch is None:
        pytest.skip("torch is not installed")
    # second derivatives exactly at a kink are conventions too (PyTorch's norm gives nan there):
    # compared only where they are defined (ties, zeros in a product)
    helper_test_op([a.shape for a in arrays], torch_fn, tg_fn, arrays=arrays, gradcheck=False,
                   second_order=name.startswith(("max", "min", "prod")))


def test_max_dim_returns_values_and_indices_like_torch():
    x = np.array([[1.0, 5.0, 5.0], [7.0, 2.0, 0.0]])
    result = tg.Tensor(x).max(dim=1)
    assert result.indices.tolist() == [1, 0] and result.indices.dtype == np.int64
    assert result.values.tolist() == [5.0, 7.0]
    values, indices = tg.Tensor(x).min(0, keepdim=True)
    assert values.shape == (1, 3) and indices.tolist() == [[0, 1, 1]]
    assert tg.Tensor(x).max(axis=1).tolist() == [5.0, 7.0]  # NumPy's spelling: values only


@pytest.mark.parametrize("call, words", [
    (lambda x: x.sum(dim=0, axis=0), "not both"),
    (lambda x: x.mean(keepdim=True, keepdims=True), "not both"),
    (lambda x: x.max(dim=(0, 1)), "amax"),
    (lambda x: x.max(keepdim=True), "keepdim= needs dim="),
    (lambda x: x.var(correction=1, ddof=0), "one of"),
    (lambda x: x.cumsum(), "dim=0"),
    (lambda x: x.t().t().reshape(1, 2, 3).t(), "transpose"),
    (lambda x: x.to("cuda"), "CPU only"),
    (lambda x: x.mm(x.reshape(-1)), "matmul"),
])
def test_pytorch_spellings_that_cannot_work_say_what_to_write(call, words):
    x = tg.Tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises((TypeError, ValueError, RuntimeError), match=words):
        call(x)
