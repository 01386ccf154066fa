"""Nielsen's network.py / network2.py reference: BP1-BP4 against central differences, float64."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from refcheck_numeric import numeric_gradient, numeric_gradients

from tinygrad_nn.reference import nielsen
from tinygrad_nn.reference.cs231n import rel_error

COSTS = [nielsen.QuadraticCost, nielsen.CrossEntropyCost]
# Four layers, so BP2 runs for two hidden layers; uneven widths catch transposed gradients.
SIZES = [3, 5, 4, 2]


def make_net(sizes: list[int], seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Non-zero, uneven weights and biases (chapter 3 init: biases N(0, 1))."""
    return nielsen.init_default(sizes, np.random.default_rng(seed))


def make_batch(n_in: int, n_out: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs N(0, 1); targets strictly inside (0, 1), so cross-entropy stays smooth."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_in, m))
    Y = rng.uniform(0.05, 0.95, size=(n_out, m))
    return X, Y


# ---------------------------------------------------------------- activation and costs


def test_sigmoid_prime_matches_central_difference():
    z = np.linspace(-6.0, 6.0, 25).reshape(-1, 1)
    numeric = numeric_gradient(lambda: float(np.sum(nielsen.sigmoid(z))), z)
    assert rel_error(nielsen.sigmoid_prime(z), numeric) < 1e-9


@pytest.mark.parametrize("cost", COSTS, ids=lambda c: c.__name__)
def test_cost_delta_is_dC_dz(cost):
    rng = np.random.default_rng(1)
    z = rng.standard_normal((4, 1)) * 2.0
    y = rng.uniform(0.0, 1.0, size=(4, 1))
    numeric = numeric_gradient(lambda: cost.fn(nielsen.sigmoid(z), y), z)
    analytic = cost.delta(z, nielsen.sigmoid(z), y)
    assert rel_error(analytic, numeric) < 1e-8


def test_quadratic_cost_value():
    a = np.array([[0.5], [0.2]])
    y = np.array([[1.0], [0.0]])
    assert nielsen.QuadraticCost.fn(a, y) == pytest.approx(0.5 * (0.25 + 0.04), abs=1e-15)


def test_cross_entropy_value_and_saturation_like_network2():
    a = np.array([[0.8], [0.1]])
    y = np.array([[1.0], [0.0]])
    expected = -np.log(0.8) - np.log(0.9)
    assert nielsen.CrossEntropyCost.fn(a, y) == pytest.approx(expected, rel=1e-14)

    # a == y at the saturated ends: 0 * log(0) = nan, which nan_to_num turns into 0, silently.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nielsen.CrossEntropyCost.fn(np.array([[1.0], [0.0]]), np.array([[1.0], [0.0]])) == 0
        # Saturated at the wrong end: inf becomes the largest finite float, as in network2.
        wrong = nielsen.CrossEntropyCost.fn(np.array([[1.0]]), np.array([[0.0]]))
    assert wrong == np.finfo(np.float64).max


# ---------------------------------------------------------------- initialisation


@pytest.mark.parametrize(
    ("init", "weight_std"),
    [(nielsen.init_large, lambda n_in: 1.0), (nielsen.init_default, lambda n_in: n_in**-0.5)],
    ids=["init_large", "init_default"],
)
def test_init_shapes_and_scale(init, weight_std):
    sizes = [400, 300, 10]
    weights, biases = init(sizes, np.random.default_rng(0))
    assert [w.shape for w in weights] == [(300, 400), (10, 300)]
    assert [b.shape for b in biases] == [(300, 1), (10, 1)]
    assert weights[0].std() == pytest.approx(weight_std(400), rel=0.02)
    assert abs(weights[0].mean()) < 0.02 * weight_std(400)
    all_biases = np.concatenate([b.ravel() for b in biases])
    assert all_biases.std() == pytest.approx(1.0, rel=0.15)


def test_init_draws_biases_before_weights_like_network_py():
    sizes = [3, 4, 2]
    weights, biases = nielsen.init_default(sizes, np.random.default_rng(7))
    rng = np.random.default_rng(7)
    expected_biases = [rng.standard_normal((4, 1)), rng.standard_normal((2, 1))]
    expected_weights = [rng.standard_normal((4, 3)) / np.sqrt(3), rng.standard_normal((2, 4)) / 2.0]
    for got, want in zip(biases + weights, expected_biases + expected_weights, strict=True):
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- forward


def test_forward_trace_is_consistent_with_feedforward():
    weights, biases = make_net(SIZES, 2)
    X, _ = make_batch(3, 2, 4, 3)
    zs, activations = nielsen.forward_trace(weights, biases, X)
    assert len(zs) == 3 and len(activations) == 4
    np.testing.assert_array_equal(activations[0], X)
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        np.testing.assert_allclose(zs[i], w @ activations[i] + b, rtol=1e-15)
        np.testing.assert_allclose(activations[i + 1], 1.0 / (1.0 + np.exp(-zs[i])), rtol=1e-15)
    np.testing.assert_array_equal(nielsen.feedforward(weights, biases, X), activations[-1])


# ---------------------------------------------------------------- one example: BP1-BP4


@pytest.mark.parametrize("cost", COSTS, ids=lambda c: c.__name__)
def test_backprop_matches_central_differences(cost):
    weights, biases = make_net(SIZES, 4)
    x, y = make_batch(3, 2, 1, 5)
    nabla_b, nabla_w = nielsen.backprop(weights, biases, x, y, cost)

    def f() -> float:
        return cost.fn(nielsen.feedforward(weights, biases, x), y)

    for analytic, numeric in zip(nabla_w, numeric_gradients(f, weights), strict=True):
        assert analytic.shape == numeric.shape
        assert rel_error(analytic, numeric) < 1e-7
    for analytic, numeric in zip(nabla_b, numeric_gradients(f, biases), strict=True):
        assert analytic.shape == numeric.shape
        assert rel_error(analytic, numeric) < 1e-7


def cost_from_z(weights, biases, layer: int, z: np.ndarray, y: np.ndarray, cost) -> float:
    """C as a function of the weighted input z of one layer: run the remaining layers from there."""
    a = nielsen.sigmoid(z)
    for w, b in zip(weights[layer + 1 :], biases[layer + 1 :], strict=True):
        a = nielsen.sigmoid(w @ a + b)
    return cost.fn(a, y)


@pytest.mark.parametrize("cost", COSTS, ids=lambda c: c.__name__)
def test_backprop_deltas_are_dC_dz_at_every_layer(cost):
    """BP1/BP2 checked directly: delta^l against a numeric derivative w.r.t. z^l."""
    weights, biases = make_net(SIZES, 6)
    x, y = make_batch(3, 2, 1, 7)
    nabla_b, _, deltas = nielsen.backprop(weights, biases, x, y, cost, return_deltas=True)
    zs, _ = nielsen.forward_trace(weights, biases, x)
    assert len(deltas) == len(zs) == 3

    for layer, z in enumerate(zs):
        numeric = numeric_gradient(
            lambda z=z, l=layer: cost_from_z(weights, biases, l, z, y, cost), z
        )
        assert rel_error(deltas[layer], numeric) < 1e-7
        # BP3: dC/db is delta itself.
        np.testing.assert_array_equal(nabla_b[layer], deltas[layer])


def test_backprop_refuses_a_batch():
    weights, biases = make_net(SIZES, 0)
    X, Y = make_batch(3, 2, 4, 0)
    with pytest.raises(ValueError, match="backprop"):
        nielsen.backprop(weights, biases, X, Y)


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=5),
    seed=st.integers(0, 2**16),
    cost=st.sampled_from(COSTS),
)
def test_backprop_matches_central_differences_random_sizes(sizes, seed, cost):
    weights, biases = make_net(sizes, seed)
    x, y = make_batch(sizes[0], sizes[-1], 1, seed + 1)
    nabla_b, nabla_w = nielsen.backprop(weights, biases, x, y, cost)

    def f() -> float:
        return cost.fn(nielsen.feedforward(weights, biases, x), y)

    # Mixed tolerance: tiny gradients (saturated units) make a pure relative error meaningless.
    for analytic, numeric in zip(
        nabla_w + nabla_b, numeric_gradients(f, weights + biases), strict=True
    ):
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- batches


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5),
    m=st.integers(1, 7),
    seed=st.integers(0, 2**16),
    cost=st.sampled_from(COSTS),
)
def test_per_example_backprop_summed_equals_backprop_batch(sizes, m, seed, cost):
    weights, biases = make_net(sizes, seed)
    X, Y = make_batch(sizes[0], sizes[-1], m, seed + 1)
    batch_b, batch_w, batch_deltas = nielsen.backprop_batch(
        weights, biases, X, Y, cost, return_deltas=True
    )

    sum_b = [np.zeros_like(b) for b in biases]
    sum_w = [np.zeros_like(w) for w in weights]
    for j in range(m):
        nb, nw, deltas = nielsen.backprop(
            weights, biases, X[:, j : j + 1], Y[:, j : j + 1], cost, return_deltas=True
        )
        sum_b = [s + g for s, g in zip(sum_b, nb, strict=True)]
        sum_w = [s + g for s, g in zip(sum_w, nw, strict=True)]
        for batch_delta, delta in zip(batch_deltas, deltas, strict=True):
            np.testing.assert_allclose(batch_delta[:, j : j + 1], delta, rtol=1e-12, atol=1e-15)

    for got, want in zip(batch_b + batch_w, sum_b + sum_w, strict=True):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cost", COSTS, ids=lambda c: c.__name__)
def test_backprop_batch_is_gradient_of_summed_cost(cost):
    weights, biases = make_net(SIZES, 8)
    X, Y = make_batch(3, 2, 5, 9)
    nabla_b, nabla_w = nielsen.backprop_batch(weights, biases, X, Y, cost)

    def f() -> float:
        return nielsen.summed_cost(weights, biases, X, Y, cost)

    for analytic, numeric in zip(
        nabla_w + nabla_b, numeric_gradients(f, weights + biases), strict=True
    ):
        assert rel_error(analytic, numeric) < 1e-7


@pytest.mark.parametrize("cost", COSTS, ids=lambda c: c.__name__)
def test_summed_and_total_cost_values(cost):
    weights, biases = make_net(SIZES, 10)
    X, Y = make_batch(3, 2, 4, 11)
    per_example = [
        cost.fn(nielsen.feedforward(weights, biases, X[:, [j]]), Y[:, [j]]) for j in range(4)
    ]
    summed = nielsen.summed_cost(weights, biases, X, Y, cost)
    assert summed == pytest.approx(sum(per_example), rel=1e-13)

    squared_norms = sum(float(np.sum(w**2)) for w in weights)
    # network2: data cost divided by len(data); L2 scaled by lmbda / (2n), n = len(data) by default.
    total = nielsen.total_cost(weights, biases, X, Y, cost, lmbda=0.5)
    assert total == pytest.approx(summed / 4 + 0.5 * (0.5 / 4) * squared_norms, rel=1e-13)
    total_n = nielsen.total_cost(weights, biases, X, Y, cost, lmbda=0.5, n=1000)
    assert total_n == pytest.approx(summed / 4 + 0.5 * (0.5 / 1000) * squared_norms, rel=1e-13)


# ---------------------------------------------------------------- the update


@pytest.mark.parametrize("cost", COSTS, ids=lambda c: c.__name__)
def test_update_mini_batch_is_a_gradient_step_on_total_cost(cost):
    """w' = w - eta * d/dw [ (1/m) sum_x C_x + lmbda/(2n) sum ||w||^2 ], with n = training size."""
    weights, biases = make_net(SIZES, 12)
    X, Y = make_batch(3, 2, 5, 13)
    eta, lmbda, n = 0.3, 0.7, 50
    new_w, new_b = nielsen.update_mini_batch(weights, biases, X, Y, eta, cost, lmbda=lmbda, n=n)

    def f() -> float:
        return nielsen.total_cost(weights, biases, X, Y, cost, lmbda=lmbda, n=n)

    numeric = numeric_gradients(f, weights + biases)
    for old, new, grad in zip(weights + biases, new_w + new_b, numeric, strict=True):
        assert rel_error((old - new) / eta, grad) < 1e-7


def test_update_mini_batch_without_l2_is_network_py_rule():
    weights, biases = make_net(SIZES, 14)
    X, Y = make_batch(3, 2, 4, 15)
    eta = 3.0
    new_w, new_b = nielsen.update_mini_batch(weights, biases, X, Y, eta)

    # network.py: sum the per-example gradients, then step by eta / len(mini_batch).
    sum_b = [np.zeros_like(b) for b in biases]
    sum_w = [np.zeros_like(w) for w in weights]
    for j in range(4):
        nb, nw = nielsen.backprop(weights, biases, X[:, [j]], Y[:, [j]])
        sum_b = [s + g for s, g in zip(sum_b, nb, strict=True)]
        sum_w = [s + g for s, g in zip(sum_w, nw, strict=True)]
    for got, w, g in zip(new_w, weights, sum_w, strict=True):
        np.testing.assert_allclose(got, w - (eta / 4) * g, rtol=1e-13, atol=1e-15)
    for got, b, g in zip(new_b, biases, sum_b, strict=True):
        np.testing.assert_allclose(got, b - (eta / 4) * g, rtol=1e-13, atol=1e-15)


def test_update_mini_batch_l2_decays_weights_by_training_set_size_not_biases():
    weights, biases = make_net(SIZES, 16)
    X, Y = make_batch(3, 2, 2, 17)
    eta, lmbda, n = 0.5, 5.0, 10
    plain_w, plain_b = nielsen.update_mini_batch(weights, biases, X, Y, eta)
    l2_w, l2_b = nielsen.update_mini_batch(weights, biases, X, Y, eta, lmbda=lmbda, n=n)
    for w, plain, l2 in zip(weights, plain_w, l2_w, strict=True):
        # (1 - eta*lmbda/n) w - step  ==  (w - step) - (eta*lmbda/n) w
        np.testing.assert_allclose(l2, plain - (eta * lmbda / n) * w, rtol=1e-13, atol=1e-15)
    for plain, l2 in zip(plain_b, l2_b, strict=True):
        np.testing.assert_array_equal(l2, plain)


def test_update_mini_batch_is_pure_and_needs_n_for_l2():
    weights, biases = make_net(SIZES, 18)
    X, Y = make_batch(3, 2, 3, 19)
    saved = [a.copy() for a in weights + biases + [X, Y]]
    nielsen.update_mini_batch(weights, biases, X, Y, 1.0, nielsen.CrossEntropyCost, 0.1, 100)
    for before, after in zip(saved, weights + biases + [X, Y], strict=True):
        np.testing.assert_array_equal(before, after)
    with pytest.raises(ValueError, match="training-set size"):
        nielsen.update_mini_batch(weights, biases, X, Y, 1.0, lmbda=0.1)


# ---------------------------------------------------------------- evaluation


def test_evaluate_counts_argmax_matches():
    # A one-layer net whose output ranks classes like its input: sigmoid(10 x) keeps the order.
    weights = [10.0 * np.eye(3)]
    biases = [np.zeros((3, 1))]
    X = np.array(
        [
            [0.9, 0.1, 0.2, 0.3],
            [0.1, 0.8, 0.7, 0.2],
            [0.0, 0.3, 0.1, 0.6],
        ]
    )
    predictions = [0, 1, 1, 2]
    assert nielsen.evaluate(weights, biases, X, np.array(predictions)) == 4
    assert nielsen.evaluate(weights, biases, X, np.array([0, 1, 2, 0])) == 2
    assert nielsen.evaluate(weights, biases, X, np.array([1, 0, 0, 0])) == 0
