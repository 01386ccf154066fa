"""The differentiable primitives: each op's forward and its vector-Jacobian product side by side.

Gradient formulas receive ``g`` (the gradient of the output), ``out`` (the output) and the
inputs. They are ndarrays on the fast path and Tensors when the backward pass is recorded
(``create_graph=True``), so the formulas use only what both types share: operators, ``.T``,
``.sum``, ``.reshape``, ``.swapaxes``, ``.astype``, indexing, and the few helpers just below.
The engine reduces broadcast gradients and casts dtypes (autograd.py), so formulas here may
return a gradient of the broadcast shape.

Everything not here (mean, var, logsumexp, leaky_relu, the other losses, ...) is composed from
these ops (tensor.py's "composed ops", nn/functional.py) and needs no gradient code of its own.
"""

from __future__ import annotations

import math

import numpy as np

from .autograd import Function
from .tensor import Tensor

# ============================================================================================
# helpers: the few places where ndarray and Tensor spell an operation differently
# ============================================================================================


def _exp(a):
    return a.exp() if isinstance(a, Tensor) else np.exp(a)


def _log(a):
    return a.log() if isinstance(a, Tensor) else np.log(a)


def _array(a):
    """The values, for computing masks: masks are piecewise constant, never differentiated."""
    return a.data if isinstance(a, Tensor) else a


def _broadcast_to(a, shape):
    if isinstance(a, Tensor):
        return a.expand(shape)
    # NOTE: a filled copy, not np.broadcast_to: that view costs ~2 us to make, which dominates
    # small reductions, and consumers of the gradient read every element anyway.
    out = np.empty(shape, dtype=a.dtype)
    out[...] = a
    return out


def _permute(a, axes):
    return a.permute(*axes) if isinstance(a, Tensor) else a.transpose(axes)


def _keepdims_shape(shape, axis):
    return tuple(1 if i in axis else s for i, s in enumerate(shape))


# ============================================================================================
# elementwise, binary
# ============================================================================================


class Add(Function):
    """d(x + y) = g, g"""

    def forward(self, x, y):
        return x + y

    def backward(self, g, out, x, y):
        return g, g


class Sub(Function):
    """d(x - y) = g, -g"""

    def forward(self, x, y):
        return x - y

    def backward(self, g, out, x, y):
        return g, (-g if self.needs_input_grad[1] else None)


class Mul(Function):
    """d(x * y) = g * y, g * x"""

    def forward(self, x, y):
        return x * y

    def backward(self, g, out, x, y):
        gx = g * y if self.needs_input_grad[0] else None
        gy = g * x if self.needs_input_grad[1] else None
        return gx, gy


class Div(Function):
    """d(x / y) = g / y, -g * x / y**2 (written with the output: -g * out / y)"""

    def forward(self, x, y):
        return x / y

    def backward(self, g, out, x, y):
        gx = g / y if self.needs_input_grad[0] else None
        gy = -g * out / y if self.needs_input_grad[1] else None
        return gx, gy


class Pow(Function):
    """d(x ** y) = g * y * x**(y - 1), g * x**y * log(x)"""

    def forward(self, x, y):
        return x**y

    def backward(self, g, out, x, y):
        gx = g * y * x ** (y - 1) if self.needs_input_grad[0] else None
        gy = g * out * _log(x) if self.needs_input_grad[1] else None
        return gx, gy


class PowScalar(Function):
    """d (x ** c) = g * c * x**(c - 1) for a constant exponent c (NumPy's fast path for x ** 2)"""

    def forward(self, x, exponent):
        self.exponent = exponent
        return x**exponent

    def backward(self, g, out, x):
        c = self.exponent
        return g * c * x ** (c - 1)


class Maximum(Function):
    """d max(x, y): the gradient goes to the larger input; ties split it half and half (PyTorch)"""

    def forward(self, x, y):
        return np.maximum(x, y)

    def backward(self, g, out, x, y):
        xv, yv = _array(x), _array(y)
        share_x = (xv > yv) + 0.5 * (xv == yv)
        gx = g * share_x if self.needs_input_grad[0] else None
        gy = g * (1.0 - share_x) if self.needs_input_grad[1] else None
        return gx, gy


class Minimum(Function):
    """d min(x, y): the gradient goes to the smaller input; ties split it half and half (PyTorch)"""

    def forward(self, x, y):
        return np.minimum(x, y)

    def backward(self, g, out, x, y):
        xv, yv = _array(x), _array(y)
        share_x = (xv < yv) + 0.5 * (xv == yv)
        gx = g * share_x if self.needs_input_grad[0] else None
        gy = g * (1.0 - share_x) if self.needs_input_grad[1] else None
        return gx, gy


class Where(Function):
    """where(cond, x, y): d = g where cond, 0 elsewhere; and the reverse for y. cond is constant."""

    def forward(self, x, y, cond):
        self.cond = cond
        return np.where(cond, x, y)

    def backward(self, g, out, x, y):
        gx = g * self.cond if self.needs_input_grad[0] else None
        gy = g * ~self.cond if self.needs_input_grad[1] else None
        return gx, gy



# ============================================================================================
# elementwise, unary
# ============================================================================================


class Neg(Function):
    """d(-x) = -g"""

    def forward(self, x):
        return -x

    def backward(self, g, out, x):
        return -g


class Exp(Function):
    """d exp(x) = g * exp(x); the output is that exp, so nothing is saved"""

    def forward(self, x):
        return np.exp(x)

    def backward(self, g, out, x):
        return g * out


class Log(Function):
    """d log(x) = g / x"""

    def forward(self, x):
        return np.log(x)

    def backward(self, g, out, x):
        return g / x


class Sqrt(Function):
    """d sqrt(x) = g / (2 sqrt(x)), from the output"""

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, g, out, x):
        return g / (out * 2.0)


class Abs(Function):
    """d |x| = g * sign(x); abs'(0) = 0 as in PyTorch"""

    def forward(self, x):
        return np.abs(x)

    def backward(self, g, out, x):
        return g * np.sign(_array(x))


class Tanh(Function):
    """d tanh(x) = g * (1 - tanh(x)**2), from the output"""

    def forward(self, x):
        return np.tanh(x)

    def backward(self, g, out, x):
        return g * (1.0 - out * out)


class Sigmoid(Function):
    """d sigmoid(x) = g * s * (1 - s) with s = sigmoid(x), the output"""

    def forward(self, x):
        # NOTE: 1/(1+exp(-x)) overflows (with a warning) for x < -709; the tanh form never does,
        # costs one transcendental like exp, and is exact to rounding elsewhere.
        out = np.tanh(x * 0.5)
        out *= 0.5  # in place: the temporary is ours, and small arrays pay per allocation
        out += 0.5
        return out

    def backward(self, g, out, x):
        return g * out * (1.0 - out)


class Relu(Function):
    """d relu(x) = g where x > 0, else 0 (relu'(0) = 0 as in PyTorch)"""

    def forward(self, x):
        return np.maximum(x, 0.0)

    def backward(self, g, out, x):
        return g * (_array(out) > 0)


class Clip(Function):
    """d clip(x, lo, hi) = g where lo <= x <= hi (bounds included, as torch.clamp), else 0"""

    def forward(self, x, lo, hi):
        self.lo, self.hi = lo, hi
        return np.clip(x, lo, hi)

    def backward(self, g, out, x):
        xv = _array(x)  # the mask is made here, not in forward: inference never pays for it
        inside = np.ones(xv.shape, dtype=bool)
        if self.lo is not None:
            inside &= xv >= self.lo
        if self.hi is not None:
            inside &= xv <= self.hi
        return g * inside


class Cast(Function):
    """Change dtype; the engine casts the gradient back to the input's dtype."""

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, g, out, x):
        return g


class Sin(Function):
    """d sin(x) = g * cos(x)"""

    def forward(self, x):
        return np.sin(x)

    def backward(self, g, out, x):
        return g * (x.cos() if isinstance(x, Tensor) else np.cos(x))


class Cos(Function):
    """d cos(x) = -g * sin(x)"""

    def forward(self, x):
        return np.cos(x)

    def backward(self, g, out, x):
        return -g * (x.sin() if isinstance(x, Tensor) else np.sin(x))


class Log1p(Function):
    """d log(1 + x) = g / (1 + x); exact for tiny x, where log(1 + x) rounds"""

    def forward(self, x):
        return np.log1p(x)

    def backward(self, g, out, x):
        return g / (x + 1.0)


class Expm1(Function):
    """d (exp(x) - 1) = g * exp(x) = g * (out + 1), from the output"""

    def forward(self, x):
        return np.expm1(x)

    def backward(self, g, out, x):
        return g * (out + 1.0)


_erf = np.frompyfunc(math.erf, 1, 1)  # NumPy has no erf; libm's is exact to rounding


class Erf(Function):
    """d erf(x) = g * 2/sqrt(pi) * exp(-x**2)"""

    def forward(self, x):
        return np.asarray(_erf(x), dtype=x.dtype)

    def backward(self, g, out, x):
        return g * (2.0 / math.sqrt(math.pi)) * _exp(-(x * x))


class Step(Function):
    """sign, floor, ceil, round: piecewise constant, so the gradient is 0 (as in PyTorch)"""

    def forward(self, x, fn):
        return fn(x)

    def backward(self, g, out, x):
        return g * 0.0


# ============================================================================================
# reductions
# ============================================================================================


class Sum(Function):
    """d sum(x, axis) = g broadcast back over the summed axes"""

    def forward(self, x, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims
        return np.asarray(x.sum(axis=axis, keepdims=keepdims))

    def backward(self, g, out, x):
        if self.axis is not None and not self.keepdims:
            g = g.reshape(_keepdims_shape(x.shape, self.axis))
        return _broadcast_to(g, x.shape)


class Max(Function):
    """d max(x, axis): g to the maxima; ties share it evenly (torch.amax / full torch.max)"""

    def forward(self, x, axis, keepdims):
        self.axis, self.kept = axis, _keepdims_shape(x.shape, axis)
        return np.asarray(x.max(axis=axis, keepdims=keepdims))

    def backward(self, g, out, x):
        is_max = _array(x) == _array(out).reshape(self.kept)
        share = is_max / is_max.sum(axis=self.axis, keepdims=True)
        return g.reshape(self.kept) * share


class Softmax(Function):
    """d softmax(x) = s * (g - sum(g * s)) along the axis, s the output"""

    def forward(self, x, axis):
        self.axis = axis
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    def backward(self, g, out, x):
        return out * (g - (g * out).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """d log_softmax(x) = g - softmax(x) * sum(g) along the axis; softmax = exp(output)"""

    def forward(self, x, axis):
        self.axis = axis
        shifted = x - x.max(axis=axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(self, g, out, x):
        return g - _exp(out) * g.sum(axis=self.axis, keepdims=True)



class Cumsum(Function):
    """d cumsum(x, axis) = the reversed cumulative sum of g along the axis"""

    def forward(self, x, axis):
        self.axis = axis
        return np.cumsum(x, axis=axis)

    def backward(self, g, out, x):
        if isinstance(g, Tensor):
            return g.flip(self.axis).cumsum(self.axis).flip(self.axis)
        return np.flip(np.cumsum(np.flip(g, self.axis), axis=self.axis), self.axis)


# ============================================================================================
# movement
# ============================================================================================


class Reshape(Function):
    """d reshape(x) = g reshaped back"""

    def forward(self, x, shape):
        return x.reshape(shape)

    def backward(self, g, out, x):
        return g.reshape(x.shape)


class Permute(Function):
    """d permute(x, axes) = g permuted by the inverse permutation"""

    def forward(self, x, axes):
        self.axes = axes
        return x.transpose(axes)

    def backward(self, g, out, x):
        return _permute(g, tuple(np.argsort(self.axes).tolist()))


class Expand(Function):
    """d broadcast_to(x, shape) = g summed over the broadcast axes (the engine's unbroadcast)"""

    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, g, out, x):
        return g


class Getitem(Function):
    """d x[index] = g scattered back into zeros; repeated integer indices accumulate"""

    def forward(self, x, index):
        self.index = index
        return x[index]

    def backward(self, g, out, x):
        if isinstance(g, Tensor):
            return IndexAdd.apply(g, index=self.index, shape=x.shape)
        return IndexAdd().forward(g, self.index, x.shape)


class IndexAdd(Function):
    """zeros(shape) with g added at index (the adjoint of Getitem); d = g[index]"""

    def forward(self, g, index, shape):
        self.index = index
        result = np.zeros(shape, dtype=g.dtype)
        if any(isinstance(i, np.ndarray) for i in index):
            np.add.at(result, index, g)  # unbuffered: x[[0, 0]] must count twice
        else:
            result[index] = g  # basic indexing never repeats an element
        return result

    def backward(self, g, out, x):
        return g[self.index]


class Cat(Function):
    """d cat(xs, axis) = the matching slices of g"""

    def forward(self, *xs, axis):
        self.axis = axis
        return np.concatenate(xs, axis=axis)

    def backward(self, g, out, *xs):
        grads, start = [], 0
        for x, needed in zip(xs, self.needs_input_grad):
            stop = start + x.shape[self.axis]
            index = (slice(None),) * (self.axis % g.ndim) + (slice(start, stop),)
            grads.append(g[index] if needed else None)
            start = stop
        return tuple(grads)



# ============================================================================================
# matrix products
# ============================================================================================


class Matmul(Function):
    """d (x @ y) = g @ y^T, x^T @ g (vectors are promoted to matrices and back, as NumPy does)"""

    def forward(self, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError("matmul needs at least 1-D operands, got a 0-D (scalar) one")
        inner_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
        if x.shape[-1] != inner_y:
            raise ValueError(
                f"shapes {x.shape} and {y.shape} do not align ({x.shape[-1]} != {inner_y})"
            )
        return x @ y

    def backward(self, g, out, x, y):
        if x.ndim == 2 and y.ndim == 2:  # the common case, without the promotions below
            gx = g @ y.T if self.needs_input_grad[0] else None
            gy = x.T @ g if self.needs_input_grad[1] else None
            return gx, gy
        x2 = x.reshape(1, -1) if x.ndim == 1 else x
        y2 = y.reshape(-1, 1) if y.ndim == 1 else y
        if x.ndim == 1:
            g = g.reshape(g.shape[:-1] + (1, g.shape[-1]) if y.ndim > 1 else (1, 1))
        if y.ndim == 1:
            g = g.reshape(g.shape + (1,))
        gx = gy = None
        if self.needs_input_grad[0]:
            gx = g @ y2.swapaxes(-1, -2)
            if x.ndim == 1:
                gx = gx.reshape(gx.shape[:-2] + (gx.shape[-1],))
        if self.needs_input_grad[1]:
            gy = x2.swapaxes(-1, -2) @ g
            if y.ndim == 1:
                gy = gy.reshape(gy.shape[:-1])
        return gx, gy


class Linear(Function):
    """x @ w.T + b fused (PyTorch's layout, w is (out, in)): d = g @ w, g^T @ x, sum of g

    One node instead of three (matmul, transpose, add) is what makes small batches fast.
    """

    def forward(self, x, w, b=None):
        if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
            raise ValueError(
                f"input {x.shape} does not match weight {w.shape} (expected an input of shape "
                "(..., in) and a weight of shape (out, in))"
            )
        out = x @ w.T
        if b is None:
            return out
        if b.dtype == out.dtype:
            out += b  # the product is a fresh array: adding in place saves an allocation
            return out
        return out + b

    def backward(self, g, out, x, w, b=None):
        g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])  # rows: one per example
        gx = g @ w if self.needs_input_grad[0] else None
        gw = None
        if self.needs_input_grad[1]:
            gw = g2.T @ (x if x.ndim == 2 else x.reshape(-1, x.shape[-1]))
        if b is None:
            return gx, gw
        gb = g2.sum(axis=0) if self.needs_input_grad[2] else None
        return gx, gw, gb


class Einsum(Function):
    """d einsum(spec, *xs) for input i = einsum(out, other inputs -> input i's subscripts) of g

    ``spec`` is explicit ("ij,jk->ik") with no ellipsis (functional.einsum spells it out).
    Subscripts that appear only in input i are summed over: their gradient is g broadcast, so a
    ones array of input i's shape carries them. A subscript repeated in input i (the diagonal, as
    in "ii->") is given a fresh letter and the result masked to that diagonal.
    """

    def forward(self, *xs, spec):
        self.spec = spec
        return np.asarray(np.einsum(spec, *xs))

    def backward(self, g, out, *xs):
        lhs, rhs = self.spec.split("->")
        subs = lhs.split(",")
        grads = []
        for i, (x, needed) in enumerate(zip(xs, self.needs_input_grad)):
            if not needed:
                grads.append(None)
                continue
            distinct, mask = _distinct_subscripts(subs[i], x.shape)
            others = [s for j, s in enumerate(subs) if j != i]
            operands = [g, *[xs[j] for j in range(len(xs)) if j != i]]
            spec = ",".join([rhs, *others, distinct]) + "->" + distinct
            operands.append(np.ones(x.shape, dtype=_array(x).dtype))
            grad = _einsum(spec, operands)
            grads.append(grad if mask is None else grad * mask)
        return tuple(grads)


def _distinct_subscripts(sub, shape):
    """Subscripts with repeats renamed (the diagonal "ii" -> "iA"), and the 0/1 diagonal mask."""
    if len(set(sub)) == len(sub):
        return sub, None
    free = iter(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in sub)
    renamed, first = [], {}
    mask = np.ones(shape, dtype=bool)
    grid = np.indices(shape, sparse=True)
    for k, c in enumerate(sub):
        if c in first:
            renamed.append(next(free))
            mask = mask & (grid[k] == grid[first[c]])
        else:
            first[c] = k
            renamed.append(c)
    return "".join(renamed), mask


def _einsum(spec, operands):
    if any(isinstance(o, Tensor) for o in operands):
        lifted = [o if isinstance(o, Tensor) else Tensor._make(np.asarray(o), None)
                  for o in operands]
        return Einsum.apply(*lifted, spec=spec)
    return np.einsum(spec, *operands)


# ============================================================================================
# fused losses: one node instead of several, where small batches make per-node cost dominate
# ============================================================================================


class SquaredErrorSum(Function):
    """scale * sum((x - y)**2): d = 2 * scale * (x - y) * g, and its negation for y

    MSE and Nielsen's quadratic cost are this op with different scales; as one node it costs a
    quarter of sub, square, sum and scale recorded separately (nn.functional keeps the composed
    form, and the tests check one against the other).
    """

    def forward(self, x, y, scale):
        self.scale = scale
        diff = x - y
        return np.asarray(scale * np.vdot(diff, diff))

    def backward(self, g, out, x, y):
        gx = (g * (2.0 * self.scale)) * (x - y)
        return gx, (-gx if self.needs_input_grad[1] else None)


class CrossEntropy(Function):
    """Fused, stable softmax cross-entropy on logits x (N, C) with target distribution q:

        loss_i = -sum_c q_ic log_softmax(x)_ic,  q = (1 - eps) * target + eps / C

    d loss_i / dx_i = softmax(x_i) * sum_c q_ic - q_i;  d loss_i / d target_i = -(1 - eps) logp_i.
    The target is a one-hot of integer ``labels`` (not an input) or probabilities (input 1, so
    a probability target that requires grad gets its gradient, as in PyTorch).
    """

    def forward(self, x, probs=None, *, labels, smoothing, reduction):
        self.labels, self.smoothing, self.reduction = labels, smoothing, reduction
        shifted = x - x.max(axis=-1, keepdims=True)
        self.logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        if labels is not None:
            picked = np.take_along_axis(self.logp, labels[..., None], axis=-1)[..., 0]
            per_example = -(1.0 - smoothing) * picked
        else:
            per_example = -(1.0 - smoothing) * (probs * self.logp).sum(axis=-1)
        if smoothing:
            per_example = per_example - smoothing * self.logp.mean(axis=-1)
        if reduction == "none":
            return per_example
        total = per_example.sum()
        return np.asarray(total / per_example.size if reduction == "mean" else total,
                          dtype=x.dtype)

    def _target(self, probs, like):
        """q, the smoothed target distribution, as an ndarray or (for probs) a Tensor."""
        classes = like.shape[-1]
        if self.labels is not None:
            onehot = np.zeros(like.shape, dtype=like.dtype)
            np.put_along_axis(onehot, self.labels[..., None], 1.0, axis=-1)
            q = onehot
        else:
            q = probs
        if self.smoothing:
            q = q * (1.0 - self.smoothing) + self.smoothing / classes
        return q

    def backward(self, g, out, x, probs=None):
        # NOTE: when the backward pass is recorded (create_graph), log-softmax is recomputed as a
        # Tensor op so that second derivatives see its dependence on x; the saved array would not.
        logp = x.log_softmax(-1) if isinstance(x, Tensor) else self.logp
        count = int(np.prod(x.shape[:-1]))
        if self.reduction == "none":
            g = g.reshape(tuple(x.shape[:-1]) + (1,))
        elif self.reduction == "mean":
            g = g * (1.0 / count)
        q = self._target(probs, self.logp)
        gx = None
        if self.needs_input_grad[0]:
            gx = g * (_exp(logp) * q.sum(axis=-1, keepdims=True) - q)
        if probs is None:
            return gx
        gp = g * logp * (self.smoothing - 1.0) if self.needs_input_grad[1] else None
        return gx, gp
