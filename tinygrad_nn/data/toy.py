"""Small seeded 2-D datasets for quick experiments, and a train/test split.

Every generator takes `seed` (an int, None, or a np.random.Generator) and returns
(X float64 (n, 2), y int64 (n,)), except `make_sine`, a regression set. The same seed always
gives the same data.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["make_circles", "make_moons", "make_sine", "make_spirals", "make_xor",
           "train_test_split"]

Seed = int | np.random.Generator | None


def _check_n(name: str, n: int, minimum: int = 1) -> None:
    if not isinstance(n, int | np.integer) or n < minimum:
        raise ValueError(f"{name}: n_samples must be an integer >= {minimum}, got {n!r}")


def _finish(X: np.ndarray, y: np.ndarray, noise: float, rng: np.random.Generator,
            shuffle: bool) -> tuple[np.ndarray, np.ndarray]:
    """Add Gaussian noise to X and optionally shuffle the rows (y stays aligned)."""
    if noise:
        X = X + rng.normal(scale=noise, size=X.shape)
    if shuffle:
        order = rng.permutation(len(X))
        X, y = X[order], y[order]
    return X, y


def make_moons(n_samples: int = 100, noise: float = 0.0, seed: Seed = None,
               shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, as scikit-learn's make_moons.

    Class 0: the upper half of the unit circle; class 1: the lower half shifted by (1, -0.5),
    nesting into the first. n_samples // 2 points in class 0, the rest in class 1.
    """
    _check_n("make_moons", n_samples, 2)
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.concatenate([
        np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
        np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], axis=1),
    ])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return _finish(X, y, noise, rng, shuffle)


def make_circles(n_samples: int = 100, noise: float = 0.0, factor: float = 0.8,
                 seed: Seed = None, shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A large circle (class 0, radius 1) around a small one (class 1, radius `factor`), as
    scikit-learn's make_circles."""
    _check_n("make_circles", n_samples, 2)
    if not 0 <= factor < 1:
        raise ValueError(f"make_circles: factor must be in [0, 1), got {factor}")
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    # endpoint=False: 0 and 2*pi are the same point.
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate([
        np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
        factor * np.stack([np.cos(t_in), np.sin(t_in)], axis=1),
    ])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return _finish(X, y, noise, rng, shuffle)


def make_spirals(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2,
                 seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """CS231n's spiral: class j's arm has radius 0..1 and angle 4j..4(j+1) radians.

    As in the course notes, `noise` perturbs the angle (not the coordinates) and the rows are
    ordered by class.
    """
    _check_n("make_spirals", n_per_class)
    _check_n("make_spirals", n_classes)
    rng = np.random.default_rng(seed)
    X = np.zeros((n_per_class * n_classes, 2))
    y = np.zeros(n_per_class * n_classes, dtype=np.int64)
    for j in range(n_classes):
        rows = slice(n_per_class * j, n_per_class * (j + 1))
        r = np.linspace(0.0, 1.0, n_per_class)
        t = np.linspace(j * 4, (j + 1) * 4, n_per_class) + rng.normal(size=n_per_class) * noise
        X[rows] = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        y[rows] = j
    return X, y


def make_xor(n_samples: int = 200, noise: float = 0.0,
             seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-1, 1]^2, class 1 where the two coordinates have opposite signs.

    Labels come from the clean points; `noise` is added afterwards, so with noise some points
    cross the axes (like the TensorFlow playground's XOR set).
    """
    _check_n("make_xor", n_samples)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    return _finish(X, y, noise, rng, shuffle=False)


def make_sine(n_samples: int = 100, noise: float = 0.0,
              seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """Regression: x uniform in [-pi, pi], target sin(x) + N(0, noise^2).

    Returns X (n, 1) and y float64 (n, 1): y is a column so that it matches a network's (n, 1)
    output; an (n,) target would broadcast against it to (n, n) in a loss.
    """
    _check_n("make_sine", n_samples)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-np.pi, np.pi, size=(n_samples, 1))
    y = np.sin(X)
    if noise:
        y = y + rng.normal(scale=noise, size=y.shape)
    return X, y


def train_test_split(X: np.ndarray, y: np.ndarray, test_fraction: float = 0.2,
                     seed: Seed = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and split into (X_train, X_test, y_train, y_test), scikit-learn's order.

    The test set has ceil(test_fraction * n) rows (40 of 200 at 0.2).
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"train_test_split: X has {len(X)} rows but y has {len(y)}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"train_test_split: test_fraction must be in (0, 1), got {test_fraction}")
    n = len(X)
    # round() first: 0.07 * 100 is 7.000000000000001 in floating point, whose ceil is 8.
    n_test = math.ceil(round(test_fraction * n, 9))
    if n_test >= n:
        raise ValueError(f"train_test_split: test_fraction={test_fraction} of {n} rows "
                         "leaves no training rows")
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
