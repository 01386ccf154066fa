"""CS231n assignment-2 reference: every layer's backward against central differences, float64."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from refcheck_numeric import numeric_gradient, numeric_vjp

from tinygrad_nn.reference import cs231n
from tinygrad_nn.reference.cs231n import rel_error


def rng_for(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def away_from_zero(x: np.ndarray, margin: float = 1e-2) -> np.ndarray:
    """Push entries off relu's kink, so a finite difference never straddles it."""
    return np.where(np.abs(x) < margin, np.sign(x + 1e-12) * margin * 2.0, x)


# ================================================================ affine and nonlinearities


def test_affine_backward_matches_numeric_with_reshaped_input():
    rng = rng_for(0)
    x = rng.standard_normal((4, 2, 3))  # flattened to (4, 6)
    w = rng.standard_normal((6, 5))
    b = rng.standard_normal(5)
    out, cache = cs231n.affine_forward(x, w, b)
    np.testing.assert_allclose(out, x.reshape(4, 6) @ w + b, rtol=1e-14)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = cs231n.affine_backward(dout, cache)

    def f() -> np.ndarray:
        return cs231n.affine_forward(x, w, b)[0]

    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert rel_error(dx, numeric_vjp(f, x, dout)) < 1e-9
    assert rel_error(dw, numeric_vjp(f, w, dout)) < 1e-9
    assert rel_error(db, numeric_vjp(f, b, dout)) < 1e-9


@pytest.mark.parametrize(
    "layer",
    [
        (cs231n.relu_forward, cs231n.relu_backward),
        (cs231n.sigmoid_forward, cs231n.sigmoid_backward),
        (cs231n.tanh_forward, cs231n.tanh_backward),
    ],
    ids=["relu", "sigmoid", "tanh"],
)
def test_elementwise_backward_matches_numeric(layer):
    forward, backward = layer
    rng = rng_for(1)
    x = away_from_zero(2.0 * rng.standard_normal((5, 7)))
    dout = rng.standard_normal(x.shape)
    out, cache = forward(x)
    dx = backward(dout, cache)
    assert rel_error(dx, numeric_vjp(lambda: forward(x)[0], x, dout)) < 1e-9


def test_elementwise_forward_values():
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(cs231n.relu_forward(x)[0], [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(cs231n.sigmoid_forward(x)[0], 1.0 / (1.0 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(cs231n.tanh_forward(x)[0], np.tanh(x), rtol=1e-15)


def test_relu_derivative_at_zero_is_zero():
    x = np.array([[0.0, -1.0, 2.0, 0.0]])
    _, cache = cs231n.relu_forward(x)
    dx = cs231n.relu_backward(np.array([[5.0, 5.0, 5.0, -5.0]]), cache)
    np.testing.assert_array_equal(dx, [[0.0, 0.0, 5.0, 0.0]])


# ================================================================ batch normalisation


def bn_inputs(seed: int, N: int = 6, D: int = 4):
    """Uneven scales and offsets per feature; gamma and beta away from 1 and 0."""
    rng = rng_for(seed)
    x = rng.standard_normal((N, D)) * rng.uniform(0.5, 3.0, D) + rng.uniform(-2.0, 2.0, D)
    gamma = rng.uniform(0.5, 2.0, D) * rng.choice([-1.0, 1.0], D)
    beta = rng.standard_normal(D)
    dout = rng.standard_normal((N, D))
    return x, gamma, beta, dout


@pytest.mark.parametrize(
    "backward", [cs231n.batchnorm_backward, cs231n.batchnorm_backward_alt], ids=["graph", "alt"]
)
def test_batchnorm_backward_matches_numeric(backward):
    x, gamma, beta, dout = bn_inputs(2)
    _, cache = cs231n.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = backward(dout, cache)

    def f() -> np.ndarray:
        return cs231n.batchnorm_forward(x, gamma, beta, {"mode": "train"})[0]

    assert rel_error(dx, numeric_vjp(f, x, dout)) < 1e-8
    assert rel_error(dgamma, numeric_vjp(f, gamma, dout)) < 1e-8
    assert rel_error(dbeta, numeric_vjp(f, beta, dout)) < 1e-8


@settings(max_examples=30, deadline=None)
@given(N=st.integers(2, 8), D=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_batchnorm_backward_equals_alt(N, D, seed):
    x, gamma, beta, dout = bn_inputs(seed, N, D)
    _, cache = cs231n.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    graph = cs231n.batchnorm_backward(dout, cache)
    alt = cs231n.batchnorm_backward_alt(dout, cache)
    for a, b in zip(graph, alt, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_batchnorm_train_normalises_with_biased_variance():
    x, gamma, beta, _ = bn_inputs(3, N=4)  # small N: biased and unbiased variance differ by 4/3
    out, _ = cs231n.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    var = x.var(axis=0)  # ddof=0, the biased estimate
    expected = gamma * (x - x.mean(axis=0)) / np.sqrt(var + 1e-5) + beta
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-14)


def test_batchnorm_running_stats_weight_the_old_value_by_momentum():
    x, gamma, beta, _ = bn_inputs(4, N=5)
    old_mean = np.array([0.5, -1.0, 2.0, 0.25])
    old_var = np.array([1.5, 0.5, 3.0, 2.0])
    bn_param = {"mode": "train", "running_mean": old_mean.copy(), "running_var": old_var.copy()}
    cs231n.batchnorm_forward(x, gamma, beta, bn_param)
    # CS231n: momentum 0.9 keeps 90% of the OLD running value (PyTorch's 0.1 means the reverse).
    np.testing.assert_allclose(bn_param["running_mean"], 0.9 * old_mean + 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(bn_param["running_var"], 0.9 * old_var + 0.1 * x.var(axis=0))

    fresh = {"mode": "train", "momentum": 0.5}
    cs231n.batchnorm_forward(x, gamma, beta, fresh)
    np.testing.assert_allclose(fresh["running_mean"], 0.5 * x.mean(axis=0))


def test_batchnorm_test_mode_uses_running_stats_and_leaves_them():
    x, gamma, beta, dout = bn_inputs(5)
    running_mean = np.array([0.3, -0.2, 1.0, 0.0])
    running_var = np.array([2.0, 0.5, 1.5, 0.8])
    bn_param = {"mode": "test", "running_mean": running_mean, "running_var": running_var}
    out, cache = cs231n.batchnorm_forward(x, gamma, beta, bn_param)
    expected = gamma * (x - running_mean) / np.sqrt(running_var + 1e-5) + beta
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    np.testing.assert_array_equal(bn_param["running_mean"], running_mean)
    np.testing.assert_array_equal(bn_param["running_var"], running_var)

    # Test-mode backward: a fixed per-feature affine map.
    def f() -> np.ndarray:
        return cs231n.batchnorm_forward(x, gamma, beta, dict(bn_param))[0]

    for backward in (cs231n.batchnorm_backward, cs231n.batchnorm_backward_alt):
        dx, dgamma, dbeta = backward(dout, cache)
        assert rel_error(dx, numeric_vjp(f, x, dout)) < 1e-9
        assert rel_error(dgamma, numeric_vjp(f, gamma, dout)) < 1e-9
        assert rel_error(dbeta, numeric_vjp(f, beta, dout)) < 1e-9


# ================================================================ dropout


def test_dropout_uses_the_given_keep_mask_scaled_by_keep_prob():
    rng = rng_for(6)
    x = rng.standard_normal((4, 5))
    keep = rng.random((4, 5)) < 0.6
    out, cache = cs231n.dropout_forward(x, {"keep_prob": 0.6, "mode": "train", "mask": keep})
    np.testing.assert_allclose(out, np.where(keep, x / 0.6, 0.0), rtol=1e-15)

    dout = rng.standard_normal(x.shape)
    dx = cs231n.dropout_backward(dout, cache)
    np.testing.assert_allclose(dx, np.where(keep, dout / 0.6, 0.0), rtol=1e-15)
    param = {"keep_prob": 0.6, "mode": "train", "mask": keep}
    numeric = numeric_vjp(lambda: cs231n.dropout_forward(x, param)[0], x, dout)
    assert rel_error(dx, numeric) < 1e-9


def test_dropout_is_identity_in_test_mode():
    rng = rng_for(7)
    x = rng.standard_normal((3, 4))
    out, cache = cs231n.dropout_forward(x, {"keep_prob": 0.3, "mode": "test"})
    np.testing.assert_array_equal(out, x)
    dout = rng.standard_normal(x.shape)
    np.testing.assert_array_equal(cs231n.dropout_backward(dout, cache), dout)


def test_dropout_random_mask_keeps_keep_prob_and_preserves_the_mean():
    x = np.ones((400, 500))
    out, _ = cs231n.dropout_forward(x, {"keep_prob": 0.25, "mode": "train", "seed": 0})
    assert np.mean(out != 0) == pytest.approx(0.25, abs=0.005)
    assert out.mean() == pytest.approx(1.0, abs=0.02)  # inverted dropout: E[out] = x
    again, _ = cs231n.dropout_forward(x, {"keep_prob": 0.25, "mode": "train", "seed": 0})
    np.testing.assert_array_equal(out, again)


def test_dropout_refuses_the_ambiguous_p_and_bad_masks():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="keep_prob"):
        cs231n.dropout_forward(x, {"p": 0.5, "mode": "train"})
    with pytest.raises(ValueError, match="mask shape"):
        cs231n.dropout_forward(x, {"keep_prob": 0.5, "mode": "train", "mask": np.ones((3, 2))})
    with pytest.raises(ValueError, match="keep_prob"):
        cs231n.dropout_forward(x, {"keep_prob": 0.0, "mode": "train"})


# ================================================================ losses


def test_softmax_loss_matches_numeric_and_hand_values():
    rng = rng_for(8)
    x = 3.0 * rng.standard_normal((6, 4))
    y = np.array([0, 3, 1, 1, 2, 0])
    loss, dx = cs231n.softmax_loss(x, y)
    numeric = numeric_gradient(lambda: cs231n.softmax_loss(x, y)[0], x)
    assert rel_error(dx, numeric) < 1e-7
    np.testing.assert_allclose(dx.sum(axis=1), 0.0, atol=1e-15)

    # Mean over N of -log softmax[y], computed the plain way.
    probs = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(probs[np.arange(6), y])), rel=1e-13)
    # Equal scores: loss = log(C); huge scores do not overflow thanks to the max shift.
    assert cs231n.softmax_loss(np.zeros((3, 10)), np.array([1, 2, 3]))[0] == pytest.approx(
        np.log(10.0)
    )
    big_loss, big_dx = cs231n.softmax_loss(x + 1000.0, y)
    assert big_loss == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(big_dx, dx, atol=1e-14)


def test_l2_loss_value_and_gradient():
    W1 = np.array([[1.0, 2.0]])
    W2 = np.array([[-3.0], [0.5]])
    loss, grads = cs231n.l2_loss([W1, W2], reg=0.4)
    assert loss == pytest.approx(0.5 * 0.4 * (1 + 4 + 9 + 0.25), rel=1e-15)
    for W, grad in zip((W1, W2), grads, strict=True):
        numeric = numeric_gradient(lambda: cs231n.l2_loss([W1, W2], 0.4)[0], W)
        assert rel_error(grad, numeric) < 1e-9


# ================================================================ the fully connected net


def fc_setup(normalization, seed: int = 9):
    """A small net with every parameter non-zero and uneven (not the zeros/ones of fc_net_init)."""
    rng = rng_for(seed)
    N, D, hidden, C = 5, 6, [7, 4], 3
    params = cs231n.fc_net_init(
        hidden, D, C, weight_scale=0.5, normalization=normalization, rng=rng
    )
    for name, value in params.items():
        if name.startswith("b") or name.startswith("beta"):
            params[name] = 0.3 * rng.standard_normal(value.shape)
        if name.startswith("gamma"):
            params[name] = rng.uniform(0.5, 1.5, value.shape)
    X = rng.standard_normal((N, D))
    y = rng.integers(0, C, N)
    return params, X, y, rng


def check_fc_gradients(params, grads, loss_fn, normalization):
    for name, value in params.items():
        numeric = numeric_gradient(loss_fn, value)
        assert grads[name].shape == value.shape, name
        if normalization == "batchnorm" and name in ("b1", "b2"):
            # A bias right before batchnorm is subtracted out again: its gradient is exactly 0,
            # so compare absolutely (a relative error of two near-zeros means nothing).
            np.testing.assert_allclose(grads[name], 0.0, atol=1e-12)
            np.testing.assert_allclose(numeric, 0.0, atol=1e-9)
        else:
            assert rel_error(grads[name], numeric) < 1e-7, name


@pytest.mark.parametrize("normalization", [None, "batchnorm"])
@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_fc_net_gradients_match_numeric(normalization, reg):
    params, X, y, _ = fc_setup(normalization)
    loss, grads = cs231n.fc_net_loss(params, X, y, normalization=normalization, reg=reg)
    assert set(grads) == set(params)

    def loss_fn() -> float:
        return cs231n.fc_net_loss(params, X, y, normalization=normalization, reg=reg)[0]

    check_fc_gradients(params, grads, loss_fn, normalization)


@pytest.mark.parametrize("normalization", [None, "batchnorm"])
def test_fc_net_gradients_with_fixed_dropout_masks(normalization):
    params, X, y, rng = fc_setup(normalization, seed=10)
    masks = [rng.random((5, 7)) < 0.7, rng.random((5, 4)) < 0.7]
    kwargs = {"normalization": normalization, "keep_prob": 0.7, "dropout_masks": masks, "reg": 0.1}
    loss, grads = cs231n.fc_net_loss(params, X, y, **kwargs)
    no_dropout_loss, _ = cs231n.fc_net_loss(params, X, y, normalization=normalization, reg=0.1)
    assert loss != pytest.approx(no_dropout_loss)  # the masks are really applied
    loss_fn = lambda: cs231n.fc_net_loss(params, X, y, **kwargs)[0]  # noqa: E731
    check_fc_gradients(params, grads, loss_fn, normalization)


def test_fc_net_test_mode_uses_running_stats_and_no_dropout():
    params, X, y, rng = fc_setup("batchnorm", seed=11)
    bn_params = [
        {"running_mean": rng.standard_normal(7), "running_var": rng.uniform(0.5, 2.0, 7)},
        {"running_mean": rng.standard_normal(4), "running_var": rng.uniform(0.5, 2.0, 4)},
    ]
    saved = [{k: v.copy() for k, v in p.items()} for p in bn_params]
    kwargs = {
        "normalization": "batchnorm",
        "keep_prob": 0.5,
        "dropout_seed": 3,
        "bn_params": bn_params,
        "mode": "test",
    }
    scores, _ = cs231n.fc_net_forward(params, X, **kwargs)

    # The same network written out by hand: affine - bn(running stats) - relu, twice, then affine.
    h = X
    for i, stats in enumerate(saved, start=1):
        h = h @ params[f"W{i}"] + params[f"b{i}"]
        h = (h - stats["running_mean"]) / np.sqrt(stats["running_var"] + 1e-5)
        h = np.maximum(0.0, params[f"gamma{i}"] * h + params[f"beta{i}"])
    np.testing.assert_allclose(scores, h @ params["W3"] + params["b3"], rtol=1e-13)
    for p, s in zip(bn_params, saved, strict=True):
        np.testing.assert_array_equal(p["running_mean"], s["running_mean"])

    loss, grads = cs231n.fc_net_loss(params, X, y, **kwargs)
    for name, value in params.items():
        numeric = numeric_gradient(lambda: cs231n.fc_net_loss(params, X, y, **kwargs)[0], value)
        assert rel_error(grads[name], numeric) < 1e-7, name


def test_fc_net_train_mode_updates_the_given_bn_params():
    params, X, _, _ = fc_setup("batchnorm", seed=12)
    bn_params = [{}, {}]
    cs231n.fc_net_forward(params, X, normalization="batchnorm", bn_params=bn_params)
    h = X @ params["W1"] + params["b1"]
    np.testing.assert_allclose(bn_params[0]["running_mean"], 0.1 * h.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(bn_params[0]["running_var"], 0.1 * h.var(axis=0), rtol=1e-13)


def test_fc_net_init_keys_shapes_and_scale():
    params = cs231n.fc_net_init(
        [100, 50], 200, 10, weight_scale=0.1, normalization="batchnorm", rng=rng_for(0)
    )
    expected = {
        "W1": (200, 100), "b1": (100,), "gamma1": (100,), "beta1": (100,),
        "W2": (100, 50), "b2": (50,), "gamma2": (50,), "beta2": (50,),
        "W3": (50, 10), "b3": (10,),
    }  # fmt: skip
    assert {k: v.shape for k, v in params.items()} == expected
    assert params["W1"].std() == pytest.approx(0.1, rel=0.03)
    np.testing.assert_array_equal(params["gamma1"], 1.0)
    np.testing.assert_array_equal(params["b3"], 0.0)
    assert "gamma1" not in cs231n.fc_net_init([4], 3, 2, rng=rng_for(0))


# ================================================================ update rules


def test_sgd_step_and_default_learning_rate():
    w = np.array([1.0, -2.0])
    next_w, config = cs231n.sgd(w, np.array([0.5, 0.25]))
    np.testing.assert_allclose(next_w, [1.0 - 0.005, -2.0 - 0.0025], rtol=1e-15)
    assert config == {"learning_rate": 1e-2}


def test_sgd_momentum_two_hand_steps():
    # mu = 0.9, lr = 0.1, w = 1, gradients 1 then 2:
    # step 1: v = -0.1,               w = 0.9
    # step 2: v = 0.9*(-0.1) - 0.2 = -0.29, w = 0.61
    config = {"learning_rate": 0.1}
    w, config = cs231n.sgd_momentum(np.array([1.0]), np.array([1.0]), config)
    np.testing.assert_allclose([w[0], config["velocity"][0]], [0.9, -0.1], rtol=1e-14)
    w, config = cs231n.sgd_momentum(w, np.array([2.0]), config)
    np.testing.assert_allclose([w[0], config["velocity"][0]], [0.61, -0.29], rtol=1e-14)
    assert config["momentum"] == 0.9


def test_sgd_momentum_matches_the_assignment_check_entry():
    # The notebook's first entry: w = -0.4, dw = -0.6, v = 0.6, lr = 1e-3:
    # v = 0.9 * 0.6 + 1e-3 * 0.6 = 0.5406, next_w = -0.4 + 0.5406 = 0.1406.
    config = {"learning_rate": 1e-3, "velocity": np.array([0.6])}
    next_w, _ = cs231n.sgd_momentum(np.array([-0.4]), np.array([-0.6]), config)
    np.testing.assert_allclose(next_w, [0.1406], rtol=1e-13)


def test_sgd_nesterov_two_hand_steps():
    # mu = 0.9, lr = 0.1, w = 1, gradients 1 then 2; w += -mu * v_prev + (1 + mu) * v:
    # step 1: v_prev = 0,    v = -0.1,  w = 1 + 1.9 * (-0.1)               = 0.81
    # step 2: v_prev = -0.1, v = -0.29, w = 0.81 + 0.09 + 1.9 * (-0.29)    = 0.349
    config = {"learning_rate": 0.1}
    w, config = cs231n.sgd_nesterov(np.array([1.0]), np.array([1.0]), config)
    np.testing.assert_allclose([w[0], config["velocity"][0]], [0.81, -0.1], rtol=1e-14)
    w, config = cs231n.sgd_nesterov(w, np.array([2.0]), config)
    np.testing.assert_allclose([w[0], config["velocity"][0]], [0.349, -0.29], rtol=1e-13)


def test_rmsprop_two_hand_steps():
    # Defaults lr = 1e-2, decay = 0.99, eps = 1e-8; w = 1, gradients 2 then 1:
    # step 1: cache = 0.01 * 4 = 0.04,                   w = 1 - 0.01 * 2 / (0.2 + 1e-8)
    # step 2: cache = 0.99 * 0.04 + 0.01 * 1 = 0.0496,   w -= 0.01 * 1 / (sqrt(0.0496) + 1e-8)
    w, config = cs231n.rmsprop(np.array([1.0]), np.array([2.0]))
    w1 = 1.0 - 0.02 / (0.2 + 1e-8)
    np.testing.assert_allclose([w[0], config["cache"][0]], [w1, 0.04], rtol=1e-14)
    w, config = cs231n.rmsprop(w, np.array([1.0]), config)
    w2 = w1 - 0.01 / (np.sqrt(0.0496) + 1e-8)
    np.testing.assert_allclose([w[0], config["cache"][0]], [w2, 0.0496], rtol=1e-14)
    assert (config["learning_rate"], config["decay_rate"], config["epsilon"]) == (1e-2, 0.99, 1e-8)


def test_adam_two_hand_steps():
    # Defaults lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8; w = 1, gradients 2 then -1.
    # step 1 (t = 1): m = 0.2, v = 0.004, m_hat = 0.2 / 0.1 = 2, v_hat = 0.004 / 0.001 = 4
    w, config = cs231n.adam(np.array([1.0]), np.array([2.0]))
    w1 = 1.0 - 1e-3 * 2.0 / (2.0 + 1e-8)
    np.testing.assert_allclose(w, [w1], rtol=1e-14)
    assert config["t"] == 1
    # step 2 (t = 2): m = 0.18 - 0.1 = 0.08, v = 0.003996 + 0.001 = 0.004996
    w, config = cs231n.adam(w, np.array([-1.0]), config)
    m_hat = 0.08 / (1.0 - 0.9**2)
    v_hat = 0.004996 / (1.0 - 0.999**2)
    np.testing.assert_allclose(w, [w1 - 1e-3 * m_hat / (np.sqrt(v_hat) + 1e-8)], rtol=1e-14)
    np.testing.assert_allclose([config["m"][0], config["v"][0]], [0.08, 0.004996], rtol=1e-13)
    assert config["t"] == 2
    assert (config["beta1"], config["beta2"], config["epsilon"]) == (0.9, 0.999, 1e-8)


@pytest.mark.parametrize(
    "rule", [cs231n.sgd, cs231n.sgd_momentum, cs231n.sgd_nesterov, cs231n.rmsprop, cs231n.adam]
)
def test_update_rules_do_not_modify_their_inputs(rule):
    w = np.array([1.0, -2.0, 0.5])
    dw = np.array([0.3, 0.1, -0.2])
    _, config = rule(w.copy(), dw)
    state_before = {k: np.copy(v) for k, v in config.items()}
    w_before = w.copy()
    next_w, _ = rule(w, dw, config)
    np.testing.assert_array_equal(w, w_before)
    for key, value in state_before.items():
        np.testing.assert_array_equal(config[key], value)
    assert not np.array_equal(next_w, w)


# ================================================================ gradient-check helpers


def test_rel_error_hand_values():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0, 2.0]), np.array([3.0, 2.0])) == pytest.approx(0.5)
    # The 1e-8 floor: two near-zeros are compared against 1e-8, not against each other.
    assert rel_error(np.array([0.0]), np.array([1e-10])) == pytest.approx(1e-2)


def test_eval_numerical_gradient_is_central_and_restores_x():
    x = np.array([[0.5, -1.5], [2.0, 0.25]])
    saved = x.copy()
    grad = cs231n.eval_numerical_gradient(lambda v: float(np.sum(v**3)), x)
    assert rel_error(grad, 3.0 * saved**2) < 1e-9
    np.testing.assert_array_equal(x, saved)

    df = np.array([[1.0, -2.0], [0.5, 3.0]])
    vjp = cs231n.eval_numerical_gradient_array(lambda v: v**2, x, df)
    assert rel_error(vjp, 2.0 * saved * df) < 1e-9
    np.testing.assert_array_equal(x, saved)

    with pytest.raises(TypeError, match="float64"):
        cs231n.eval_numerical_gradient(lambda v: float(np.sum(v)), x.astype(np.float32))


def test_eval_numerical_gradient_checks_a_layer_like_the_assignment():
    rng = rng_for(13)
    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)
    dout = rng.standard_normal((3, 2))
    _, cache = cs231n.affine_forward(x, w, b)
    dx, dw, _ = cs231n.affine_backward(dout, cache)
    dx_num = cs231n.eval_numerical_gradient_array(
        lambda v: cs231n.affine_forward(v, w, b)[0], x, dout
    )
    dw_num = cs231n.eval_numerical_gradient_array(
        lambda v: cs231n.affine_forward(x, v, b)[0], w, dout
    )
    assert rel_error(dx, dx_num) < 1e-7
    assert rel_error(dw, dw_num) < 1e-7
