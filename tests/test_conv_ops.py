"""Convolution and pooling: forward, backward and double backward against PyTorch (float64),
central differences, hypothesis over shapes/strides/paddings/dilations/groups, ties, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from op_helpers import helper_test_op, make_inputs

import tinygrad_nn as tg
from tinygrad_nn import convolution as C
from tinygrad_nn import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# (id, shapes, torch function, tinygrad function)
CASES = [
    ("conv2d", [(2, 3, 7, 6), (4, 3, 3, 2)], TF.conv2d, C.conv2d),
    ("conv2d_bias", [(2, 3, 7, 6), (4, 3, 3, 3), (4,)], TF.conv2d, C.conv2d),
    ("conv2d_nielsen", [(2, 1, 12, 12), (3, 1, 5, 5)], TF.conv2d, C.conv2d),
    ("conv2d_stride", [(2, 2, 9, 8), (3, 2, 3, 3)],
     lambda x, w: TF.conv2d(x, w, stride=(2, 3)), lambda x, w: C.conv2d(x, w, stride=(2, 3))),
    ("conv2d_padding", [(1, 2, 5, 6), (3, 2, 3, 2)],
     lambda x, w: TF.conv2d(x, w, padding=(2, 1)), lambda x, w: C.conv2d(x, w, padding=(2, 1))),
    ("conv2d_dilation", [(1, 2, 9, 9), (2, 2, 3, 3)],
     lambda x, w: TF.conv2d(x, w, dilation=(2, 3)),
     lambda x, w: C.conv2d(x, w, dilation=(2, 3))),
    ("conv2d_groups", [(2, 4, 6, 6), (6, 2, 3, 3), (6,)],
     lambda x, w, b: TF.conv2d(x, w, b, groups=2),
     lambda x, w, b: C.conv2d(x, w, b, groups=2)),
    ("conv2d_depthwise", [(2, 3, 6, 5), (3, 1, 2, 2)],
     lambda x, w: TF.conv2d(x, w, groups=3), lambda x, w: C.conv2d(x, w, groups=3)),
    ("conv2d_all", [(2, 4, 9, 8), (6, 2, 3, 2), (6,)],
     lambda x, w, b: TF.conv2d(x, w, b, 2, 1, 2, 2),
     lambda x, w, b: C.conv2d(x, w, b, 2, 1, 2, 2)),
    ("conv2d_same", [(1, 2, 6, 5), (2, 2, 3, 5)],
     lambda x, w: TF.conv2d(x, w, padding="same"), lambda x, w: C.conv2d(x, w, padding="same")),
    ("conv2d_unbatched", [(2, 5, 5), (3, 2, 2, 2)], TF.conv2d, C.conv2d),
    ("conv1d", [(2, 3, 11), (4, 3, 3), (4,)], TF.conv1d, C.conv1d),
    ("conv1d_all", [(2, 4, 13), (2, 2, 3)],
     lambda x, w: TF.conv1d(x, w, stride=2, padding=2, dilation=2, groups=2),
     lambda x, w: C.conv1d(x, w, stride=2, padding=2, dilation=2, groups=2)),
    ("max_pool2d", [(2, 3, 8, 6)], lambda x: TF.max_pool2d(x, 2), lambda x: C.max_pool2d(x, 2)),
    ("max_pool2d_floor", [(2, 3, 9, 7)], lambda x: TF.max_pool2d(x, 2),
     lambda x: C.max_pool2d(x, 2)),
    ("max_pool2d_overlap", [(2, 2, 9, 8)], lambda x: TF.max_pool2d(x, 3, 1),
     lambda x: C.max_pool2d(x, 3, 1)),
    ("max_pool2d_all", [(2, 2, 9, 8)], lambda x: TF.max_pool2d(x, (3, 2), (2, 1), 1, (1, 2)),
     lambda x: C.max_pool2d(x, (3, 2), (2, 1), 1, (1, 2))),
    ("avg_pool2d", [(2, 3, 8, 6)], lambda x: TF.avg_pool2d(x, 2), lambda x: C.avg_pool2d(x, 2)),
    ("avg_pool2d_pad", [(2, 3, 7, 6)], lambda x: TF.avg_pool2d(x, 3, 2, 1),
     lambda x: C.avg_pool2d(x, 3, 2, 1)),
    ("avg_pool2d_no_pad_count", [(2, 3, 7, 6)],
     lambda x: TF.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
     lambda x: C.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
    ("avg_pool2d_divisor", [(1, 2, 6, 6)], lambda x: TF.avg_pool2d(x, 2, divisor_override=3),
     lambda x: C.avg_pool2d(x, 2, divisor_override=3)),
    ("adaptive_avg_pool2d", [(2, 3, 8, 6)], lambda x: TF.adaptive_avg_pool2d(x, (2, 3)),
     lambda x: C.adaptive_avg_pool2d(x, (2, 3))),
    ("adaptive_avg_pool2d_uneven", [(2, 3, 7, 5)], lambda x: TF.adaptive_avg_pool2d(x, (3, 2)),
     lambda x: C.adaptive_avg_pool2d(x, (3, 2))),
    ("adaptive_avg_pool2d_global", [(2, 3, 5, 4)], lambda x: TF.adaptive_avg_pool2d(x, 1),
     lambda x: C.adaptive_avg_pool2d(x, 1)),
    ("unfold", [(2, 3, 7, 6)], lambda x: TF.unfold(x, (2, 3), 2, 1, (2, 1)),
     lambda x: C.unfold(x, (2, 3), 2, 1, (2, 1))),
    ("fold", [(2, 12, 12)], lambda x: TF.fold(x, (7, 6), (2, 3), 1, 1, 2),
     lambda x: C.fold(x, (7, 6), (2, 3), 1, 1, 2)),
]


@pytest.mark.parametrize("name,shapes,torch_fn,tg_fn", CASES, ids=[c[0] for c in CASES])
def test_op_vs_torch_and_numeric(name, shapes, torch_fn, tg_fn):
    helper_test_op(shapes, torch_fn, tg_fn)


def _square_grads(fn, args, grad_of, create):
    out = fn(*args)
    cot = np.random.default_rng(3).standard_normal(tuple(out.shape))
    if create is tg:
        grads = tg.grad(out, args, grad_outputs=tg.Tensor(cot), create_graph=True)
    else:
        grads = torch.autograd.grad(out, args, grad_outputs=torch.tensor(cot), create_graph=True)
    total = (grads[0] * grads[0]).sum()
    for g in grads[1:]:
        total = total + (g * g).sum() * 0.5
    return total


@pytest.mark.parametrize("name,shapes,torch_fn,tg_fn", CASES, ids=[c[0] for c in CASES])
def test_double_backward_vs_torch(name, shapes, torch_fn, tg_fn):
    """d/dinputs of sum(grad^2): the backward pass itself differentiated, every input."""
    values = make_inputs(shapes, seed=5)
    # square the output first so the gradient depends on the inputs (a linear op's would not)
    ts = [tg.Tensor(v, requires_grad=True) for v in values]
    ps = [torch.tensor(v, requires_grad=True) for v in values]
    total = _square_grads(lambda *a: tg_fn(*a) ** 2, ts, None, tg)
    expected = _square_grads(lambda *a: torch_fn(*a) ** 2, ps, None, torch)
    np.testing.assert_allclose(total.data, expected.detach().numpy(), rtol=1e-10)
    total.backward()
    expected.backward()
    for i, (t, p) in enumerate(zip(ts, ps)):
        np.testing.assert_allclose(t.grad.data, p.grad.numpy(), rtol=1e-9, atol=1e-9,
                                   err_msg=f"second derivative, input {i}")


def test_conv2d_second_derivative_gradcheck():
    """The recorded backward (ConvTranspose2d, Conv2dWeight) against central differences."""
    x0, w0 = make_inputs([(1, 2, 5, 5), (2, 1, 2, 3)], seed=2)

    def grad_norm(x, w):
        with tg.enable_grad():  # gradcheck's central differences run under no_grad
            out = C.conv2d(x, w, stride=(2, 1), padding=1, groups=2)
            gx, gw = tg.grad((out * out).sum(), [x, w], create_graph=True)
        return (gx * gx).sum() + (gw * gw * gw).sum()

    tg.gradcheck(grad_norm, tg.Tensor(x0, requires_grad=True), tg.Tensor(w0, requires_grad=True))


@st.composite
def conv_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 9))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 9))
    n = draw(st.integers(1, 3))
    bias = draw(st.booleans())
    return dict(x=(n, cin, h, w), w=(cout, cin // groups, kh, kw), bias=bias, stride=(sh, sw),
                padding=(ph, pw), dilation=(dh, dw), groups=groups, seed=draw(st.integers(0, 99)))


def _torch_check(tg_fn, torch_fn, arrays):
    ts = [tg.Tensor(a, requires_grad=True) for a in arrays]
    ps = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = tg_fn(*ts), torch_fn(*ps)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    cot = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(cot)
    expected.backward(torch.tensor(cot))
    for i, (t, p) in enumerate(zip(ts, ps)):
        np.testing.assert_allclose(t.grad.data, p.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"gradient of input {i}")


@given(conv_cases())
def test_conv2d_property_vs_torch(case):
    shapes = [case["x"], case["w"]] + ([(case["w"][0],)] if case["bias"] else [])
    arrays = make_inputs(shapes, seed=case["seed"])
    kwargs = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    _torch_check(lambda *a: C.conv2d(*a, **kwargs), lambda *a: TF.conv2d(*a, **kwargs), arrays)


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 1), st.integers(1, 2), st.integers(2, 9), st.integers(2, 9),
       st.booleans(), st.integers(0, 99))
def test_pooling_property_vs_torch(kh, kw, sh, sw, pad, dil, h, w, rounded, seed):
    """max_pool2d and avg_pool2d over kernels, strides, paddings, dilations; ``rounded`` inputs
    have many exact ties, where the gradient must go where PyTorch sends it."""
    pad = min(pad, (dil * (kh - 1) + 1) // 2, (dil * (kw - 1) + 1) // 2)
    if dil * (kh - 1) + 1 > h + 2 * pad or dil * (kw - 1) + 1 > w + 2 * pad:
        return
    x = make_inputs([(2, 2, h, w)], seed=seed)[0]
    if rounded:
        x = np.round(x)
    args = ((kh, kw), (sh, sw), pad)
    _torch_check(lambda a: C.max_pool2d(a, *args, dil), lambda a: TF.max_pool2d(a, *args, dil),
                 [x])
    if not rounded:
        _torch_check(lambda a: C.avg_pool2d(a, *args), lambda a: TF.avg_pool2d(a, *args), [x])


@given(conv_cases())
def test_unfold_fold_are_adjoint(case):
    """<unfold(x), c> == <x, fold(c)>, and unfold matches PyTorch."""
    kernel = case["w"][2:]
    kwargs = dict(dilation=case["dilation"], padding=case["padding"], stride=case["stride"])
    x = make_inputs([case["x"]], seed=case["seed"])[0]
    cols = C.unfold(tg.Tensor(x), kernel, **kwargs)
    np.testing.assert_allclose(cols.data, TF.unfold(torch.tensor(x), kernel, **kwargs).numpy())
    c = np.random.default_rng(case["seed"]).standard_normal(cols.shape)
    back = C.fold(tg.Tensor(c), case["x"][2:], kernel, **kwargs)
    np.testing.assert_allclose(np.vdot(cols.data, c), np.vdot(x, back.data), rtol=1e-10)


def test_max_pool2d_ties_go_to_the_first_maximum_as_pytorch():
    x = np.array([[[[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 0.0, 0.0],
                    [5.0, 5.0, -1.0, -1.0], [5.0, 5.0, -1.0, -1.0]]]])
    t = tg.Tensor(x, requires_grad=True)
    C.max_pool2d(t, 2).sum().backward()
    p = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(p, 2).sum().backward()
    expected = np.zeros_like(x)
    expected[0, 0, 0, 1] = expected[0, 0, 0, 2] = expected[0, 0, 2, 0] = expected[0, 0, 2, 2] = 1
    np.testing.assert_array_equal(p.grad.numpy(), expected)
    np.testing.assert_array_equal(t.grad.data, expected)


def test_max_pool2d_overlapping_windows_add_their_gradients():
    x = np.array([[[[0.0, 9.0, 0.0, 0.0, 0.0]]]])
    t = tg.Tensor(x, requires_grad=True)
    out = C.max_pool2d(t, (1, 3), 1)
    out.backward(np.array([[[[1.0, 2.0, 4.0]]]]))
    # windows [0, 9, 0] and [9, 0, 0] both pick the 9; [0, 0, 0] ties: its first element
    np.testing.assert_array_equal(t.grad.data, [[[[0.0, 3.0, 4.0, 0.0, 0.0]]]])


def test_max_pool2d_nan_as_pytorch():
    x = np.array([[[[1.0, np.nan, 3.0, np.nan, 2.0, 5.0]]]])
    t = tg.Tensor(x, requires_grad=True)
    out = C.max_pool2d(t, (1, 4), (1, 2))
    out.sum().backward()
    p = torch.tensor(x, requires_grad=True)
    expected = TF.max_pool2d(p, (1, 4), (1, 2))
    expected.sum().backward()
    np.testing.assert_array_equal(out.data, expected.detach().numpy())
    np.testing.assert_array_equal(t.grad.data, p.grad.numpy())


def test_float32_stays_float32():
    x = tg.randn(2, 3, 8, 8, dtype=np.float32, requires_grad=True)
    w = tg.randn(4, 3, 3, 3, dtype=np.float32, requires_grad=True)
    out = C.max_pool2d(C.conv2d(x, w, padding=1), 2)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == w.grad.dtype == np.float32


def test_nielsen_shapes():
    x = tg.randn(10, 1, 28, 28)
    w1, w2 = tg.randn(20, 1, 5, 5), tg.randn(40, 20, 5, 5)
    a = C.max_pool2d(C.conv2d(x, w1), 2)
    assert a.shape == (10, 20, 12, 12)
    assert C.max_pool2d(C.conv2d(a, w2), 2).shape == (10, 40, 4, 4)


BAD = [
    (lambda: C.conv2d(tg.zeros(2, 3, 5, 5), tg.zeros(4, 2, 3, 3)), ValueError,
     "conv2d: input \\(2, 3, 5, 5\\) has 3 channels"),
    (lambda: C.conv2d(tg.zeros(3, 5), tg.zeros(4, 3, 3, 3)), ValueError, "conv2d: expected a 3-D"),
    (lambda: C.conv2d(tg.zeros(1, 4, 5, 5), tg.zeros(3, 2, 3, 3), groups=2), ValueError,
     "not divisible by groups=2"),
    (lambda: C.conv2d(tg.zeros(1, 1, 2, 2), tg.zeros(1, 1, 3, 3)), ValueError,
     "conv2d: the output would be empty"),
    (lambda: C.conv2d(tg.zeros(1, 1, 5, 5), tg.zeros(1, 1, 3, 3), stride=0), ValueError,
     "conv2d: stride must be >= 1"),
    (lambda: C.conv2d(tg.zeros(1, 1, 5, 5), tg.zeros(1, 1, 3, 3), padding=-1), ValueError,
     "conv2d: padding must be >= 0"),
    (lambda: C.conv2d(tg.zeros(1, 1, 5, 5), tg.zeros(1, 1, 3, 3), stride=(1, 2, 3)), TypeError,
     "conv2d: stride must be an int or a pair"),
    (lambda: C.conv2d(tg.zeros(1, 1, 5, 5), tg.zeros(2, 1, 3, 3), tg.zeros(3)), ValueError,
     "conv2d: bias must be a Tensor of shape \\(2,\\)"),
    (lambda: C.conv2d(tg.zeros(1, 1, 5, 5), tg.zeros(1, 1, 2, 2), padding="same"), ValueError,
     "uneven padding"),
    (lambda: C.max_pool2d(tg.zeros(1, 1, 5, 5), 2, padding=2), ValueError,
     "max_pool2d: padding \\(2, 2\\) should be at most half"),
    (lambda: C.max_pool2d(tg.zeros(1, 1, 5, 5), 2, ceil_mode=True), NotImplementedError,
     "ceil_mode"),
    (lambda: C.max_pool2d(tg.zeros(1, 1, 1, 5), 2), ValueError, "max_pool2d: the output would"),
    (lambda: C.fold(tg.zeros(1, 4, 5), (4, 4), 2), ValueError, "fold: input \\(1, 4, 5\\) has 5"),
    (lambda: C.conv1d(tg.zeros(1, 2, 3, 4), tg.zeros(1, 2, 3)), ValueError, "conv1d: expected"),
    # neither an int nor a sequence: named, not Python's "'float' object is not iterable"
    (lambda: C.conv2d(tg.zeros(1, 1, 5, 5), tg.zeros(1, 1, 3, 3), stride=1.5), TypeError,
     "conv2d: stride must be an int or a pair of ints, got 1.5"),
    (lambda: C.max_pool2d(tg.zeros(1, 1, 4, 4), None), TypeError,
     "max_pool2d: kernel_size must be an int or a pair of ints, got None"),
    (lambda: nn.Conv2d(1, 2, 3, padding=None), ValueError,
     "Conv2d: padding must be an int or a pair of ints, got None"),
    (lambda: nn.AvgPool2d(2, stride=2.0), ValueError,
     "AvgPool2d: stride must be an int or a pair of ints, got 2.0"),
]


@pytest.mark.parametrize("call,error,message", BAD)
def test_bad_input_names_the_op(call, error, message):
    with pytest.raises(error, match=message):
        call()
