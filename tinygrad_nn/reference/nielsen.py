"""Hand-derived backprop for Nielsen's network.py / network2.py, in pure NumPy.

Michael Nielsen, "Neural Networks and Deep Learning", chapters 1-3. Conventions kept exactly:

- Column vectors: an example is x of shape (n_in, 1); a layer computes a' = sigmoid(w @ a + b)
  with w[l] of shape (n_out, n_in) and b[l] of shape (n_out, 1). A batch is a matrix whose COLUMNS
  are examples, X of shape (n_in, m).
- Lists start at the first hidden layer: weights[0] maps the input to the first hidden layer, so
  a network with sizes [2, 3, 1] has weights[0] (3, 2) and weights[1] (1, 3).
- Per-example costs C_x are summed over the output units (quadratic: 1/2 ||a - y||^2). Gradients
  of a mini-batch are SUMMED over its examples, and the update divides by the batch size m.
- L2 (network2): w -> (1 - eta * lmbda / n) w - (eta / m) sum_x dC_x/dw, n = TRAINING-SET size.

Everything here is pure: no function mutates its arguments. This module imports nothing from the
rest of tinygrad_nn, so it can serve as an independent reference for the autodiff engine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Params = list[Array]

__all__ = [
    "CrossEntropyCost",
    "QuadraticCost",
    "backprop",
    "backprop_batch",
    "evaluate",
    "feedforward",
    "forward_trace",
    "init_default",
    "init_large",
    "sigmoid",
    "sigmoid_prime",
    "summed_cost",
    "total_cost",
    "update_mini_batch",
]


# ---------------------------------------------------------------- activation


def sigmoid(z: Array) -> Array:
    """sigma(z) = 1 / (1 + exp(-z))."""
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z: Array) -> Array:
    """sigma'(z) = sigma(z) * (1 - sigma(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


# ---------------------------------------------------------------- costs (network2.py)


class QuadraticCost:
    """C = 1/2 ||a - y||^2, summed over output units (and over columns if given a batch)."""

    @staticmethod
    def fn(a: Array, y: Array) -> float:
        """C = 1/2 ||a - y||^2 (Frobenius norm, so a batch of columns gives the batch SUM)."""
        return float(0.5 * np.linalg.norm(a - y) ** 2)

    @staticmethod
    def delta(z: Array, a: Array, y: Array) -> Array:
        """BP1 for the quadratic cost: delta^L = dC/dz^L = (a - y) * sigma'(z)."""
        return (a - y) * sigmoid_prime(z)


class CrossEntropyCost:
    """C = sum_j [-y_j ln a_j - (1 - y_j) ln(1 - a_j)], for sigmoid outputs."""

    @staticmethod
    def fn(a: Array, y: Array) -> float:
        """C = sum(nan_to_num(-y ln a - (1 - y) ln(1 - a))), summed over all entries.

        NOTE: nan_to_num is network2's: where a == y == 1 the term (1 - y) ln(1 - a) is
        0 * -inf = nan and becomes 0; where a saturates at the wrong end, inf becomes the largest
        finite float.
        """
        # The log(0) warnings are expected at saturation; nan_to_num handles the values.
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = -y * np.log(a) - (1.0 - y) * np.log(1.0 - a)
        return float(np.sum(np.nan_to_num(terms)))

    @staticmethod
    def delta(z: Array, a: Array, y: Array) -> Array:
        """BP1 for cross-entropy on sigmoid outputs: delta^L = a - y (the sigma'(z) cancels).

        z is unused; it is in the signature so both costs are interchangeable, as in network2.
        """
        return a - y


Cost = type[QuadraticCost] | type[CrossEntropyCost]


# ---------------------------------------------------------------- initialisation


def init_large(sizes: Sequence[int], rng: np.random.Generator) -> tuple[Params, Params]:
    """Chapter 1 (network.py): every weight and bias drawn from N(0, 1).

    Returns (weights, biases). Biases are drawn before weights, in the order network.py draws them.
    """
    biases = [rng.standard_normal((n_out, 1)) for n_out in sizes[1:]]
    weights = [
        rng.standard_normal((n_out, n_in))
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    return weights, biases


def init_default(sizes: Sequence[int], rng: np.random.Generator) -> tuple[Params, Params]:
    """Chapter 3 (network2.default_weight_initializer): w ~ N(0, 1/n_in), b ~ N(0, 1).

    Dividing a standard normal by sqrt(n_in) keeps z = w @ a + b of order 1, so hidden sigmoids do
    not start saturated. Returns (weights, biases), biases drawn first as in network2.py.
    """
    biases = [rng.standard_normal((n_out, 1)) for n_out in sizes[1:]]
    weights = [
        rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    return weights, biases


# ---------------------------------------------------------------- forward


def feedforward(weights: Params, biases: Params, a: Array) -> Array:
    """a^l = sigma(w^l a^{l-1} + b^l) for each layer; a may be one column or a batch of columns."""
    for w, b in zip(weights, biases, strict=True):
        a = sigmoid(w @ a + b)
    return a


def forward_trace(weights: Params, biases: Params, x: Array) -> tuple[Params, Params]:
    """Forward pass keeping every weighted input and activation.

    Returns (zs, activations) with zs[i] = w[i] @ activations[i] + b[i] and
    activations[i + 1] = sigma(zs[i]); activations[0] = x. So len(activations) == len(zs) + 1.
    """
    activations = [x]
    zs = []
    a = x
    for w, b in zip(weights, biases, strict=True):
        z = w @ a + b
        a = sigmoid(z)
        zs.append(z)
        activations.append(a)
    return zs, activations


# ---------------------------------------------------------------- backward


def _backward(
    weights: Params, zs: Params, activations: Params, y: Array, cost: Cost
) -> tuple[Params, Params]:
    """The four equations, shared by the one-example and batch forms.

    Returns (deltas, nabla_w) where deltas[i] = dC/dz for layer i and nabla_w[i] = dC/dw[i].
    With a batch of columns, deltas keep one column per example and delta @ a.T sums over them.
    """
    num_layers = len(weights)
    deltas: Params = [np.empty(0)] * num_layers
    nabla_w: Params = [np.empty(0)] * num_layers

    # BP1: output error.
    delta = cost.delta(zs[-1], activations[-1], y)
    deltas[-1] = delta
    # BP4: dC/dw^L = delta^L (a^{L-1})^T.
    nabla_w[-1] = delta @ activations[-2].T

    # Walk back from the second-to-last layer; l counts from the end, as in network.py.
    for l in range(2, num_layers + 1):
        sp = sigmoid_prime(zs[-l])
        # BP2: delta^l = ((w^{l+1})^T delta^{l+1}) * sigma'(z^l).
        delta = (weights[-l + 1].T @ delta) * sp
        deltas[-l] = delta
        nabla_w[-l] = delta @ activations[-l - 1].T
    return deltas, nabla_w


def backprop(
    weights: Params,
    biases: Params,
    x: Array,
    y: Array,
    cost: Cost = QuadraticCost,
    return_deltas: bool = False,
) -> tuple[Params, Params] | tuple[Params, Params, Params]:
    """Gradient of the cost C_x of ONE example, by BP1-BP4 (network.py's `backprop`).

    x is (n_in, 1) and y is (n_out, 1). Returns (nabla_b, nabla_w), shaped like (biases, weights):
      BP1  delta^L = cost.delta(z^L, a^L, y)
      BP2  delta^l = ((w^{l+1})^T delta^{l+1}) * sigma'(z^l)
      BP3  dC/db^l = delta^l
      BP4  dC/dw^l = delta^l (a^{l-1})^T
    With return_deltas=True, also returns the deltas (= dC/dz per layer) as a third list.
    """
    if x.ndim != 2 or x.shape[1] != 1 or y.ndim != 2 or y.shape[1] != 1:
        raise ValueError(
            f"backprop: expects one example as columns x (n_in, 1), y (n_out, 1); got x {x.shape}, "
            f"y {y.shape} (use backprop_batch for a batch)"
        )
    zs, activations = forward_trace(weights, biases, x)
    deltas, nabla_w = _backward(weights, zs, activations, y, cost)
    # BP3: the bias gradient is the error itself.
    nabla_b = [delta.copy() for delta in deltas]
    if return_deltas:
        return nabla_b, nabla_w, deltas
    return nabla_b, nabla_w


def backprop_batch(
    weights: Params,
    biases: Params,
    X: Array,
    Y: Array,
    cost: Cost = QuadraticCost,
    return_deltas: bool = False,
) -> tuple[Params, Params] | tuple[Params, Params, Params]:
    """Matrix form of BP1-BP4 for a batch: X (n_in, m), Y (n_out, m), one example per column.

    Returns (nabla_b, nabla_w) = sum over the m examples of backprop(...) - the SUM that Nielsen's
    update divides by m. BP4 becomes Delta^l (A^{l-1})^T, whose matrix product does the summing;
    BP3 sums Delta^l over its columns. With return_deltas=True, also returns the deltas, each of
    shape (n_l, m): column j is the delta of example j.
    """
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"backprop_batch: expects columns X (n_in, m), Y (n_out, m); got X {X.shape}, "
            f"Y {Y.shape}"
        )
    zs, activations = forward_trace(weights, biases, X)
    deltas, nabla_w = _backward(weights, zs, activations, Y, cost)
    nabla_b = [delta.sum(axis=1, keepdims=True) for delta in deltas]
    if return_deltas:
        return nabla_b, nabla_w, deltas
    return nabla_b, nabla_w


# ---------------------------------------------------------------- costs of a data set


def summed_cost(weights: Params, biases: Params, X: Array, Y: Array, cost: Cost) -> float:
    """sum_x C_x over the columns of X, no regularisation.

    This is the function whose gradient backprop_batch returns.
    """
    return cost.fn(feedforward(weights, biases, X), Y)


def total_cost(
    weights: Params,
    biases: Params,
    X: Array,
    Y: Array,
    cost: Cost,
    lmbda: float = 0.0,
    n: int | None = None,
) -> float:
    """network2's total_cost: C = (1/m) sum_x C_x + (lmbda / (2n)) sum_l ||w^l||^2.

    m = X.shape[1], the number of examples given (network2 divides by len(data)). The L2 term uses
    n, which defaults to m. NOTE: network2 always uses len(data) there, so on a 10k evaluation set
    its L2 term is scaled by 1/10k, not by 1/(training-set size); pass n explicitly to choose.

    With n = training-set size, update_mini_batch(batch) = params - eta * grad(total_cost(batch)).
    Y is one-hot columns (n_out, m); biases are not regularised.
    """
    m = X.shape[1]
    if n is None:
        n = m
    data_cost = summed_cost(weights, biases, X, Y, cost) / m
    squared_norms = sum(float(np.linalg.norm(w) ** 2) for w in weights)
    return data_cost + 0.5 * (lmbda / n) * squared_norms


# ---------------------------------------------------------------- training and evaluation


def update_mini_batch(
    weights: Params,
    biases: Params,
    X: Array,
    Y: Array,
    eta: float,
    cost: Cost = QuadraticCost,
    lmbda: float = 0.0,
    n: int | None = None,
) -> tuple[Params, Params]:
    """One SGD step on the mini-batch (X, Y) (columns are examples); returns (weights, biases).

    network2's rule, with m = X.shape[1] and n the TRAINING-SET size:
      w -> (1 - eta * lmbda / n) w - (eta / m) sum_x dC_x/dw
      b -> b - (eta / m) sum_x dC_x/db
    With lmbda = 0 this is network.py's update. Pure: the inputs are not modified.
    """
    if lmbda != 0.0 and n is None:
        raise ValueError("update_mini_batch: lmbda > 0 needs n, the training-set size (not m)")
    m = X.shape[1]
    nabla_b, nabla_w = backprop_batch(weights, biases, X, Y, cost)
    # Weight decay factor; n is irrelevant when lmbda == 0.
    decay = 1.0 - eta * lmbda / n if lmbda != 0.0 else 1.0
    new_weights = [decay * w - (eta / m) * nw for w, nw in zip(weights, nabla_w, strict=True)]
    new_biases = [b - (eta / m) * nb for b, nb in zip(biases, nabla_b, strict=True)]
    return new_weights, new_biases


def evaluate(weights: Params, biases: Params, X: Array, labels: Array) -> int:
    """Number of columns of X whose argmax output equals the integer label (network.py's evaluate).

    Ties go to the lowest index, as np.argmax does in the book.
    """
    outputs = feedforward(weights, biases, X)
    predictions = np.argmax(outputs, axis=0)
    return int(np.sum(predictions == np.asarray(labels).ravel()))
