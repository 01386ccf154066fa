"""Nielsen's network3 reference: each layer's backward against central differences, float64."""

import numpy as np
import pytest
from refcheck_numeric import numeric_gradient, numeric_vjp

from tinygrad_nn.reference import network3
from tinygrad_nn.reference.cs231n import rel_error


def test_theano_conv2d_is_a_true_convolution():
    """A single 1 in the input reproduces the kernel itself (a correlation would flip it)."""
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0
    w = np.arange(9.0).reshape(1, 1, 3, 3)
    out = network3.theano_conv2d(x, w)
    np.testing.assert_array_equal(out[0, 0], w[0, 0])


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_conv_pool_layer_matches_numeric(activation):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 9, 8))  # odd height: the pool drops the last row
    layer = network3.ConvPoolLayer(rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3),
                                   activation=activation)
    out = layer.forward(x)
    assert out.shape == (2, 3, 3, 3)
    delta = rng.standard_normal(out.shape)
    dx = layer.backward(delta)

    def f():
        return layer.forward(x)

    # 1e-7: the differences see the pool's kinks where two conv outputs nearly tie; the exact
    # comparison is against autodiff (tests/test_conv_references.py, < 1e-10)
    assert rel_error(dx, numeric_vjp(f, x, delta)) < 1e-7
    assert rel_error(layer.dw, numeric_vjp(f, layer.w, delta)) < 1e-7
    assert rel_error(layer.db, numeric_vjp(f, layer.b, delta)) < 1e-7


def test_network_with_dropout_matches_numeric():
    rng = np.random.default_rng(1)
    conv = network3.ConvPoolLayer(0.5 * rng.standard_normal((2, 1, 3, 3)),
                                  rng.standard_normal(2), activation="relu")
    fc = network3.FullyConnectedLayer(0.5 * rng.standard_normal((2 * 3 * 3, 5)),
                                      rng.standard_normal(5), "sigmoid", p_dropout=0.5)
    soft = network3.SoftmaxLayer(0.5 * rng.standard_normal((5, 4)), rng.standard_normal(4),
                                 p_dropout=0.25)
    net = network3.Network([conv, fc, soft])
    x = rng.standard_normal((3, 1, 8, 8))
    y = np.array([0, 3, 1])
    masks = [None, (rng.random((3, 18)) >= 0.5) * 1.0, (rng.random((3, 5)) >= 0.25) * 1.0]
    cost, grads = net.cost_and_grads(x, y, lmbda=0.3, n_batches=7, masks=masks)
    for layer, (dw, db) in zip(net.layers, grads):
        def f():
            return net.cost_and_grads(x, y, lmbda=0.3, n_batches=7, masks=masks)[0]

        assert rel_error(dw, numeric_gradient(f, layer.w, h=1e-4)) < 1e-7
        assert rel_error(db, numeric_gradient(f, layer.b, h=1e-4)) < 1e-7


def test_dropout_is_classic_scaling_at_test_time():
    w, b = np.eye(3), np.zeros(3)
    layer = network3.FullyConnectedLayer(w, b, "linear", p_dropout=0.5)
    x = np.ones((1, 3))
    np.testing.assert_array_equal(layer.forward(x), 0.5 * x)  # test: (1 - p) * x
    np.testing.assert_array_equal(layer.forward(x, mask=np.array([[1.0, 0.0, 1.0]])),
                                  [[1.0, 0.0, 1.0]])  # training: dropped, never rescaled
