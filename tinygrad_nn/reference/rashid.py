"""Rashid's three-layer sigmoid network ("Make Your Own Neural Network"), in pure NumPy.

Conventions kept exactly as in the book's `neuralNetwork` class:

- Column vectors, `X = W . I`: hidden = sigma(wih @ inputs), output = sigma(who @ hidden), with
  wih of shape (n_hidden, n_in) and who of shape (n_out, n_hidden). No biases.
- Output error e = t - o. Hidden error = who.T @ e: the output errors "split by the weights and
  recombined at the hidden nodes" (the normalising denominators dropped).
- Update, for the layer from o_prev to o with error e: dW = lr * (e * o * (1 - o)) @ o_prev.T,
  ADDED to W. Both updates use the weights from before the step (hidden error uses the old who).

How this relates to gradient descent (derived in docs/backprop.md, checked in the tests):

- The who update is exactly -lr * dL/dwho for L = 1/2 ||t - o||^2 (see `gradients`).
- The wih update is NOT -lr * dL/dwih for that L: the true hidden error is
  who.T @ (e * o * (1 - o)), but the book backpropagates the raw e, dropping the output sigmoid's
  derivative. It equals -lr * dCE/dwih for the cross-entropy CE = sum(-t ln o - (1-t) ln(1-o))
  (see `cross_entropy_gradients`): for sigmoid outputs, dCE/dz_out = o - t = -e.
  So the book's step descends the quadratic cost in who and the cross-entropy in wih.

Inputs may be a 1-D list (one example, as the book's `numpy.array(list, ndmin=2).T` reads it) or a
2-D array of columns (a batch; gradients and updates then SUM over the columns).
Imports nothing from the rest of tinygrad_nn, so it is an independent reference for autodiff.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

__all__ = [
    "cross_entropy_gradients",
    "cross_entropy_loss",
    "gradients",
    "init_weights",
    "loss",
    "query",
    "sigmoid",
    "train_step",
]


def sigmoid(x: Array) -> Array:
    """sigma(x) = 1 / (1 + exp(-x)) (the book uses scipy.special.expit)."""
    return 1.0 / (1.0 + np.exp(-x))


def _as_columns(values: ArrayLike | Sequence[float]) -> Array:
    """A 1-D list becomes one column (n, 1); a 2-D array is already columns and is kept."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        return array.reshape(-1, 1)
    if array.ndim == 2:
        return array
    raise ValueError(
        f"rashid: expected a 1-D list or a 2-D array of columns, got shape {array.shape}"
    )


def init_weights(
    n_in: int, n_hidden: int, n_out: int, rng: np.random.Generator
) -> tuple[Array, Array]:
    """wih ~ N(0, std = n_in**-0.5), who ~ N(0, std = n_hidden**-0.5).

    The book's `numpy.random.normal(0.0, pow(self.inodes, -0.5), (self.hnodes, self.inodes))`:
    standard deviation = 1 / sqrt(number of incoming links) of the layer the weights feed.
    Returns (wih (n_hidden, n_in), who (n_out, n_hidden)); wih is drawn first, as in the book.
    """
    wih = rng.normal(0.0, n_in**-0.5, (n_hidden, n_in))
    who = rng.normal(0.0, n_hidden**-0.5, (n_out, n_hidden))
    return wih, who


def _forward(wih: Array, who: Array, inputs: Array) -> tuple[Array, Array]:
    """(hidden_outputs, final_outputs) for input columns."""
    hidden_outputs = sigmoid(wih @ inputs)
    final_outputs = sigmoid(who @ hidden_outputs)
    return hidden_outputs, final_outputs


def query(wih: Array, who: Array, inputs: ArrayLike) -> Array:
    """o = sigma(who @ sigma(wih @ i)); returns the output columns (n_out, m), m = 1 for a list."""
    _, final_outputs = _forward(wih, who, _as_columns(inputs))
    return final_outputs


def loss(wih: Array, who: Array, inputs: ArrayLike, targets: ArrayLike) -> float:
    """L = 1/2 ||t - o||^2, summed over outputs (and over columns for a batch)."""
    outputs = query(wih, who, inputs)
    return float(0.5 * np.sum((_as_columns(targets) - outputs) ** 2))


def cross_entropy_loss(wih: Array, who: Array, inputs: ArrayLike, targets: ArrayLike) -> float:
    """CE = sum(-t ln o - (1 - t) ln(1 - o)), the cost whose wih-gradient the book follows."""
    outputs = query(wih, who, inputs)
    targets_c = _as_columns(targets)
    return float(np.sum(-targets_c * np.log(outputs) - (1.0 - targets_c) * np.log(1.0 - outputs)))


def train_step(
    wih: Array, who: Array, inputs: ArrayLike, targets: ArrayLike, lr: float
) -> tuple[Array, Array]:
    """One step of the book's `train`, returning (new_wih, new_who); the inputs are not modified.

      e_out = t - o;              who += lr * (e_out * o * (1 - o)) @ h.T
      e_hidden = who.T @ e_out;   wih += lr * (e_hidden * h * (1 - h)) @ i.T

    e_hidden uses who from BEFORE its update, as in the book (it is computed first).
    Equivalences (see the module docstring):
      new_who == who - lr * gradients(...)[1]                  (quadratic cost, exact)
      new_wih == wih - lr * cross_entropy_gradients(...)[0]    (NOT gradients(...)[0])
    """
    inputs_c = _as_columns(inputs)
    targets_c = _as_columns(targets)
    hidden_outputs, final_outputs = _forward(wih, who, inputs_c)

    output_errors = targets_c - final_outputs
    # The book splits the raw output error back by the weights; no sigmoid' of the output here.
    hidden_errors = who.T @ output_errors

    output_signal = output_errors * final_outputs * (1.0 - final_outputs)
    hidden_signal = hidden_errors * hidden_outputs * (1.0 - hidden_outputs)
    new_who = who + lr * (output_signal @ hidden_outputs.T)
    new_wih = wih + lr * (hidden_signal @ inputs_c.T)
    return new_wih, new_who


def gradients(wih: Array, who: Array, inputs: ArrayLike, targets: ArrayLike) -> tuple[Array, Array]:
    """(dL/dwih, dL/dwho) for L = 1/2 ||t - o||^2, by the chain rule.

      delta_out = dL/dz_out = -(t - o) * o * (1 - o)
      delta_hid = dL/dz_hid = (who.T @ delta_out) * h * (1 - h)
      dL/dwho = delta_out @ h.T;  dL/dwih = delta_hid @ i.T

    Rashid's who update is exactly -lr * dL/dwho. His wih update is not -lr * dL/dwih: he uses
    who.T @ (t - o) where the chain rule gives who.T @ ((t - o) * o * (1 - o)); his wih step is
    -lr * cross_entropy_gradients(...)[0] instead.
    """
    inputs_c = _as_columns(inputs)
    targets_c = _as_columns(targets)
    hidden_outputs, final_outputs = _forward(wih, who, inputs_c)

    delta_out = -(targets_c - final_outputs) * final_outputs * (1.0 - final_outputs)
    delta_hidden = (who.T @ delta_out) * hidden_outputs * (1.0 - hidden_outputs)
    return delta_hidden @ inputs_c.T, delta_out @ hidden_outputs.T


def cross_entropy_gradients(
    wih: Array, who: Array, inputs: ArrayLike, targets: ArrayLike
) -> tuple[Array, Array]:
    """(dCE/dwih, dCE/dwho) for CE = sum(-t ln o - (1 - t) ln(1 - o)) on the sigmoid outputs.

      delta_out = dCE/dz_out = o - t   (the sigmoid' cancels, as in Nielsen's chapter 3)
      delta_hid = (who.T @ delta_out) * h * (1 - h)

    delta_hid is exactly minus the book's hidden signal (who.T @ e) * h * (1 - h), which is why
    Rashid's wih update equals -lr * dCE/dwih.
    """
    inputs_c = _as_columns(inputs)
    targets_c = _as_columns(targets)
    hidden_outputs, final_outputs = _forward(wih, who, inputs_c)

    delta_out = final_outputs - targets_c
    delta_hidden = (who.T @ delta_out) * hidden_outputs * (1.0 - hidden_outputs)
    return delta_hidden @ inputs_c.T, delta_out @ hidden_outputs.T
