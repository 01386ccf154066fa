"""Toy datasets: shapes, dtypes, determinism, and the geometry each one promises."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nn.data import (
    make_circles,
    make_moons,
    make_sine,
    make_spirals,
    make_xor,
    train_test_split,
)

CLASSIFIERS = {
    "moons": lambda seed: make_moons(101, noise=0.1, seed=seed),
    "circles": lambda seed: make_circles(101, noise=0.1, factor=0.5, seed=seed),
    "spirals": lambda seed: make_spirals(30, 4, noise=0.2, seed=seed),
    "xor": lambda seed: make_xor(101, noise=0.1, seed=seed),
}


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classification_sets_are_seeded(name: str) -> None:
    X, y = CLASSIFIERS[name](0)
    assert X.ndim == 2 and X.shape[1] == 2 and X.dtype == np.float64
    assert y.shape == (len(X),) and y.dtype == np.int64
    X2, y2 = CLASSIFIERS[name](0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = CLASSIFIERS[name](1)
    assert not np.array_equal(X, X3)


def test_moons_geometry() -> None:
    X, y = make_moons(100, seed=0)
    assert np.bincount(y).tolist() == [50, 50]
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)  # unit circle, upper half
    assert (upper[:, 1] >= -1e-12).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()
    # Unshuffled, the points follow scikit-learn's order: class 0 first, angles increasing.
    X0, y0 = make_moons(6, shuffle=False)
    np.testing.assert_allclose(X0[:3], [[1, 0], [0, 1], [-1, 0]], atol=1e-12)
    np.testing.assert_allclose(X0[3:], [[0, 0.5], [1, -0.5], [2, 0.5]], atol=1e-12)
    assert y0.tolist() == [0, 0, 0, 1, 1, 1]


@pytest.mark.parametrize("make", [make_moons, make_circles])
def test_two_class_sets_shuffle_by_default(make) -> None:
    _, y = make(100, seed=0)
    assert np.bincount(y).tolist() == [50, 50] and (np.diff(y) < 0).any()
    _, y_ordered = make(100, seed=0, shuffle=False)
    assert y_ordered.tolist() == [0] * 50 + [1] * 50


def test_moons_noise_is_gaussian_with_the_given_scale() -> None:
    clean, _ = make_moons(4000, seed=3, shuffle=False)
    noisy, _ = make_moons(4000, noise=0.2, seed=3, shuffle=False)
    assert abs((noisy - clean).std() - 0.2) < 0.01


def test_circles_geometry() -> None:
    X, y = make_circles(100, factor=0.3, seed=0)
    radius = np.hypot(*X.T)
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)
    with pytest.raises(ValueError, match=r"factor must be in \[0, 1\)"):
        make_circles(10, factor=1.0)


def test_spirals_follow_cs231n() -> None:
    X, y = make_spirals(50, 3, noise=0.0, seed=0)
    assert X.shape == (150, 2) and np.bincount(y).tolist() == [50, 50, 50]
    assert (y[:50] == 0).all() and (y[100:] == 2).all()  # ordered by class, as in the notes
    r = np.linspace(0, 1, 50)
    for j in range(3):
        arm = X[y == j]
        np.testing.assert_allclose(np.hypot(*arm.T), r, atol=1e-12)
        t = np.linspace(4 * j, 4 * (j + 1), 50)
        np.testing.assert_allclose(arm, np.stack([r * np.sin(t), r * np.cos(t)], 1), atol=1e-12)


def test_xor_labels() -> None:
    X, y = make_xor(500, seed=0)
    assert np.abs(X).max() <= 1.0
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    assert 200 < y.sum() < 300


def test_sine_regression() -> None:
    X, y = make_sine(50, seed=0)
    assert X.shape == (50, 1) and y.shape == (50, 1) and y.dtype == np.float64
    assert np.abs(X).max() <= np.pi
    np.testing.assert_array_equal(y, np.sin(X))
    _, noisy = make_sine(4000, noise=0.1, seed=1)
    X2, _ = make_sine(4000, seed=1)
    assert abs((noisy - np.sin(X2)).std() - 0.1) < 0.01


def test_train_test_split() -> None:
    X = np.arange(400.0).reshape(200, 2)
    y = np.arange(200)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, seed=0)
    assert len(X_te) == 40 and len(X_tr) == 160
    np.testing.assert_array_equal(X_tr[:, 0], 2 * y_tr)  # rows stay aligned with their labels
    np.testing.assert_array_equal(X_te[:, 0], 2 * y_te)
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(200))
    assert (np.diff(y_te) < 0).any() and (np.diff(y_tr) < 0).any()  # shuffled, not blocks
    np.testing.assert_array_equal(train_test_split(X, y, seed=0)[3], y_te)
    assert len(train_test_split(X[:100], y[:100], 0.07)[1]) == 7  # 0.07 * 100 > 7.0 in floats


def test_train_test_split_errors() -> None:
    with pytest.raises(ValueError, match=r"X has 3 rows but y has 2"):
        train_test_split(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"test_fraction must be in \(0, 1\)"):
        train_test_split(np.zeros((3, 2)), np.zeros(3), test_fraction=1.0)
    with pytest.raises(ValueError, match=r"leaves no training rows"):
        train_test_split(np.zeros((1, 2)), np.zeros(1), test_fraction=0.5)
