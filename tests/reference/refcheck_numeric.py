"""A numeric differentiator for the reference tests, independent of the code under test.

NOTE: the five-point central difference below has truncation error O(h**4), so with h = 1e-3 its
rounding error (about eps * |f| / h) stays near 1e-13 * |f|. The plain central difference
(CS231n's eval_numerical_gradient, O(h**2), h = 1e-5) has rounding near 1e-11 * |f|, which
pushes the relative error of small gradient entries (~1e-4) past 1e-7 even when the analytic
gradient is exact. The accurate stencil lets the tests keep tight thresholds without flakiness.
"""

from collections.abc import Callable

import numpy as np


def _five_point(f: Callable[[], np.ndarray], x: np.ndarray, ix: tuple, h: float) -> np.ndarray:
    """d f() / d x[ix] by (-f(x + 2h) + 8 f(x + h) - 8 f(x - h) + f(x - 2h)) / 12h, x restored."""
    old = x[ix]
    values = []
    for step in (2.0, 1.0, -1.0, -2.0):
        x[ix] = old + step * h
        values.append(np.array(f(), dtype=np.float64, copy=True))
    x[ix] = old
    f_p2, f_p1, f_m1, f_m2 = values
    # Differences first, so a flat direction gives exactly 0 (a dead relu, a dropped unit).
    return (8.0 * (f_p1 - f_m1) - (f_p2 - f_m2)) / (12.0 * h)


def numeric_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """d f() / d x for a scalar f, perturbing x IN PLACE one entry at a time.

    f takes no arguments and reads x through a closure; x is restored exactly afterwards.
    """
    assert x.dtype == np.float64, f"numeric_gradient needs float64, got {x.dtype}"
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        grad[ix] = _five_point(f, x, ix, h)
    return grad


def numeric_gradients(f: Callable[[], float], arrays: list[np.ndarray]) -> list[np.ndarray]:
    """numeric_gradient of f with respect to each array in turn."""
    return [numeric_gradient(f, a) for a in arrays]


def numeric_vjp(
    f: Callable[[], np.ndarray], x: np.ndarray, dout: np.ndarray, h: float = 1e-3
) -> np.ndarray:
    """sum(dout * d f() / d x) for an array-valued f: checks a layer's backward given dout.

    The stencil is applied to the whole output before contracting with dout, so outputs that a
    perturbation does not touch contribute exactly 0 instead of rounding noise.
    """
    assert x.dtype == np.float64, f"numeric_vjp needs float64, got {x.dtype}"
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        grad[ix] = np.sum(_five_point(f, x, ix, h) * dout)
    return grad
