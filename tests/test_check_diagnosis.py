"""The diagnosis table: one deliberately broken backward per classic bug, each named correctly.

Each broken function is the correct one of tests/learner_layers.py with one line changed, the
way learners get it wrong. With the diagnosis disabled (the mutation "check: diagnosis
disabled" in .ci/mutations.py) every row of the table fails.
"""

from __future__ import annotations

import learner_layers as L
import numpy as np
import pytest

from tinygrad_nn import check

rng = np.random.default_rng(1)
X, W, B = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
XSQ, WSQ = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
H = rng.standard_normal((6, 4))
SCORES, LABELS = rng.standard_normal((5, 10)), np.array([0, 4, 9, 2, 7])
TARGETS = rng.standard_normal((5, 10))


# ---- broken layers: the correct code with one line changed ----------------------------------


def affine_backward_dw_transposed(dout, cache):
    x, w, b = cache
    dx, _, db = L.affine_backward(dout, cache)
    return dx, dout.T.dot(x), db  # (M, D) instead of (D, M)


def affine_backward_dw_transposed_square(dout, cache):
    x, w, b = cache
    dx, dw, db = L.affine_backward(dout, cache)
    return dx, dw.T, db


def affine_backward_db_not_summed(dout, cache):
    dx, dw, _ = L.affine_backward(dout, cache)
    return dx, dw, dout  # a gradient per example, not summed over the batch


def affine_backward_dx_flat(dout, cache):
    dx, dw, db = L.affine_backward(dout, cache)
    return dx.reshape(-1), dw, db


def affine_backward_dx_no_w(dout, cache):
    x, w, b = cache
    _, dw, db = L.affine_backward(dout, cache)
    return dout.dot(np.ones_like(w).T), dw, db  # the shape is right, the values are not


def sigmoid_backward_no_derivative(dout, cache):
    return dout  # forgot * out * (1 - out)


def tanh_backward_no_derivative(dout, cache):
    return dout


def relu_backward_no_mask(dout, cache):
    return dout


def tanh_backward_twice(dout, cache):
    out = cache
    return dout * (1 - out ** 2) ** 2


def softmax_loss_summed(x, y):
    loss, dx = L.softmax_loss(x, y)
    return loss, dx * x.shape[0]  # forgot dx /= N


def softmax_loss_divided_twice(x, y):
    loss, dx = L.softmax_loss(x, y)
    return loss, dx / x.shape[0]


def svm_loss_no_correct_class_term(x, y):
    N = x.shape[0]
    correct_class_scores = x[np.arange(N), y]
    margins = np.maximum(0, x - correct_class_scores[:, np.newaxis] + 1.0)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N
    dx = np.zeros_like(x)
    dx[margins > 0] = 1
    dx /= N  # forgot dx[np.arange(N), y] -= num_pos
    return loss, dx


def half_squared_error(x, y):
    """loss = ½ mean over the batch of the squared error."""
    n = x.shape[0]
    return 0.5 * np.sum((x - y) ** 2) / n, 2 * (x - y) / n  # the ½ forgotten in dx


def squared_error(x, y):
    n = x.shape[0]
    return np.sum((x - y) ** 2) / n, (x - y) / n  # the 2 forgotten


def squared_error_sign(x, y):
    n = x.shape[0]
    return np.sum((x - y) ** 2) / n, 2 * (y - x) / n


# (case, kind expected, words the message must contain, the call giving a Report, wrong row)
TABLE = [
    ("transposed dw", "transposed", "transpose",
     lambda: check.layer(L.affine_forward, affine_backward_dw_transposed, X, W, B), "dw"),
    ("transposed square dw", "transposed", "transpose",
     lambda: check.layer(L.affine_forward, affine_backward_dw_transposed_square, XSQ, WSQ,
                         B[:1].repeat(4)), "dw"),
    ("bias not summed", "bias-not-summed", "sum over axis 0",
     lambda: check.layer(L.affine_forward, affine_backward_db_not_summed, X, W, B), "db"),
    ("wrong shape", "shape", "reshape it to the input's shape (4, 5)",
     lambda: check.layer(L.affine_forward, affine_backward_dx_flat, X, W, B), "dx"),
    ("no pattern", "unknown", "none of the usual patterns",
     lambda: check.layer(L.affine_forward, affine_backward_dx_no_w, X, W, B), "dx"),
    ("sigmoid derivative missing", "activation:sigmoid", "σ'",
     lambda: check.layer(L.sigmoid_forward, sigmoid_backward_no_derivative, H), "dx"),
    ("tanh derivative missing", "activation:tanh", "1 - tanh(x)²",
     lambda: check.layer(L.tanh_forward, tanh_backward_no_derivative, H), "dx"),
    ("relu mask missing", "activation:relu", "ReLU mask",
     lambda: check.layer(L.relu_forward, relu_backward_no_mask, H), "dx"),
    ("tanh derivative twice", "extra-activation:tanh", "too many",
     lambda: check.layer(L.tanh_forward, tanh_backward_twice, H), "dx"),
    ("summed over the batch", "factor:batch", "N = 5 (the batch size)",
     lambda: check.loss(softmax_loss_summed, SCORES, LABELS), "dx"),
    ("divided by the batch twice", "factor:1/batch", "1/N = 1/5",
     lambda: check.loss(softmax_loss_divided_twice, SCORES, LABELS), "dx"),
    ("a missing ½", "factor:2", "missing ½",
     lambda: check.loss(half_squared_error, SCORES, TARGETS), "dx"),
    ("a missing 2", "factor:1/2", "missing factor 2",
     lambda: check.loss(squared_error, SCORES, TARGETS), "dx"),
    ("sign", "factor:-1", "wrong sign",
     lambda: check.loss(squared_error_sign, SCORES, TARGETS), "dx"),
    ("a few entries", "entries", "wrong at 4 of 50 entries",
     lambda: check.loss(svm_loss_no_correct_class_term, SCORES, LABELS), "dx"),
]


@pytest.mark.parametrize("case", TABLE, ids=lambda c: c[0])
def test_each_classic_bug_is_named(case):
    _, kind, words, run, row = case
    report = run()
    assert not report.ok
    assert [r.name for r in report.failures] == [row], str(report)
    diagnosis = report.row(row).diagnosis
    assert diagnosis is not None and diagnosis.kind == kind, str(report)
    assert words in diagnosis.message, diagnosis.message
    assert words in str(report)


# ---- networks: the first wrong layer from the output, and why --------------------------------


class NoSigmaPrimeAtOutput(L.Network):
    """The quadratic cost's delta without σ'(z) (its backprop otherwise Nielsen's)."""

    def __init__(self, sizes):
        class Cost:
            __name__ = "QuadraticCost"

            @staticmethod
            def delta(z, a, y):
                return a - y

        super().__init__(sizes, cost=Cost, seed=4)


class QuadraticDeltaWithCrossEntropy(L.Network):
    def __init__(self, sizes):
        super().__init__(sizes, cost=L.CrossEntropyCost, seed=4)
        self.cost_delta = L.QuadraticCost.delta

    def backprop(self, x, y):
        cost, self.cost = self.cost, type("Q", (), {"delta": staticmethod(self.cost_delta)})
        try:
            return super().backprop(x, y)
        finally:
            self.cost = cost


class HiddenWithoutSigmaPrime(L.Network):
    def __init__(self, sizes):
        super().__init__(sizes, seed=4)

    def backprop(self, x, y):
        real = L.sigmoid_prime
        calls = []

        def prime(z):  # the output layer's delta uses it; the hidden layers forget it
            calls.append(z)
            return real(z) if len(calls) == 1 else np.ones_like(z)

        L.sigmoid_prime = prime
        try:
            return super().backprop(x, y)
        finally:
            L.sigmoid_prime = real


class HiddenWeightsTransposed(L.Network):
    def __init__(self, sizes):
        super().__init__(sizes, seed=4)

    def backprop(self, x, y):
        nabla_b, nabla_w = super().backprop(x, y)
        nabla_w[0] = nabla_w[0].T  # activations @ delta.T instead of delta @ activations.T
        return nabla_b, nabla_w


NET_X = np.linspace(-1, 1, 6).reshape(6, 1)
NET_Y = np.array([[0.0], [1.0], [0.0]])

NETWORK_TABLE = [
    ("σ'(z) missing at the output", NoSigmaPrimeAtOutput, "quadratic", "layer 3 (4->3)",
     "activation:sigmoid"),
    ("quadratic delta with cross-entropy", QuadraticDeltaWithCrossEntropy, "cross-entropy",
     "layer 3 (4->3)", "extra-activation:sigmoid"),
    ("σ'(z) missing in the hidden layers", HiddenWithoutSigmaPrime, "quadratic",
     "layer 2 (5->4)", "activation:sigmoid"),
    ("hidden weights transposed", HiddenWeightsTransposed, "quadratic", "layer 1 (6->5)",
     "transposed"),
]


@pytest.mark.parametrize("case", NETWORK_TABLE, ids=lambda c: c[0])
def test_network_first_wrong_layer_from_the_output_and_its_cause(case):
    _, cls, cost, first, kind = case
    report = check.network(cls([6, 5, 4, 3]), NET_X, NET_Y, cost=cost)
    assert not report.ok
    assert report.first_wrong == first, str(report)
    wrong_at_first = [r for r in report.failures if r.name.startswith(first)]
    assert wrong_at_first and wrong_at_first[0].diagnosis.kind == kind, str(report)
    assert f"the first wrong layer from the output is {first}" in str(report)


# ---- the patterns, over shapes and values (hypothesis) ----------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FACTORS = {"batch": lambda n: n, "1/batch": lambda n: 1 / n, "2": lambda n: 2.0,
           "1/2": lambda n: 0.5, "-1": lambda n: -1.0, "-batch": lambda n: -n}


@given(shape=st.lists(st.integers(3, 6), min_size=1, max_size=3), seed=st.integers(0, 99),
       kind=st.sampled_from(sorted(FACTORS)))
def test_every_constant_factor_is_named_at_any_shape(shape, seed, kind):
    true = np.random.default_rng(seed).standard_normal(shape)
    n = shape[0]  # 3 or more: N = 2 would be the factor 2
    found = check.diagnose(FACTORS[kind](n) * true, true, batch=n)
    assert found.kind == f"factor:{kind}", found


@given(n=st.integers(2, 6), seed=st.integers(0, 99), batch=st.integers(2, 5))
def test_transposes_and_unsummed_biases_at_any_shape(n, seed, batch):
    r = np.random.default_rng(seed)
    square = r.standard_normal((n, n))
    assert check.diagnose(square.T, square).kind == "transposed"
    wide = r.standard_normal((n, n + 1))
    assert check.diagnose(wide.T, wide).kind == "transposed"
    per_example = r.standard_normal((batch, n))
    assert check.diagnose(per_example, per_example.sum(axis=0)).kind == "bias-not-summed"
    column = r.standard_normal((n, batch))  # Nielsen's layout: biases (n, 1)
    assert check.diagnose(column, column.sum(axis=1, keepdims=True)).kind == "bias-not-summed"
