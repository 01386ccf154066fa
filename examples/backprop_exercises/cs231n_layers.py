"""Exercise: write the backward passes of CS231n's layers, then check them against autodiff.

The forward passes are given. Fill in each ``*_backward`` (and ``dx`` in ``softmax_loss``) in
plain NumPy, then run

    python examples/backprop_exercises/cs231n_layers.py

One line per layer: ``ok`` with the relative error, or ``WRONG`` with the likely bug (a factor
of N, a transpose, a bias not summed over the batch, a missing derivative, ...). The same check
from the command line: ``tinygrad-nn check --layers cs231n_layers.py --pair affine --shapes
4x5,5x3,3``. Solutions: solutions/cs231n_layers.py (try first!).
"""

import sys

import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    raise NotImplementedError("affine_backward: return dx, dw, db (your turn)")


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    x = cache  # noqa: F841  (yours to use)
    raise NotImplementedError("relu_backward: return dx (your turn)")


def sigmoid_forward(x):
    out = 1 / (1 + np.exp(-x))
    return out, out


def sigmoid_backward(dout, cache):
    out = cache  # noqa: F841  (yours to use)
    raise NotImplementedError("sigmoid_backward: return dx (your turn)")


def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x_hat, gamma, np.sqrt(var + eps))


def batchnorm_backward(dout, cache):
    x_hat, gamma, std = cache
    raise NotImplementedError("batchnorm_backward: return dx, dgamma, dbeta (your turn)")


def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    raise NotImplementedError("softmax_loss: compute dx, the gradient of loss (your turn)")
    return loss, dx  # noqa: F821


# (name, input shapes, keyword arguments of the forward): what main() checks
JOBS = [
    ("affine", [(4, 5), (5, 3), (3,)], {}),
    ("relu", [(4, 6)], {}),
    ("sigmoid", [(4, 6)], {}),
    ("batchnorm", [(6, 4), (4,), (4,)], {"bn_param": {}}),
    ("softmax_loss", [(5, 10)], {}),
]


def main(module=None):
    """Check every job of ``module`` (this file's functions by default); exit status 1 if any
    is wrong or unfinished."""
    from tinygrad_nn.check import files

    lines, ok = files.check_pairs(module or sys.modules[__name__], JOBS)
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
