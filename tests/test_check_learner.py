"""check.layer / check.loss / check.network / check.cmp on a learner's own plain-NumPy code.

The learner's functions (tests/learner_layers.py) import nothing from tinygrad_nn. Correct ones
must pass at relative error < 1e-8 against autodiff; broken ones are in test_check_diagnosis.py.
"""

from __future__ import annotations

import copy

import learner_layers as L
import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import check
from tinygrad_nn.reference import cs231n_conv

rng = np.random.default_rng(0)
X45, W53, B3 = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
X2345 = rng.standard_normal((2, 3, 4, 5))
W60_3 = rng.standard_normal((60, 3))
X64 = rng.standard_normal((6, 4))
GAMMA, BETA = rng.uniform(0.5, 1.5, 4), rng.standard_normal(4)
SCORES, LABELS = rng.standard_normal((7, 5)), np.array([0, 4, 1, 2, 3, 1, 0])

LAYER_CASES = {
    "affine": (L.affine_forward, L.affine_backward, (X45, W53, B3), {}),
    "affine 4-D input": (L.affine_forward, L.affine_backward, (X2345, W60_3, B3), {}),
    "relu": (L.relu_forward, L.relu_backward, (X64,), {}),
    "sigmoid": (L.sigmoid_forward, L.sigmoid_backward, (X64,), {}),
    "tanh": (L.tanh_forward, L.tanh_backward, (X64,), {}),
    "batchnorm train": (L.batchnorm_forward, L.batchnorm_backward, (X64 * 3 + 1, GAMMA, BETA),
                        {"bn_param": {"mode": "train"}}),
    "batchnorm train, alt backward": (L.batchnorm_forward, L.batchnorm_backward_alt,
                                      (X64 * 3 + 1, GAMMA, BETA), {"bn_param": {"mode": "train"}}),
    "batchnorm test": (L.batchnorm_forward, L.batchnorm_test_backward, (X64, GAMMA, BETA),
                       {"bn_param": {"mode": "test", "running_mean": BETA,
                                     "running_var": GAMMA}}),
    "layernorm": (L.layernorm_forward, L.layernorm_backward, (X64 * 2 - 1, GAMMA, BETA),
                  {"ln_param": {}}),
    "dropout train": (L.dropout_forward, L.dropout_backward, (X64,),
                      {"dropout_param": {"p": 0.6, "mode": "train", "seed": 123}}),
    "dropout test": (L.dropout_forward, L.dropout_backward, (X64,),
                     {"dropout_param": {"p": 0.6, "mode": "test"}}),
}


def assert_passes_on_autodiff(report: check.Report) -> None:
    assert report.ok, str(report)
    assert not any("central differences only" in n for n in report.notes), report.notes
    for r in report.rows:
        assert r.vs_autodiff < 1e-8, (r.name, r.vs_autodiff)
        assert r.vs_numeric < 1e-6, (r.name, r.vs_numeric)


@pytest.mark.parametrize("case", list(LAYER_CASES), ids=str)
def test_correct_cs231n_layers_pass(case):
    forward, backward, inputs, kwargs = LAYER_CASES[case]
    assert_passes_on_autodiff(check.layer(forward, backward, *inputs, **kwargs))


@pytest.mark.parametrize("f", [L.softmax_loss, L.svm_loss], ids=lambda f: f.__name__)
def test_correct_cs231n_losses_pass(f):
    assert_passes_on_autodiff(check.loss(f, SCORES, LABELS))


def test_dropout_mask_really_applies():
    """The dropout case passes because the mask is the same in every run, not because it is
    all ones."""
    out, (_, mask) = L.dropout_forward(X64, {"p": 0.6, "mode": "train", "seed": 123})
    assert 0 < np.sum(mask == 0) < mask.size


def test_the_checker_never_modifies_the_learners_arrays():
    def forward_that_writes_its_input(x, w, b, scale):
        x *= 2.0  # in place: must hit a copy, never the learner's array
        scale["count"] = scale.get("count", 0) + 1
        return L.affine_forward(x / 2.0, w, b)

    inputs = [X45.copy(), W53.copy(), B3.copy()]
    params = {"mode": "train"}
    kwargs = {"bn_param": params}
    before = [a.copy() for a in inputs], copy.deepcopy(kwargs)
    report = check.layer(forward_that_writes_its_input, L.affine_backward, *inputs,
                         scale={"count": 0})
    assert report.ok, str(report)
    check.layer(L.batchnorm_forward, L.batchnorm_backward, X64, GAMMA, BETA, **kwargs)
    for a, b in zip(inputs, before[0]):
        np.testing.assert_array_equal(a, b)
    assert kwargs == before[1] and params == {"mode": "train"}  # no running_mean written


def test_float32_inputs_are_checked_in_float64():
    report = check.layer(L.affine_forward, L.affine_backward, X45.astype(np.float32),
                         W53.astype(np.float32), B3.astype(np.float32))
    assert_passes_on_autodiff(report)
    assert all(r.manual.dtype == np.float64 for r in report.rows)


def test_numeric_sampling_is_seeded_and_reported():
    x = rng.standard_normal((40, 30))
    report = check.layer(L.relu_forward, L.relu_backward, x, numeric=50)
    assert report.ok
    assert np.sum(~np.isnan(report.row("dx").numeric)) == 50
    assert any("50 of 1200 entries" in n for n in report.notes)
    again = check.layer(L.relu_forward, L.relu_backward, x, numeric=50)
    np.testing.assert_array_equal(np.isnan(report.row("dx").numeric),
                                  np.isnan(again.row("dx").numeric))


def test_given_dout_is_used():
    dout = np.zeros((4, 3))
    dout[1, 2] = 1.0
    seen = []

    def backward(d, cache):
        seen.append(d.copy())
        return L.affine_backward(d, cache)

    assert check.layer(L.affine_forward, backward, X45, W53, B3, dout=dout).ok
    np.testing.assert_array_equal(seen[0], dout)


# --------------------------------------------------------------------------------------------
# forwards autodiff cannot follow: central differences only, and the report says so
# --------------------------------------------------------------------------------------------


def test_conv_with_kwargs_falls_back_to_central_differences_and_says_why():
    """CS231n's naive loops write into an ndarray made by np.zeros: autodiff cannot see that."""
    x, w, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((2, 3, 3, 3)), \
        rng.standard_normal(2)
    report = check.layer(cs231n_conv.conv_forward_naive, cs231n_conv.conv_backward_naive, x, w,
                         b, conv_param={"stride": 2, "pad": 1})
    assert report.ok, str(report)
    assert any("central differences only" in n for n in report.notes), report.notes
    assert all(r.autodiff is None and r.vs_numeric < 1e-7 for r in report.rows)
    assert "central differences only" in str(report)


@pytest.mark.parametrize("kind", ["conv", "max_pool"])
def test_vectorized_conv_and_pool_run_on_autodiff(kind):
    """im2col (np.pad, fancy indexing, reshapes, dot) runs on Tensors; so does pooling."""
    x = rng.standard_normal((2, 3, 4, 4))
    if kind == "conv":
        args, kwargs = (x, rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)), \
            {"conv_param": {"stride": 1, "pad": 1}}
    else:
        args, kwargs = (x,), {"pool_param": {"pool_height": 2, "pool_width": 2, "stride": 2}}
    for speed in ("naive", "fast"):
        forward = getattr(cs231n_conv, f"{kind}_forward_{speed}")
        backward = getattr(cs231n_conv, f"{kind}_backward_{speed}")
        report = check.layer(forward, backward, *args, **kwargs)
        assert report.ok, str(report)
        if speed == "fast":  # naive loops write into np.zeros: central differences only
            assert_passes_on_autodiff(report)


def test_a_forward_with_an_op_autodiff_lacks_names_it():
    def arctan_forward(x):
        return np.arctan(x), x

    def arctan_backward(dout, x):
        return dout / (1 + x ** 2)

    report = check.layer(arctan_forward, arctan_backward, X64)
    assert report.ok and report.rows[0].autodiff is None
    assert any("np.arctan is not differentiable" in n for n in report.notes), report.notes


# --------------------------------------------------------------------------------------------
# Nielsen's network
# --------------------------------------------------------------------------------------------


def mnist_like_example(seed=0):
    r = np.random.default_rng(seed)
    x = r.uniform(0, 1, (784, 1))
    y = np.zeros((10, 1))
    y[3] = 1.0
    return x, y


@pytest.mark.parametrize("cost", [L.QuadraticCost, L.CrossEntropyCost], ids=lambda c: c.__name__)
def test_nielsen_network_784_30_10_passes(cost):
    net = L.Network([784, 30, 10], cost=cost)
    x, y = mnist_like_example()
    weights = [w.copy() for w in net.weights]
    report = check.network(net, x, y)  # the cost comes from net.cost
    assert report.ok, str(report)
    assert [r.name for r in report.rows] == [
        "layer 1 (784->30) nabla_b", "layer 1 (784->30) nabla_w",
        "layer 2 (30->10) nabla_b", "layer 2 (30->10) nabla_w"]
    for r in report.rows:
        assert r.vs_autodiff < 1e-8 and r.vs_numeric < 1e-6, (r.name, r.vs_numeric)
    assert report.first_wrong is None
    for w, before in zip(net.weights, weights):
        np.testing.assert_array_equal(w, before)


def test_nielsen_network_with_l2_in_backprop():
    class RegularizedNetwork(L.Network):
        def backprop(self, x, y):
            nabla_b, nabla_w = super().backprop(x, y)
            return nabla_b, [nw + (0.5 / 100) * w for nw, w in zip(nabla_w, self.weights)]

    net = RegularizedNetwork([6, 5, 4, 3], cost=L.CrossEntropyCost, seed=2)
    x, y = np.linspace(-1, 1, 6).reshape(6, 1), np.array([[0.0], [1.0], [0.0]])
    assert check.network(net, x, y, lmbda=0.5, n=100).ok
    assert not check.network(net, x, y).ok  # without the L2 term the learner's is wrong


# --------------------------------------------------------------------------------------------
# Karpathy's cmp, with every intermediate kept
# --------------------------------------------------------------------------------------------


def test_cmp_prints_karpathys_line(capsys):
    x = tg.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    logits = x * 2.0
    probs = logits.softmax(axis=1)
    loss = -probs.log()[np.arange(3), [0, 1, 2]].mean()
    kept = check.retain_grads(loss)
    loss.backward()
    ids = {id(t) for t in kept}
    assert id(logits) in ids and id(probs) in ids and id(x) not in ids
    p = probs.data
    dlogprobs = np.zeros((3, 4))
    dlogprobs[np.arange(3), [0, 1, 2]] = -1.0 / 3
    dprobs = dlogprobs / p
    result = check.cmp("probs", dprobs, probs)
    assert capsys.readouterr().out == (
        f"probs           | exact: {str(result.exact):5s} | approximate: True  | maxdiff: "
        f"{result.maxdiff}\n")
    assert result.approximate and result.maxdiff < 1e-12
    dlogits = p * (dprobs - (dprobs * p).sum(axis=1, keepdims=True))
    assert check.cmp("logits", dlogits, logits, verbose=False).approximate
    wrong = check.cmp("logits", dlogits * 3, logits, verbose=False)
    assert not wrong.approximate and "3 times the true one" in str(wrong)
    shape = check.cmp("logits", dlogits.sum(axis=0), logits, verbose=False)
    assert "shape: yours (4,) vs (3, 4)" in str(shape)


def test_cmp_without_a_grad_says_how_to_keep_it():
    x = tg.Tensor(np.ones(3), requires_grad=True)
    h = x * 2
    (h * h).sum().backward()
    with pytest.raises(ValueError, match=r"cmp\('h'\): the tensor has no \.grad.*retain_grads"):
        check.cmp("h", np.ones(3), h)


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------


def test_report_text_repr_and_html():
    report = check.layer(L.affine_forward, L.affine_backward, X45, W53, B3)
    text = str(report)
    assert text.splitlines()[0].startswith("check.layer(affine_forward, affine_backward)")
    assert "gradient  shape   vs autodiff  vs numeric  verdict" in text
    assert text.splitlines()[-1].startswith("OK: all 3 gradients agree")
    assert repr(report) == ("<check.Report 'check.layer(affine_forward, affine_backward): 3 "
                            "input(s), float64, dout seed 0': ok>")
    html = report._repr_html_()
    assert html.count("<tr") == 4 and "affine_backward" in html and "OK: all 3" in html


# --------------------------------------------------------------------------------------------
# kinks: where the derivative is a convention, any one-sided derivative is right
# --------------------------------------------------------------------------------------------


def relu_backward_ge(dout, cache):
    return dout * (cache >= 0)  # 1 at x == 0: the other one-sided derivative


def relu_backward_two(dout, cache):
    return dout * ((cache > 0) + 2.0 * (cache == 0))  # neither one-sided derivative


def rowmax_forward(x):
    out = np.max(x, axis=1)
    return out, (x, out)


def rowmax_backward_first(dout, cache):
    """All of a row's gradient to its first maximum (np.argmax), as max-pool code does."""
    x, out = cache
    dx = np.zeros_like(x)
    dx[np.arange(x.shape[0]), np.argmax(x, axis=1)] = dout
    return dx


def test_inputs_on_a_kink_accept_either_one_sided_derivative():
    x = rng.standard_normal((4, 5))
    x[0, 1] = x[2, 3] = 0.0  # the output of an earlier ReLU has exact zeros
    for backward in (L.relu_backward, relu_backward_ge):
        report = check.layer(L.relu_forward, backward, x)
        assert report.ok, str(report)
        assert any("2 entries sit on a kink" in n for n in report.notes), report.notes
    wrong = check.layer(L.relu_forward, relu_backward_two, x)
    assert not wrong.ok
    assert wrong.row("dx").diagnosis.kind == "entries"
    assert "wrong at 2 of 20 entries ((0, 1), (2, 3))" in str(wrong)
    assert "x is exactly 0 there: a kink" in str(wrong)
    ties = rng.standard_normal((3, 4))
    ties[1, 2] = ties[1, 3] = 5.0  # a tie for the maximum of row 1
    report = check.layer(rowmax_forward, rowmax_backward_first, ties)
    assert report.ok and any("2 entries sit on a kink" in n for n in report.notes), str(report)


def test_docstring_examples_run():
    import doctest
    import importlib

    for name in ("layer", "cmp", "network", "report", "diagnose", "files"):
        module = importlib.import_module(f"tinygrad_nn.check.{name}")
        result = doctest.testmod(module, extraglobs={"np": np})
        assert result.failed == 0, name
    assert doctest.testmod(importlib.import_module("tinygrad_nn.check.layer"),
                           extraglobs={"np": np}).attempted >= 1
