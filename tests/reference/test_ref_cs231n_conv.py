"""CS231n ConvNet reference: each backward against central differences (the notebook's
rel_error thresholds), fast == naive, and ThreeLayerConvNet overfitting 100 examples. Float64."""

import numpy as np
import pytest
from refcheck_numeric import numeric_gradient, numeric_vjp

from tinygrad_nn.reference import cs231n, cs231n_conv
from tinygrad_nn.reference.cs231n import rel_error

CONV = {"stride": 2, "pad": 1}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


def _conv_data(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3)),
            rng.standard_normal(4))


def test_conv_forward_naive_matches_the_notebook_values():
    """The assignment's own check: x = linspace(-0.1, 0.5), w = linspace(-0.2, 0.3),
    b = linspace(-0.1, 0.2), stride 2, pad 1, against its correct_out (rel_error < 1e-7)."""
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    out, _ = cs231n_conv.conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
    correct = np.array([[[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
                         [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
                         [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
                        [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
                         [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
                         [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]])
    assert rel_error(out, correct) < 1e-7


def test_conv_backward_naive_matches_numeric():
    x, w, b = _conv_data()
    out, cache = cs231n_conv.conv_forward_naive(x, w, b, CONV)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    dx, dw, db = cs231n_conv.conv_backward_naive(dout, cache)

    def f():
        return cs231n_conv.conv_forward_naive(x, w, b, CONV)[0]

    assert rel_error(dx, numeric_vjp(f, x, dout)) < 1e-8  # the notebook: around 1e-8 or less
    assert rel_error(dw, numeric_vjp(f, w, dout)) < 1e-8
    assert rel_error(db, numeric_vjp(f, b, dout)) < 1e-8


@pytest.mark.parametrize("conv_param", [{"stride": 1, "pad": 0}, {"stride": 2, "pad": 1},
                                        {"stride": 1, "pad": 2}])
def test_conv_fast_equals_naive(conv_param):
    x, w, b = _conv_data(2)
    out, cache = cs231n_conv.conv_forward_naive(x, w, b, conv_param)
    fast, fast_cache = cs231n_conv.conv_forward_fast(x, w, b, conv_param)
    assert rel_error(out, fast) < 1e-12
    dout = np.random.default_rng(3).standard_normal(out.shape)
    for a, c in zip(cs231n_conv.conv_backward_naive(dout, cache),
                    cs231n_conv.conv_backward_fast(dout, fast_cache)):
        assert rel_error(a, c) < 1e-12


@pytest.mark.parametrize("pool_param", [POOL, {"pool_height": 3, "pool_width": 2, "stride": 1}])
def test_max_pool_naive_and_fast_match_numeric(pool_param):
    x = np.random.default_rng(4).standard_normal((2, 3, 6, 6))
    out, cache = cs231n_conv.max_pool_forward_naive(x, pool_param)
    dout = np.random.default_rng(5).standard_normal(out.shape)
    dx = cs231n_conv.max_pool_backward_naive(dout, cache)

    def f():
        return cs231n_conv.max_pool_forward_naive(x, pool_param)[0]

    assert rel_error(dx, numeric_vjp(f, x, dout)) < 1e-10  # the notebook: around 1e-12
    fast, fast_cache = cs231n_conv.max_pool_forward_fast(x, pool_param)
    assert rel_error(out, fast) < 1e-14
    assert rel_error(dx, cs231n_conv.max_pool_backward_fast(dout, fast_cache)) < 1e-14


def test_max_pool_ties_go_to_the_first_maximum_in_both_versions():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 2:, 2:] = 5.0
    dout = np.ones((1, 1, 2, 2))
    expected = np.zeros_like(x)
    expected[0, 0, ::2, ::2] = 1.0
    for forward, backward in ((cs231n_conv.max_pool_forward_naive,
                               cs231n_conv.max_pool_backward_naive),
                              (cs231n_conv.max_pool_forward_fast,
                               cs231n_conv.max_pool_backward_fast)):
        _, cache = forward(x, POOL)
        np.testing.assert_array_equal(backward(dout, cache), expected)


def test_spatial_batchnorm_matches_numeric_and_normalizes_per_channel():
    rng = np.random.default_rng(6)
    x = 4 * rng.standard_normal((2, 3, 4, 5)) + 10
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    out, cache = cs231n_conv.spatial_batchnorm_forward(x, np.ones(3), np.zeros(3),
                                                       {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1.0, rtol=1e-5)

    def f():
        return cs231n_conv.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})[0]

    out, cache = cs231n_conv.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = cs231n_conv.spatial_batchnorm_backward(dout, cache)
    assert rel_error(dx, numeric_vjp(f, x, dout)) < 1e-7  # the notebook: ~1e-7 or less
    assert rel_error(dgamma, numeric_vjp(f, gamma, dout)) < 1e-9
    assert rel_error(dbeta, numeric_vjp(f, beta, dout)) < 1e-9


def test_three_layer_convnet_gradients_match_numeric():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 8, 8))
    y = rng.integers(10, size=2)
    net = cs231n_conv.ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=3, filter_size=3,
                                        hidden_dim=7, weight_scale=1e-1, reg=0.5,
                                        dtype=np.float64, seed=0)
    loss, grads = net.loss(x, y)
    for name in ("W1", "b1", "W2", "b2", "W3", "b3"):
        # a small step: relu and the pool are kinked, a 1e-3 step would cross some kinks
        numeric = numeric_gradient(lambda: net.loss(x, y)[0], net.params[name], h=1e-5)
        assert rel_error(grads[name], numeric) < 1e-6, name  # the notebook: ~1e-2 or less
    _, naive_grads = net.loss(x, y, fast=False)
    for name in grads:
        assert rel_error(grads[name], naive_grads[name]) < 1e-12, name


def test_three_layer_convnet_overfits_100_examples():
    """The assignment's sanity check: a small net drives training accuracy near 100% on 100
    examples (generated images here: CIFAR-10 is not on the machine)."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((100, 3, 8, 8))
    y = rng.integers(10, size=100)  # random labels: only memorizing them fits
    net = cs231n_conv.ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=8, filter_size=3,
                                        hidden_dim=50, weight_scale=1e-1, dtype=np.float64,
                                        seed=1)
    configs = {name: {"learning_rate": 5e-3} for name in net.params}
    for _ in range(20):  # epochs of mini-batches of 50
        for start in (0, 50):
            _, grads = net.loss(x[start: start + 50], y[start: start + 50])
            for name in net.params:
                net.params[name], configs[name] = cs231n.adam(net.params[name], grads[name],
                                                              configs[name])
    accuracy = (net.loss(x).argmax(axis=1) == y).mean()
    assert accuracy >= 0.9, accuracy
