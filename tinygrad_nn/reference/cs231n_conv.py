"""Hand-derived backprop for the CS231n assignment-2 ConvNet layers, in pure NumPy.

Conventions kept (Stanford CS231n, assignment 2: layers.py, fast_layers.py, cnn.py):

- x is (N, C, H, W), w is (F, C, HH, WW), b is (F,); ``conv_param = {"stride", "pad"}``, zero
  padding, cross-correlation; H' = 1 + (H + 2 pad - HH) / stride (must divide exactly, as the
  assignment asserts).
- ``pool_param = {"pool_height", "pool_width", "stride"}``; the max-pool backward routes each
  gradient to its window's argmax (the first maximum on ties, as PyTorch).
- Spatial batchnorm: vanilla batchnorm (cs231n.batchnorm_*) on the (N*H*W, C) transpose.
- The naive layers loop over examples, filters and output pixels, as the assignment's; the
  "fast" ones are im2col with index arrays (the course's im2col.py) + one matrix product, and the
  reshape trick for square, tiling pools. The tests check fast == naive and both against
  central differences and against tinygrad_nn's autodiff.
- ``ThreeLayerConvNet``: conv - relu - 2x2 max pool - affine - relu - affine - softmax, with
  ``weight_scale``, ``reg`` (0.5 * reg * sum W^2 over W1, W2, W3) and ``dtype``.

Imports nothing from the engine (only the sibling cs231n reference), so it is an independent
check on autodiff.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from tinygrad_nn.reference import cs231n

Array = NDArray[np.floating]

__all__ = [
    "conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive",
    "max_pool_backward_naive", "conv_forward_fast", "conv_backward_fast",
    "max_pool_forward_fast", "max_pool_backward_fast", "spatial_batchnorm_forward",
    "spatial_batchnorm_backward", "im2col_indices", "ThreeLayerConvNet",
]


def _out_size(size: int, field: int, pad: int, stride: int, what: str) -> int:
    span = size + 2 * pad - field
    if span < 0 or span % stride:
        raise ValueError(f"{what}: size {size} with pad {pad}, field {field} and stride "
                         f"{stride} does not tile ((H + 2 pad - HH) % stride != 0)")
    return 1 + span // stride


# ============================================================================================
# naive layers: loops, the way the assignment writes them first
# ============================================================================================


def conv_forward_naive(x: Array, w: Array, b: Array,
                       conv_param: dict[str, int]) -> tuple[Array, tuple]:
    """out[n, f, i, j] = sum(x_pad[n, :, window(i, j)] * w[f]) + b[f]."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, _, h, wd = x.shape
    f, _, hh, ww = w.shape
    h_out = _out_size(h, hh, pad, stride, "conv_forward_naive")
    w_out = _out_size(wd, ww, pad, stride, "conv_forward_naive")
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, f, h_out, w_out), dtype=np.result_type(x, w))
    for i_n in range(n):
        for i_f in range(f):
            for i in range(h_out):
                for j in range(w_out):
                    window = x_pad[i_n, :, i * stride: i * stride + hh, j * stride: j * stride + ww]
                    out[i_n, i_f, i, j] = np.sum(window * w[i_f]) + b[i_f]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout: Array, cache: tuple) -> tuple[Array, Array, Array]:
    """Each output (n, f, i, j) sent dout * w[f] back to its window of x and dout * window to
    w[f]; db sums dout over everything but f."""
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, _, h, wd = x.shape
    f, _, hh, ww = w.shape
    _, _, h_out, w_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i_n in range(n):
        for i_f in range(f):
            for i in range(h_out):
                for j in range(w_out):
                    rows = slice(i * stride, i * stride + hh)
                    cols = slice(j * stride, j * stride + ww)
                    dw[i_f] += x_pad[i_n, :, rows, cols] * dout[i_n, i_f, i, j]
                    dx_pad[i_n, :, rows, cols] += w[i_f] * dout[i_n, i_f, i, j]
    return dx_pad[:, :, pad: pad + h, pad: pad + wd], dw, db


def max_pool_forward_naive(x: Array, pool_param: dict[str, int]) -> tuple[Array, tuple]:
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n, c, h, w = x.shape
    h_out = _out_size(h, ph, 0, stride, "max_pool_forward_naive")
    w_out = _out_size(w, pw, 0, stride, "max_pool_forward_naive")
    out = np.zeros((n, c, h_out, w_out), dtype=x.dtype)
    for i_n in range(n):
        for i_c in range(c):
            for i in range(h_out):
                for j in range(w_out):
                    window = x[i_n, i_c, i * stride: i * stride + ph, j * stride: j * stride + pw]
                    out[i_n, i_c, i, j] = np.max(window)
    return out, (x, pool_param)


def max_pool_backward_naive(dout: Array, cache: tuple) -> Array:
    """dout goes to the position of each window's maximum (np.argmax: the first on ties)."""
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n, c, h_out, w_out = dout.shape
    dx = np.zeros_like(x)
    for i_n in range(n):
        for i_c in range(c):
            for i in range(h_out):
                for j in range(w_out):
                    window = x[i_n, i_c, i * stride: i * stride + ph, j * stride: j * stride + pw]
                    p, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[i_n, i_c, i * stride + p, j * stride + q] += dout[i_n, i_c, i, j]
    return dx


# ============================================================================================
# fast layers: im2col with index arrays + one matrix product
# ============================================================================================


def im2col_indices(shape: tuple[int, ...], hh: int, ww: int, pad: int,
                   stride: int) -> tuple[Array, Array, Array]:
    """(k, i, j) such that x_pad[:, k, i, j] is the (C*hh*ww, h_out*w_out) block of windows of
    every example: row (c, p, q), column (output row, output column)."""
    _, c, h, w = shape
    h_out = _out_size(h, hh, pad, stride, "im2col")
    w_out = _out_size(w, ww, pad, stride, "im2col")
    i0 = np.tile(np.repeat(np.arange(hh), ww), c)
    j0 = np.tile(np.arange(ww), hh * c)
    i1 = stride * np.repeat(np.arange(h_out), w_out)
    j1 = stride * np.tile(np.arange(w_out), h_out)
    i = i0.reshape(-1, 1) + i1.reshape(1, -1)
    j = j0.reshape(-1, 1) + j1.reshape(1, -1)
    k = np.repeat(np.arange(c), hh * ww).reshape(-1, 1)
    return k, i, j


def _im2col(x: Array, hh: int, ww: int, pad: int, stride: int) -> Array:
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    k, i, j = im2col_indices(x.shape, hh, ww, pad, stride)
    cols = x_pad[:, k, i, j]  # (N, C*hh*ww, h_out*w_out)
    return cols.transpose(1, 2, 0).reshape(k.shape[0], -1)  # columns ordered (pixel, n)


def _col2im(cols: Array, shape: tuple[int, ...], hh: int, ww: int, pad: int,
            stride: int) -> Array:
    n, c, h, w = shape
    hp, wp = h + 2 * pad, w + 2 * pad
    k, i, j = im2col_indices(shape, hh, ww, pad, stride)
    blocks = cols.reshape(c * hh * ww, -1, n).transpose(2, 0, 1)  # (n, C*hh*ww, pixels)
    # overlapping windows accumulate: a histogram of the flat padded positions, weighted by
    # the column values (bincount; np.add.at does the same, an order of magnitude slower)
    flat = (np.arange(n).reshape(-1, 1, 1) * c + k) * (hp * wp) + i * wp + j
    x_pad = np.bincount(flat.ravel(), weights=blocks.ravel(), minlength=n * c * hp * wp)
    x_pad = x_pad.astype(cols.dtype).reshape(n, c, hp, wp)
    return x_pad[:, :, pad: pad + h, pad: pad + w]


def conv_forward_fast(x: Array, w: Array, b: Array,
                      conv_param: dict[str, int]) -> tuple[Array, tuple]:
    """im2col, then out = W (F, C*HH*WW) @ cols + b."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, _, h, wd = x.shape
    f, _, hh, ww = w.shape
    h_out = _out_size(h, hh, pad, stride, "conv_forward_fast")
    w_out = _out_size(wd, ww, pad, stride, "conv_forward_fast")
    cols = _im2col(x, hh, ww, pad, stride)
    out = w.reshape(f, -1) @ cols + b.reshape(-1, 1)
    out = out.reshape(f, h_out, w_out, n).transpose(3, 0, 1, 2)
    return out, (x, w, b, conv_param, cols)


def conv_backward_fast(dout: Array, cache: tuple) -> tuple[Array, Array, Array]:
    """dW = dout_mat @ cols^T, dcols = W^T @ dout_mat, dx = col2im(dcols)."""
    x, w, b, conv_param, cols = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    f, _, hh, ww = w.shape
    db = dout.sum(axis=(0, 2, 3))
    dout_mat = dout.transpose(1, 2, 3, 0).reshape(f, -1)
    dw = (dout_mat @ cols.T).reshape(w.shape)
    dx = _col2im(w.reshape(f, -1).T @ dout_mat, x.shape, hh, ww, pad, stride)
    return dx, dw, db


def max_pool_forward_fast(x: Array, pool_param: dict[str, int]) -> tuple[Array, tuple]:
    """The reshape trick for square pools that tile the input (the assignment's fast path);
    otherwise im2col and a max over each column."""
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n, c, h, w = x.shape
    if ph == pw == stride and h % ph == 0 and w % pw == 0:
        blocks = x.reshape(n, c, h // ph, ph, w // pw, pw)
        return blocks.max(axis=(3, 5)), (x, pool_param, "reshape", blocks)
    cols = _im2col(x.reshape(n * c, 1, h, w), ph, pw, 0, stride)
    arg = np.argmax(cols, axis=0)
    h_out, w_out = (h - ph) // stride + 1, (w - pw) // stride + 1
    out = cols[arg, np.arange(cols.shape[1])].reshape(h_out, w_out, n, c).transpose(2, 3, 0, 1)
    return out, (x, pool_param, "im2col", (cols.shape, arg))


def max_pool_backward_fast(dout: Array, cache: tuple) -> Array:
    x, pool_param, method, saved = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n, c, h, w = x.shape
    if method == "reshape":
        blocks = saved  # (n, c, h/ph, ph, w/pw, pw); route to the first maximum of each block
        flat = blocks.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // ph, w // pw, ph * pw)
        onehot = np.arange(ph * pw) == np.argmax(flat, axis=-1)[..., None]
        dflat = onehot * dout[..., None]
        return dflat.reshape(n, c, h // ph, w // pw, ph, pw).transpose(
            0, 1, 2, 4, 3, 5).reshape(x.shape)
    shape, arg = saved
    dcols = np.zeros(shape, dtype=dout.dtype)
    dcols[arg, np.arange(shape[1])] = dout.transpose(2, 3, 0, 1).reshape(-1)
    return _col2im(dcols, (n * c, 1, h, w), ph, pw, 0, stride).reshape(x.shape)


# ============================================================================================
# spatial batchnorm
# ============================================================================================


def spatial_batchnorm_forward(x: Array, gamma: Array, beta: Array,
                              bn_param: dict[str, Any]) -> tuple[Array, Any]:
    """Vanilla batchnorm per channel over (N, H, W): the (N*H*W, C) transpose."""
    n, c, h, w = x.shape
    flat = x.transpose(0, 2, 3, 1).reshape(-1, c)
    out, cache = cs231n.batchnorm_forward(flat, gamma, beta, bn_param)
    return out.reshape(n, h, w, c).transpose(0, 3, 1, 2), cache


def spatial_batchnorm_backward(dout: Array, cache: Any) -> tuple[Array, Array, Array]:
    n, c, h, w = dout.shape
    dflat = dout.transpose(0, 2, 3, 1).reshape(-1, c)
    dx, dgamma, dbeta = cs231n.batchnorm_backward(dflat, cache)
    return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), dgamma, dbeta


# ============================================================================================
# the three-layer ConvNet (cnn.py)
# ============================================================================================


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax (CS231n's cnn.py).

    Params: W1 (F, C, fs, fs), b1; W2 (F * H/2 * W/2, hidden), b2; W3 (hidden, classes), b3;
    weights N(0, weight_scale^2), biases zero. The conv keeps the size (stride 1, pad
    (fs - 1) / 2). ``loss(X)`` gives scores; ``loss(X, y)`` gives (loss, grads) with
    loss = softmax loss + 0.5 * reg * sum of W1^2, W2^2, W3^2.
    """

    def __init__(self, input_dim: tuple[int, int, int] = (3, 32, 32), num_filters: int = 32,
                 filter_size: int = 7, hidden_dim: int = 100, num_classes: int = 10,
                 weight_scale: float = 1e-3, reg: float = 0.0, dtype: Any = np.float32,
                 seed: int | None = None):
        rng = np.random.default_rng(seed)
        c, h, w = input_dim
        self.reg, self.dtype = reg, dtype
        self.params = {
            "W1": weight_scale * rng.standard_normal((num_filters, c, filter_size, filter_size)),
            "b1": np.zeros(num_filters),
            "W2": weight_scale * rng.standard_normal((num_filters * (h // 2) * (w // 2),
                                                      hidden_dim)),
            "b2": np.zeros(hidden_dim),
            "W3": weight_scale * rng.standard_normal((hidden_dim, num_classes)),
            "b3": np.zeros(num_classes),
        }
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}

    def loss(self, X: Array, y: Array | None = None, fast: bool = True) -> Any:
        p = self.params
        conv_param = {"stride": 1, "pad": (p["W1"].shape[2] - 1) // 2}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        conv_f, conv_b = ((conv_forward_fast, conv_backward_fast) if fast
                          else (conv_forward_naive, conv_backward_naive))
        pool_f, pool_b = ((max_pool_forward_fast, max_pool_backward_fast) if fast
                          else (max_pool_forward_naive, max_pool_backward_naive))
        a1, conv_cache = conv_f(X.astype(self.dtype), p["W1"], p["b1"], conv_param)
        r1, relu1_cache = cs231n.relu_forward(a1)
        pooled, pool_cache = pool_f(r1, pool_param)
        h, affine2_cache = cs231n.affine_forward(pooled, p["W2"], p["b2"])
        r2, relu2_cache = cs231n.relu_forward(h)
        scores, affine3_cache = cs231n.affine_forward(r2, p["W3"], p["b3"])
        if y is None:
            return scores
        data_loss, dscores = cs231n.softmax_loss(scores, y)
        reg_loss, dweights = cs231n.l2_loss([p["W1"], p["W2"], p["W3"]], self.reg)
        grads: dict[str, Array] = {}
        dr2, grads["W3"], grads["b3"] = cs231n.affine_backward(dscores, affine3_cache)
        dh = cs231n.relu_backward(dr2, relu2_cache)
        dpooled, grads["W2"], grads["b2"] = cs231n.affine_backward(dh, affine2_cache)
        dr1 = pool_b(dpooled, pool_cache)
        da1 = cs231n.relu_backward(dr1, relu1_cache)
        _, grads["W1"], grads["b1"] = conv_b(da1, conv_cache)
        for name, dw in zip(("W1", "W2", "W3"), dweights):
            grads[name] = grads[name] + dw
        return data_loss + reg_loss, grads
