"""Losses without PyTorch: gradcheck, fused == composed, conventions, stability, errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import nn
from tinygrad_nn.nn import functional as F

REDUCTIONS = ["mean", "sum", "none"]


def leaf(data):
    return tg.Tensor(np.array(data, dtype=np.float64), requires_grad=True)


def rng(seed=0):
    return np.random.default_rng(seed)


LOGITS = rng(0).standard_normal((5, 4)) * 2
LABELS = np.array([0, 3, 1, 3, 2])
PROBS = rng(1).dirichlet(np.ones(4), size=5)
P = rng(2).uniform(0.05, 0.95, (5, 3))
Y01 = (rng(3).uniform(size=(5, 3)) > 0.5).astype(np.float64)


# --------------------------------------------------------------------------------------------
# gradcheck of every loss, every reduction
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss, input, target", [
    (F.mse_loss, LOGITS, PROBS),
    (F.quadratic_cost, LOGITS, PROBS),
    (F.cross_entropy, LOGITS, LABELS),
    (F.cross_entropy, LOGITS, PROBS),
    (F.cross_entropy_composed, LOGITS, LABELS),
    (F.nll_loss, np.log(PROBS), LABELS),
    (F.binary_cross_entropy, P, Y01),
    (F.binary_cross_entropy_with_logits, LOGITS[:, :3], Y01),
])
def test_every_loss_passes_gradcheck(loss, input, target, reduction):
    x = leaf(input)
    assert tg.gradcheck(lambda x: loss(x, target, reduction=reduction), x)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_gradcheck_wrt_probability_targets_and_with_smoothing(smoothing):
    x, q = leaf(LOGITS), leaf(PROBS)
    assert tg.gradcheck(lambda x, q: F.cross_entropy(x, q, label_smoothing=smoothing), x, q)
    assert tg.gradcheck(lambda x: F.cross_entropy(x, LABELS, label_smoothing=smoothing), x)


def test_bce_with_logits_gradcheck_with_pos_weight_and_soft_targets():
    x, y = leaf(LOGITS[:, :3]), leaf(P)
    pos_weight = np.array([1.0, 2.0, 0.5])
    assert tg.gradcheck(
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=pos_weight), x, y)


def test_unbatched_cross_entropy_and_nll():
    x = leaf(LOGITS[1])
    loss = F.cross_entropy(x, np.array(3))
    expected = -(LOGITS[1, 3] - np.log(np.exp(LOGITS[1]).sum()))
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-14)
    np.testing.assert_allclose(F.nll_loss(x.log_softmax(), 3).item(), expected, rtol=1e-14)
    assert tg.gradcheck(lambda x: F.cross_entropy(x, np.array(3)), x)


# --------------------------------------------------------------------------------------------
# fused cross-entropy == composed (log_softmax + nll_loss)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("target", [LABELS, PROBS, PROBS * 1.7 + 0.1],
                         ids=["labels", "probs", "unnormalized"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_fused_cross_entropy_equals_composed(target, reduction, smoothing):
    x1, x2 = leaf(LOGITS), leaf(LOGITS)
    fused = F.cross_entropy(x1, target, reduction, smoothing)
    composed = F.cross_entropy_composed(x2, target, reduction, smoothing)
    assert type(fused.grad_fn).__name__ == "CrossEntropy"
    assert type(composed.grad_fn).__name__ != "CrossEntropy"
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-13, atol=1e-15)
    seed = rng(5).standard_normal(fused.shape)
    fused.backward(seed)
    composed.backward(seed)
    np.testing.assert_allclose(x1.grad.data, x2.grad.data, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("target", [LABELS, PROBS], ids=["labels", "probs"])
def test_fused_cross_entropy_second_derivatives_equal_composed(target):
    v = rng(6).standard_normal(LOGITS.shape)
    hvps = []
    for loss in (F.cross_entropy, F.cross_entropy_composed):
        x = leaf(LOGITS)
        (g,) = tg.grad(loss(x, target, label_smoothing=0.1), x, create_graph=True)
        (hvp,) = tg.grad((g * tg.Tensor(v)).sum(), x)
        hvps.append(hvp.data)
    np.testing.assert_allclose(hvps[0], hvps[1], rtol=1e-12, atol=1e-15)
    assert np.abs(hvps[0]).max() > 1e-3  # the check is not vacuous


def test_fused_cross_entropy_gradient_wrt_probability_target_equals_composed():
    grads = []
    for loss in (F.cross_entropy, F.cross_entropy_composed):
        q = leaf(PROBS)
        loss(tg.Tensor(LOGITS), q, label_smoothing=0.3).backward()
        grads.append(q.grad.data)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-13)


def test_cross_entropy_matches_the_formula_and_float32_stays_float32():
    logp = LOGITS - np.log(np.exp(LOGITS).sum(axis=1, keepdims=True))
    expected = -logp[np.arange(5), LABELS].mean()
    np.testing.assert_allclose(F.cross_entropy(leaf(LOGITS), LABELS).item(), expected,
                               rtol=1e-14)
    x32 = tg.Tensor(LOGITS.astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(x32, LABELS)
    loss.backward()
    assert loss.dtype == np.float32 and x32.grad.dtype == np.float32
    soft = F.cross_entropy(x32, tg.Tensor(PROBS), reduction="none")  # a float64 target
    assert soft.dtype == np.float32


def test_cross_entropy_is_stable_for_huge_logits():
    x = leaf([[1000.0, -1000.0, 0.0], [-5000.0, 5000.0, 4990.0]])
    loss = F.cross_entropy(x, np.array([1, 2]))
    loss.backward()
    np.testing.assert_allclose(loss.item(), (2000.0 + 10.0 + np.log1p(np.exp(-10.0))) / 2,
                               rtol=1e-14)
    assert np.all(np.isfinite(x.grad.data))
    z = leaf([[-1000.0, 1000.0], [1000.0, -1000.0]])
    bce = F.binary_cross_entropy_with_logits(z, np.array([[1.0, 0.0], [1.0, 0.0]]),
                                             reduction="none")
    np.testing.assert_allclose(bce.data, [[1000.0, 1000.0], [0.0, 0.0]], atol=1e-12)


# --------------------------------------------------------------------------------------------
# conventions
# --------------------------------------------------------------------------------------------


def test_mse_is_the_mean_over_all_elements():
    x, y = leaf(LOGITS), PROBS
    np.testing.assert_allclose(F.mse_loss(x, y).item(), np.mean((LOGITS - y) ** 2), rtol=1e-14)
    np.testing.assert_allclose(F.mse_loss(x, y, "sum").item(), np.sum((LOGITS - y) ** 2),
                               rtol=1e-14)
    assert F.mse_loss(x, y, "none").shape == (5, 4)


def test_quadratic_cost_is_nielsens_half_squared_norm_per_example():
    x, y = leaf(LOGITS), PROBS
    per_example = 0.5 * ((LOGITS - y) ** 2).sum(axis=1)
    np.testing.assert_allclose(F.quadratic_cost(x, y, "none").data, per_example, rtol=1e-14)
    np.testing.assert_allclose(F.quadratic_cost(x, y, "sum").item(), per_example.sum(),
                               rtol=1e-14)
    np.testing.assert_allclose(F.quadratic_cost(x, y).item(), per_example.mean(), rtol=1e-14)
    # Nielsen's delta for the output pre-activation is (a - y); "mean" averages it over m
    F.quadratic_cost(x, y).backward()
    np.testing.assert_allclose(x.grad.data, (LOGITS - y) / 5, rtol=1e-14)
    np.testing.assert_allclose(F.quadratic_cost(leaf([1.0, 3.0]), [0.0, 0.0], "none").data,
                               [0.5, 4.5])  # 1-D: a batch of scalar outputs


def test_bce_matches_the_formula_and_clamps_logs_at_minus_100():
    x = leaf(P)
    expected = -(Y01 * np.log(P) + (1 - Y01) * np.log(1 - P))
    np.testing.assert_allclose(F.binary_cross_entropy(x, Y01, "none").data, expected,
                               rtol=1e-14)
    edge = leaf([0.0, 1.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(edge, [1.0, 0.0, 0.0, 1.0], "none")
    np.testing.assert_allclose(loss.data, [100.0, 100.0, 0.0, 0.0], atol=1e-12)
    loss.sum().backward()
    assert np.all(np.isfinite(edge.grad.data))


def test_bce_with_logits_equals_bce_of_sigmoid():
    z = leaf(LOGITS[:, :3])
    p = 1 / (1 + np.exp(-LOGITS[:, :3]))
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(z, Y01).item(),
                               F.binary_cross_entropy(leaf(p), Y01).item(), rtol=1e-13)
    # the stable softplus has the right slope at exactly 0: sigmoid(0) - y
    zero = leaf([0.0, 0.0])
    F.binary_cross_entropy_with_logits(zero, [1.0, 0.0], "sum").backward()
    np.testing.assert_allclose(zero.grad.data, [-0.5, 0.5], rtol=1e-15)


def test_l2_penalty_conventions():
    model = nn.MLP([3, 4, 2], batchnorm=True, dtype=np.float64)
    weights = [model.linears[0].weight.data, model.linears[1].weight.data]
    squares = sum((w**2).sum() for w in weights)
    # given a Module: only weights (ndim >= 2), not biases or BatchNorm's gamma/beta
    np.testing.assert_allclose(F.l2_penalty(model, 0.1).item(), 0.5 * 0.1 * squares,
                               rtol=1e-14)
    # CS231n: 0.5 * reg * sum W^2 -> dW = reg * W
    w = leaf(weights[0])
    F.l2_penalty([w], 0.3).backward()
    np.testing.assert_allclose(w.grad.data, 0.3 * weights[0], rtol=1e-14)
    # Nielsen network2: lmbda/(2n) sum w^2 is strength = lmbda / n
    lmbda, n = 5.0, 50_000
    np.testing.assert_allclose(F.l2_penalty([w], lmbda / n).item(),
                               lmbda / (2 * n) * (weights[0] ** 2).sum(), rtol=1e-14)
    with pytest.raises(ValueError, match="no parameters"):
        F.l2_penalty([], 0.1)


# --------------------------------------------------------------------------------------------
# errors name the loss, the shapes and the dtypes
# --------------------------------------------------------------------------------------------


def test_error_messages():
    x = leaf(LOGITS)
    with pytest.raises(ValueError, match=r"mse_loss: target shape \(5,\) does not match input "
                                         r"shape \(5, 4\) \(input float64, target float64\)"):
        F.mse_loss(x, np.zeros(5))
    with pytest.raises(TypeError, match=r"cross_entropy: class labels must be integers, got "
                                        r"dtype bool with shape \(5,\)"):
        F.cross_entropy(x, np.ones(5, dtype=bool))
    with pytest.raises(ValueError, match=r"cross_entropy: target shape \(5, 3\) does not match "
                                         r"input shape \(5, 4\)"):
        F.cross_entropy(x, np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"cross_entropy: target shape \(4,\) does not match "
                                         r"input shape \(5, 4\): expected labels of shape \(5,\)"):
        F.cross_entropy(x, np.array([0, 1, 2, 3]))
    with pytest.raises(IndexError, match=r"nll_loss: labels must be in \[0, 4\) for input shape "
                                         r"\(5, 4\), got \[4, -1\]"):
        F.nll_loss(x, np.array([0, 4, 1, -1, 2]))
    with pytest.raises(ValueError, match="binary_cross_entropy: reduction must be 'mean', "
                                         "'sum' or 'none', got 'avg'"):
        F.binary_cross_entropy(leaf(P), Y01, reduction="avg")
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must be probabilities "
                                         r"in \[0, 1\]"):
        F.binary_cross_entropy(x, np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"cross_entropy: input must be \(N, C\) scores"):
        F.cross_entropy(leaf(np.zeros((2, 3, 4))), np.zeros((2, 3), dtype=int))
    with pytest.raises(TypeError, match=r"quadratic_cost: input must be floating point, got "
                                        r"int64"):
        F.quadratic_cost(tg.Tensor([1, 2]), [1.0, 2.0])
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        F.cross_entropy(x, LABELS, label_smoothing=1.5)


# --------------------------------------------------------------------------------------------
# loss modules
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module, function, input, target", [
    (nn.MSELoss(reduction="sum"), lambda x, t: F.mse_loss(x, t, "sum"), LOGITS, PROBS),
    (nn.QuadraticCost(), F.quadratic_cost, LOGITS, PROBS),
    (nn.CrossEntropyLoss(label_smoothing=0.1),
     lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1), LOGITS, LABELS),
    (nn.NLLLoss(reduction="none"), lambda x, t: F.nll_loss(x, t, "none"), LOGITS, LABELS),
    (nn.BCELoss(), F.binary_cross_entropy, P, Y01),
    (nn.BCEWithLogitsLoss(pos_weight=[2.0, 1.0, 3.0]),
     lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=[2.0, 1.0, 3.0]),
     LOGITS[:, :3], Y01),
])
def test_loss_modules_call_their_function(module, function, input, target):
    np.testing.assert_array_equal(module(leaf(input), target).data,
                                  function(leaf(input), target).data)
    assert "reduction=" in repr(module)


def test_get_loss_by_name():
    assert isinstance(nn.get_loss("cross_entropy", label_smoothing=0.1), nn.CrossEntropyLoss)
    assert nn.get_loss("quadratic").reduction == "mean"
    with pytest.raises(ValueError, match="unknown loss 'hinge'; allowed: mse, quadratic"):
        nn.get_loss("hinge")
    with pytest.raises(ValueError, match="MSELoss: reduction must be"):
        nn.MSELoss(reduction="avg")
