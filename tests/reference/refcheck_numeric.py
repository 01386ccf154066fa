"""A numeric differentiator for the reference tests, independent of the code under test.

NOTE: the five-point central difference below has truncation error O(h**4), so with h = 1e-3 its
rounding error (about eps * |f| / h) stays near 1e-13 * |f|. The plain central difference
(CS231n's eval_numerical_gradient, O(h**2), h = 1e-5) has rounding near 1e-11 * |f|, which
pushes the relative error of small gradient entries (~1e-4) past 1e-7 even when the analytic
gradient is exact. The accurate stencil lets the tests keep tight thresholds without flakiness.
"""

from collections.abc import Callable

import numpy as np


def numeric_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """d f() / d x, perturbing x IN PLACE one entry at a time (f reads x through a closure).

    grad_i = (-f(x + 2h e_i) + 8 f(x + h e_i) - 8 f(x - h e_i) + f(x - 2h e_i)) / (12 h)
    x is restored exactly afterwards.
    """
    assert x.dtype == np.float64, f"numeric_gradient needs float64, got {x.dtype}"
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        values = []
        for step in (2.0, 1.0, -1.0, -2.0):
            x[ix] = old + step * h
            values.append(f())
        x[ix] = old
        f_p2, f_p1, f_m1, f_m2 = values
        grad[ix] = (-f_p2 + 8.0 * f_p1 - 8.0 * f_m1 + f_m2) / (12.0 * h)
    return grad


def numeric_gradients(f: Callable[[], float], arrays: list[np.ndarray]) -> list[np.ndarray]:
    """numeric_gradient of f with respect to each array in turn."""
    return [numeric_gradient(f, a) for a in arrays]


def numeric_vjp(
    f: Callable[[], np.ndarray], x: np.ndarray, dout: np.ndarray, h: float = 1e-3
) -> np.ndarray:
    """sum(dout * d f() / d x) for an array-valued f: checks a layer's backward given dout."""
    return numeric_gradient(lambda: float(np.sum(f() * dout)), x, h)
