"""The hand-derived ConvNet references (pure NumPy) against the engine's autodiff, float64:
CS231n's naive layers and ThreeLayerConvNet, and Nielsen's network3 with his flipped convolution
and classic dropout. Agreement to < 1e-10."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import nn
from tinygrad_nn.convolution import conv2d, max_pool2d
from tinygrad_nn.nn import functional as F
from tinygrad_nn.reference import cs231n_conv, network3
from tinygrad_nn.reference.cs231n import rel_error

TOL = 1e-10


def _t(a):
    return tg.Tensor(a, dtype=np.float64, requires_grad=True)


@pytest.mark.parametrize("stride,pad", [(1, 0), (2, 1), (1, 2), (3, 2)])
def test_cs231n_naive_conv_equals_autodiff(stride, pad):
    rng = np.random.default_rng(stride + 10 * pad)
    x, w, b = (rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 3, 3)),
               rng.standard_normal(4))
    h_out = 1 + (8 + 2 * pad - 3) / stride
    if h_out != int(h_out):
        x = x[:, :, :-1, :-1]  # the assignment only accepts sizes that tile
    out, cache = cs231n_conv.conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    dout = rng.standard_normal(out.shape)
    dx, dw, db = cs231n_conv.conv_backward_naive(dout, cache)
    tx, tw, tb = _t(x), _t(w), _t(b)
    y = conv2d(tx, tw, tb, stride=stride, padding=pad)
    y.backward(dout)
    assert rel_error(out, y.data) < TOL
    assert rel_error(dx, tx.grad.data) < TOL
    assert rel_error(dw, tw.grad.data) < TOL
    assert rel_error(db, tb.grad.data) < TOL


@pytest.mark.parametrize("pool_param", [{"pool_height": 2, "pool_width": 2, "stride": 2},
                                        {"pool_height": 3, "pool_width": 2, "stride": 1}])
def test_cs231n_max_pool_equals_autodiff_including_ties(pool_param):
    x = np.round(np.random.default_rng(1).standard_normal((2, 3, 6, 6)))  # many exact ties
    out, cache = cs231n_conv.max_pool_forward_naive(x, pool_param)
    dout = np.random.default_rng(2).standard_normal(out.shape)
    dx = cs231n_conv.max_pool_backward_naive(dout, cache)
    tx = _t(x)
    kernel = (pool_param["pool_height"], pool_param["pool_width"])
    y = max_pool2d(tx, kernel, pool_param["stride"])
    y.backward(dout)
    assert rel_error(out, y.data) < TOL
    np.testing.assert_allclose(tx.grad.data, dx, rtol=TOL, atol=1e-14)


def test_cs231n_spatial_batchnorm_equals_batchnorm2d():
    rng = np.random.default_rng(3)
    x = 3 * rng.standard_normal((4, 3, 5, 5)) + 2
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    out, cache = cs231n_conv.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = cs231n_conv.spatial_batchnorm_backward(dout, cache)
    layer = nn.BatchNorm2d(3, dtype="float64")
    layer.weight.data[...] = gamma
    layer.bias.data[...] = beta
    tx = _t(x)
    y = layer(tx)
    y.backward(dout)
    assert rel_error(out, y.data) < TOL
    assert rel_error(dx, tx.grad.data) < 1e-9  # normalization amplifies rounding slightly
    assert rel_error(dgamma, layer.weight.grad.data) < TOL
    assert rel_error(dbeta, layer.bias.grad.data) < TOL


def test_three_layer_convnet_equals_autodiff():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((3, 3, 8, 8)), np.array([1, 7, 3])
    ref = cs231n_conv.ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, filter_size=3,
                                        hidden_dim=6, weight_scale=0.3, reg=0.7,
                                        dtype=np.float64, seed=5)
    loss, grads = ref.loss(x, y)
    p = {k: _t(v) for k, v in ref.params.items()}
    h = max_pool2d(conv2d(tg.Tensor(x), p["W1"], p["b1"], padding=1).relu(), 2)
    h = (h.reshape(3, -1) @ p["W2"] + p["b2"]).relu()
    scores = h @ p["W3"] + p["b3"]
    total = F.cross_entropy(scores, y) + F.l2_penalty([p["W1"], p["W2"], p["W3"]], 0.7)
    total.backward()
    assert abs(float(total.data) - loss) < TOL * abs(loss)
    for name in grads:
        assert rel_error(grads[name], p[name].grad.data) < TOL, name


def _network3_pair(activation):
    """The same random network as network3's layers and as engine tensors."""
    rng = np.random.default_rng(6)
    shapes = {"w1": (3, 1, 3, 3), "b1": (3,), "w2": (4, 3, 3, 3), "b2": (4,),
              "w3": (4 * 2 * 2, 6), "b3": (6,), "w4": (6, 5), "b4": (5,)}
    values = {k: 0.5 * rng.standard_normal(s) for k, s in shapes.items()}
    layers = [network3.ConvPoolLayer(values["w1"], values["b1"], activation=activation),
              network3.ConvPoolLayer(values["w2"], values["b2"], activation=activation),
              network3.FullyConnectedLayer(values["w3"], values["b3"], activation, 0.5),
              network3.SoftmaxLayer(values["w4"], values["b4"], 0.5)]
    return network3.Network(layers), {k: _t(v) for k, v in values.items()}


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_network3_equals_autodiff_with_flipped_kernels_and_dropout(activation):
    """network3's cost and gradients (true convolution, pool then bias then activation, classic
    dropout, L2 / n_batches) equal autodiff of conv2d with the kernels flipped."""
    net, p = _network3_pair(activation)
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((4, 1, 14, 14)), np.array([0, 4, 2, 2])
    masks = [None, None, (rng.random((4, 16)) >= 0.5) * 1.0, (rng.random((4, 6)) >= 0.5) * 1.0]
    lmbda, n_batches = 0.1, 5000
    cost, grads = net.cost_and_grads(x, y, lmbda, n_batches, masks)

    def act(z):
        return z.relu() if activation == "relu" else z.sigmoid()

    a = tg.Tensor(x)
    for w, b in (("w1", "b1"), ("w2", "b2")):
        flipped = p[w][:, :, ::-1, ::-1]
        a = act(max_pool2d(conv2d(a, flipped), 2) + p[b].reshape(1, -1, 1, 1))
    a = act((a.reshape(4, -1) * tg.Tensor(masks[2])) @ p["w3"] + p["b3"])
    logits = (a * tg.Tensor(masks[3])) @ p["w4"] + p["b4"]
    weights = [p["w1"], p["w2"], p["w3"], p["w4"]]
    total = F.cross_entropy(logits, y) + F.l2_penalty(weights, lmbda / n_batches)
    total.backward()
    assert abs(float(total.data) - cost) < TOL * abs(cost)
    for (dw, db), (w, b) in zip(grads, (("w1", "b1"), ("w2", "b2"), ("w3", "b3"),
                                        ("w4", "b4"))):
        assert rel_error(dw, p[w].grad.data) < TOL, w
        assert rel_error(db, p[b].grad.data) < TOL, b
