"""Solutions to ../cs231n_layers.py: the backward passes (the forwards are imported from there).

    python examples/backprop_exercises/solutions/cs231n_layers.py
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cs231n_layers import (  # noqa: E402,F401  (the exercise's forwards, unchanged)
    affine_forward,
    batchnorm_forward,
    main,
    relu_forward,
    sigmoid_forward,
)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = dout.sum(axis=0)  # b is added to every example: sum their gradients
    return dx, dw, db


def relu_backward(dout, cache):
    x = cache
    return dout * (x > 0)


def sigmoid_backward(dout, cache):
    out = cache
    return dout * out * (1 - out)


def batchnorm_backward(dout, cache):
    x_hat, gamma, std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx = gamma / (N * std) * (N * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    dx /= N  # the loss is a mean over the batch
    return loss, dx


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
