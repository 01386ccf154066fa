"""Hand-derived backprop for Nielsen's network3.py (chapter 6), in pure NumPy.

network3 was written in Theano, which computed its gradients symbolically; this is the same
network with every backward pass written out, in his conventions (docs/REFERENCES.md, sec. 6):

- Mini-batches are rows: images (m, 1, 28, 28) into a ConvPoolLayer, (m, n_in) into the others;
  fully connected weights are stored (n_in, n_out), as his.
- ConvPoolLayer: activation(max_pool(conv(x, w)) + b), bias and activation AFTER the pooling;
  ``conv`` is Theano's conv2d, a TRUE convolution (the kernel flipped), 'valid'; max pooling
  ``ignore_border=True`` (floor). At an exact tie the gradient goes to the first maximum of the
  window (as PyTorch; the only place where a tie rule matters is a window of equal values).
- FullyConnectedLayer / SoftmaxLayer with classic dropout on their INPUT: in training the
  input is multiplied by a 0/1 mask (keep probability 1 - p) without rescaling; at test time the
  weighted input uses (1 - p) * x.
- Cost: the mean log-likelihood over the mini-batch + 0.5 * lmbda * sum(w^2) / n_batches over
  every layer's w (n_batches: the number of training mini-batches).

Each layer: ``forward(x, mask=None)`` (a mask given = training) stores what backward needs;
``backward(delta)`` takes dC/d(output) and returns dC/d(input), leaving ``dw`` and ``db``.
Imports nothing from the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

Array = NDArray[np.floating]

__all__ = ["ConvPoolLayer", "FullyConnectedLayer", "SoftmaxLayer", "Network", "theano_conv2d"]


def _activation(name: str, z: Array) -> tuple[Array, Array]:
    """(a, da/dz) for sigmoid, relu (relu'(0) = 0) or linear."""
    if name == "sigmoid":
        a = 1.0 / (1.0 + np.exp(-z))
        return a, a * (1.0 - a)
    if name == "relu":
        return np.maximum(z, 0.0), (z > 0).astype(z.dtype)
    if name == "linear":
        return z, np.ones_like(z)
    raise ValueError(f"network3: unknown activation {name!r} (sigmoid, relu, linear)")


def _correlate(x: Array, k: Array) -> Array:
    """'valid' cross-correlation: out[n, f, i, j] = sum_{c,p,q} x[n, c, i+p, j+q] k[f, c, p, q]."""
    windows = sliding_window_view(x, k.shape[2:], axis=(2, 3))  # (n, c, oh, ow, kh, kw)
    return np.einsum("ncijpq,fcpq->nfij", windows, k, optimize=True)


def theano_conv2d(x: Array, w: Array) -> Array:
    """Theano's conv2d (border 'valid'): a true convolution, i.e. the correlation with the
    kernel flipped in both spatial axes."""
    return _correlate(x, w[:, :, ::-1, ::-1])


class ConvPoolLayer:
    """activation(max_pool(theano_conv2d(x, w)) + b); w (filters, channels, kh, kw)."""

    def __init__(self, w: Array, b: Array, poolsize: tuple[int, int] = (2, 2),
                 activation: str = "sigmoid"):
        self.w, self.b, self.poolsize, self.activation = w, b, poolsize, activation

    def forward(self, x: Array, mask: Any = None) -> Array:
        conv = theano_conv2d(x, self.w)
        n, f, h, w = conv.shape
        ph, pw = self.poolsize
        oh, ow = h // ph, w // pw
        blocks = conv[:, :, : oh * ph, : ow * pw].reshape(n, f, oh, ph, ow, pw)
        blocks = blocks.transpose(0, 1, 2, 4, 3, 5).reshape(n, f, oh, ow, ph * pw)
        arg = np.argmax(blocks, axis=-1)  # the first maximum on ties
        pooled = np.take_along_axis(blocks, arg[..., None], axis=-1)[..., 0]
        a, self.da = _activation(self.activation, pooled + self.b.reshape(1, -1, 1, 1))
        self.x, self.arg, self.conv_shape = x, arg, conv.shape
        return a

    def backward(self, delta: Array) -> Array:
        dz = delta * self.da
        self.db = dz.sum(axis=(0, 2, 3))
        n, f, h, w = self.conv_shape
        ph, pw = self.poolsize
        oh, ow = dz.shape[2:]
        # the pool: each dz goes to its window's maximum (zeros elsewhere, and at cropped rows)
        onehot = np.arange(ph * pw) == self.arg[..., None]
        dblocks = (onehot * dz[..., None]).reshape(n, f, oh, ow, ph, pw)
        dconv = np.zeros(self.conv_shape, dtype=dz.dtype)
        dconv[:, :, : oh * ph, : ow * pw] = dblocks.transpose(0, 1, 2, 4, 3, 5).reshape(
            n, f, oh * ph, ow * pw)
        # the convolution with the flipped kernel wf = w[:, :, ::-1, ::-1]:
        # dC/dwf = correlation of x with dconv; dC/dw is that flipped back
        windows = sliding_window_view(self.x, self.w.shape[2:], axis=(2, 3))
        dwf = np.einsum("ncijpq,nfij->fcpq", windows, dconv, optimize=True)
        self.dw = dwf[:, :, ::-1, ::-1]
        # dC/dx: every output (i, j) sends dconv * wf[:, :, p, q] to x[i + p, j + q]
        wf = self.w[:, :, ::-1, ::-1]
        dx = np.zeros_like(self.x)
        for p in range(wf.shape[2]):
            for q in range(wf.shape[3]):
                dx[:, :, p: p + h, q: q + w] += np.einsum("nfij,fc->ncij", dconv, wf[:, :, p, q])
        return dx


class FullyConnectedLayer:
    """activation(x_in @ w + b) with x_in = x * mask (training) or (1 - p) * x (test)."""

    def __init__(self, w: Array, b: Array, activation: str = "sigmoid", p_dropout: float = 0.0):
        self.w, self.b, self.activation, self.p = w, b, activation, p_dropout

    def _input(self, x: Array, mask: Array | None) -> Array:
        x = x.reshape(len(x), -1)
        self.mask = mask
        return x * mask if mask is not None else x * (1.0 - self.p)

    def forward(self, x: Array, mask: Array | None = None) -> Array:
        self.x_shape = x.shape
        self.x_in = self._input(x, mask)
        a, self.da = _activation(self.activation, self.x_in @ self.w + self.b)
        return a

    def _input_backward(self, dz: Array) -> Array:
        self.dw = self.x_in.T @ dz
        self.db = dz.sum(axis=0)
        dx = dz @ self.w.T
        dx = dx * self.mask if self.mask is not None else dx * (1.0 - self.p)
        return dx.reshape(self.x_shape)

    def backward(self, delta: Array) -> Array:
        return self._input_backward(delta * self.da)


class SoftmaxLayer(FullyConnectedLayer):
    """softmax(x_in @ w + b); its ``backward`` takes the labels: the cost's gradient at the
    softmax output, -(1/m) [y] / p, composed with the softmax, is (p - onehot(y)) / m."""

    def __init__(self, w: Array, b: Array, p_dropout: float = 0.0):
        super().__init__(w, b, "linear", p_dropout)

    def forward(self, x: Array, mask: Array | None = None) -> Array:
        self.x_shape = x.shape
        self.x_in = self._input(x, mask)
        z = self.x_in @ self.w + self.b
        e = np.exp(z - z.max(axis=1, keepdims=True))
        self.p_out = e / e.sum(axis=1, keepdims=True)
        return self.p_out

    def backward(self, y: Array) -> Array:  # type: ignore[override]
        m = len(y)
        dz = self.p_out.copy()
        dz[np.arange(m), y] -= 1.0
        return self._input_backward(dz / m)


class Network:
    """The layers in order, network3's cost, and its gradients by hand."""

    def __init__(self, layers: Sequence[Any]):
        self.layers = list(layers)

    def cost_and_grads(self, x: Array, y: Array, lmbda: float = 0.0, n_batches: int = 1,
                       masks: Sequence[Array | None] | None = None
                       ) -> tuple[float, list[tuple[Array, Array]]]:
        """(cost, [(dw, db) per layer]); ``masks``: one dropout mask (or None) per layer."""
        masks = [None] * len(self.layers) if masks is None else list(masks)
        a = x
        for layer, mask in zip(self.layers, masks):
            a = layer.forward(a, mask)
        m = len(y)
        cost = -np.mean(np.log(a[np.arange(m), y]))
        cost += 0.5 * lmbda * sum(float(np.sum(la.w ** 2)) for la in self.layers) / n_batches
        delta = self.layers[-1].backward(y)
        for layer in reversed(self.layers[:-1]):
            delta = layer.backward(delta)
        return cost, [(la.dw + lmbda / n_batches * la.w, la.db) for la in self.layers]
