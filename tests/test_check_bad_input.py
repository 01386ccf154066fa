"""A learner's function that returns the wrong thing gets a message naming the function, the
argument and what is wrong, never a confusing traceback from inside the checker."""

from __future__ import annotations

import learner_layers as L
import numpy as np
import pytest

from tinygrad_nn import check

rng = np.random.default_rng(2)
X, W, B = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)


def forward_out_only(x, w, b):
    return L.affine_forward(x, w, b)[0]


def forward_triple(x, w, b):
    return (*L.affine_forward(x, w, b), None)


def forward_string(x, w, b):
    return "out", None


def backward_two(dout, cache):
    return L.affine_backward(dout, cache)[:2]


def backward_array(dout, cache):
    return L.affine_backward(dout, cache)[0]


def backward_nan(dout, cache):
    dx, dw, db = L.affine_backward(dout, cache)
    dw[1, 2] = np.nan
    return dx, dw, db


def backward_string(dout, cache):
    dx, dw, db = L.affine_backward(dout, cache)
    return dx, "dw", db


def dropout_unseeded(x, dropout_param):
    mask = (np.random.rand(*x.shape) < 0.5) / 0.5
    return x * mask, mask


CASES = [
    ("forward returns out only", (forward_out_only, L.affine_backward, X, W, B), {}, TypeError,
     r"check.layer\(forward_out_only, affine_backward\): forward_out_only must return "
     r"\(out, cache\), a pair; it returned ndarray"),
    ("forward returns three", (forward_triple, L.affine_backward, X, W, B), {}, TypeError,
     r"forward_triple must return \(out, cache\), a pair; it returned a tuple of length 3"),
    ("forward returns a string", (forward_string, L.affine_backward, X, W, B), {}, TypeError,
     r"forward_string returned str as its out, not an array of numbers"),
    ("two gradients for three inputs", (L.affine_forward, backward_two, X, W, B), {},
     ValueError, r"backward_two returned 2 gradient\(s\) for 3 input\(s\) \(x, w, b\)"),
    ("one array for three inputs", (L.affine_forward, backward_array, X, W, B), {}, TypeError,
     r"backward_array must return a tuple of 3 gradients \(dx, dw, db\), one per input; it "
     r"returned ndarray"),
    ("NaN in a gradient", (L.affine_forward, backward_nan, X, W, B), {}, ValueError,
     r"backward_nan returned NaN or inf in the gradient for w at 1 entries \(first at \(1, 2\)\)"),
    ("a string gradient", (L.affine_forward, backward_string, X, W, B), {}, TypeError,
     r"backward_string's gradient for w is str"),
    ("integer input", (L.affine_forward, L.affine_backward, X, W, np.arange(3)), {}, TypeError,
     r"b has dtype int64; gradients need float inputs"),
    ("dict passed positionally", (L.batchnorm_forward, L.batchnorm_backward, X, W[0], W[1],
                                  {"mode": "train"}), {}, TypeError,
     r"bn_param is a dict; pass parameters that are not differentiated by keyword"),
    ("dout of the wrong shape", (L.affine_forward, L.affine_backward, X, W, B),
     {"dout": np.ones((3, 4))}, ValueError,
     r"dout has shape \(3, 4\) but the forward's output has shape \(4, 3\)"),
    ("random forward without a seed", (dropout_unseeded, L.dropout_backward, X),
     {"dropout_param": {}}, ValueError,
     r"dropout_unseeded gives different outputs for the same inputs .*fix its seed"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
def test_bad_layer_functions_get_clear_errors(case):
    _, args, kwargs, error, message = case
    with pytest.raises(error, match=message):
        check.layer(*args, **kwargs)


def test_bad_loss_functions_get_clear_errors():
    def vector_loss(x, y):
        return np.sum(x, axis=1), np.ones_like(x)

    with pytest.raises(ValueError, match=r"check.loss\(vector_loss\): vector_loss must return "
                                         r"a scalar loss first, got shape \(4,\)"):
        check.loss(vector_loss, X[:, :4], np.zeros(4, int))
    with pytest.raises(TypeError, match=r"x has dtype int64"):
        check.loss(L.softmax_loss, np.ones((2, 3), int), np.zeros(2, int))


def test_bad_networks_get_clear_errors():
    net = L.Network([4, 3, 2])
    x, y = np.ones((4, 1)), np.ones((2, 1))
    with pytest.raises(ValueError, match=r"x must be a column of shape \(4, 1\)"):
        check.network(net, np.ones(4), y)
    with pytest.raises(ValueError, match=r"cost='softmax'; expected one of"):
        check.network(net, x, y, cost="softmax")

    class Short(L.Network):
        def backprop(self, x, y):
            nabla_b, nabla_w = super().backprop(x, y)
            return nabla_b[:1], nabla_w

    with pytest.raises(ValueError, match=r"backprop's nabla_b must be a list of 2 arrays"):
        check.network(Short([4, 3, 2]), x, y)

    class NoBackprop:
        weights, biases = net.weights, net.biases

    with pytest.raises(TypeError, match=r"the network has no \.backprop"):
        check.network(NoBackprop(), x, y)


def test_cmp_names_the_shapes():
    result = check.cmp("dW", np.ones((3, 2)), np.ones((2, 3)), verbose=False)
    assert "shape: yours (3, 2) vs (2, 3)" in str(result) and "transpose" in str(result)
